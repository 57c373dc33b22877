package httpapi

import (
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// meByEncode is GET /api/me/'s body as encode would write meBody: the reference appendMe
// must match.
func meByEncode(t *testing.T, u ciphemic.User) string {
	t.Helper()
	body, err := marshal(meBody{
		ID: u.ID, Username: u.Username, Email: u.Email,
		Roles: []ciphemic.Role{u.Role}, IsActive: u.IsActive,
		DateJoined: formatTime(u.DateJoined), LastLogin: formatTime(u.LastLogin),
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func FuzzAppendMe(f *testing.F) {
	f.Add(int64(1), "alice", "alice@example.com", "student", true, int64(1764768000123456789), int64(0))
	f.Add(int64(-5), "ａdmin\u2028", "<a&b>\"\\\x01\b\f", "", false, int64(0), int64(-62135596800))
	f.Add(int64(1<<62), "bad\xff", "", "teacher", true, int64(253402300799999999), int64(1))
	f.Fuzz(func(t *testing.T, id int64, username, email, role string, active bool, joined, last int64) {
		u := ciphemic.User{ID: id, Username: username, Email: email, Role: ciphemic.Role(role), IsActive: active,
			DateJoined: time.Unix(0, joined), LastLogin: time.Unix(0, last)}
		if last == 0 {
			u.LastLogin = time.Time{}
		}
		if got, want := string(appendMe(nil, u)), meByEncode(t, u); got != want {
			t.Fatalf("appendMe(%+v) =\n %s\nwant\n %s", u, got, want)
		}
	})
}
