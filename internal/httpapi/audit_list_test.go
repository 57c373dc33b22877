package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// mustRecordAudit stores e directly, for the list tests.
func (in *instance) mustRecordAudit(t testing.TB, e ciphemic.AuditEvent) {
	t.Helper()
	if err := in.db.RecordAuditEvent(context.Background(), e); err != nil {
		t.Fatalf("RecordAuditEvent(%s): %v", e.Kind, err)
	}
}

// ids lists the "id" of each result.
func (p listPage) ids() []int64 {
	var out []int64
	for _, r := range p.Results {
		id, _ := r["id"].(float64)
		out = append(out, int64(id))
	}
	return out
}

// TestAuditListPermissions: the audit trail is the admins' alone, for every method.
func TestAuditListPermissions(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	for _, path := range []string{"/api/audit/", "/api/audit"} {
		wantStatusBody(t, in.call(t, actor{}, "GET", path, nil), 401, bodyNotProvided)
		for _, a := range []actor{s.teacher, s.student} {
			for _, method := range []string{"GET", "POST", "DELETE"} {
				wantStatusBody(t, in.call(t, a, method, path, nil), 403, `{"detail":"You do not have permission to perform this action."}`)
			}
		}
		if r := in.call(t, s.admin, "GET", path, nil); r.status != http.StatusOK {
			t.Errorf("GET %s as admin = %d %s, want 200", path, r.status, r.body)
		}
		wantStatusBody(t, in.call(t, s.admin, "DELETE", path, nil), 405, `{"detail":"Method \"DELETE\" not allowed."}`)
	}
}

// TestAuditListBody: an event is shown with every field, unknown ids as null.
func TestAuditListBody(t *testing.T) {
	in := newInstance(t, options{})
	admin := in.mustActor(t, "root", ciphemic.RoleAdmin)
	at := time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)
	in.mustRecordAudit(t, ciphemic.AuditEvent{At: at, Kind: ciphemic.AuditLoginThrottled, Username: "mallory",
		ClientIP: "203.0.113.7", RequestID: "00112233aabbccdd", Detail: "d"})
	want := `{"count":1,"next":null,"previous":null,"results":[{"id":1,"at":"2030-01-02T03:04:05.678901Z",` +
		`"kind":"login.throttled","outcome":"denied","actor_id":null,"user_id":null,"username":"mallory",` +
		`"client_ip":"203.0.113.7","request_id":"00112233aabbccdd","detail":"d"}]}`
	wantStatusBody(t, in.call(t, admin, "GET", "/api/audit/", nil), 200, want)
}

// TestAuditListQuery: newest first by default, pages as every list, the filters and the
// orderings, and 400s for bad filters and orderings.
func TestAuditListQuery(t *testing.T) {
	in := newInstance(t, options{})
	admin := in.mustActor(t, "root", ciphemic.RoleAdmin)
	base := in.clock.Now()
	// 25 events: ids 1..25, a minute apart, so that at and id orders agree; users 1 and 2
	// alternate, and every fifth is a failed login.
	for i := 1; i <= 25; i++ {
		e := ciphemic.AuditEvent{At: base.Add(time.Duration(i) * time.Minute), Kind: ciphemic.AuditTokenRefresh, UserID: int64(1 + i%2)}
		if i%5 == 0 {
			e = ciphemic.AuditEvent{At: e.At, Kind: ciphemic.AuditLoginFailure, Username: fmt.Sprintf("guess%d", i)}
		}
		in.mustRecordAudit(t, e)
	}
	url := in.srv.URL + "/api/audit/"
	tests := []struct {
		query          string
		count          int64
		ids            []int64
		next, previous string
	}{
		{"", 25, span(25, 6), url + "?page=2", "<nil>"},
		{"?page=2&page_size=10", 25, span(15, 6), url + "?page=3&page_size=10", url + "?page_size=10"},
		{"?page=last&page_size=10", 25, span(5, 1), "<nil>", url + "?page=2&page_size=10"},
		{"?ordering=at&page_size=3", 25, []int64{1, 2, 3}, url + "?ordering=at&page=2&page_size=3", "<nil>"},
		{"?ordering=-id&page_size=2", 25, []int64{25, 24}, url + "?ordering=-id&page=2&page_size=2", "<nil>"},
		{"?kind=login.failure", 5, []int64{25, 20, 15, 10, 5}, "<nil>", "<nil>"},
		{"?user_id=1&kind=token.refresh&ordering=id&page_size=3", 10, []int64{2, 4, 6}, url + "?kind=token.refresh&ordering=id&page=2&page_size=3&user_id=1", "<nil>"},
		{"?user_id=99", 0, nil, "<nil>", "<nil>"},
		{"?search=GUESS1", 2, []int64{15, 10}, "<nil>", "<nil>"},
		{"?user_id=&kind=", 25, span(25, 6), url + "?kind=&page=2&user_id=", "<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			p := mustPage(t, in.call(t, admin, "GET", "/api/audit/"+tt.query, nil))
			if p.Count != tt.count || !slices.Equal(p.ids(), tt.ids) || strOrNil(p.Next) != tt.next || strOrNil(p.Previous) != tt.previous {
				t.Errorf("GET /api/audit/%s = count %d, ids %v, next %s, previous %s; want %d, %v, %s, %s", tt.query,
					p.Count, p.ids(), strOrNil(p.Next), strOrNil(p.Previous), tt.count, tt.ids, tt.next, tt.previous)
			}
		})
	}
	orderingErr := `{"ordering":["Invalid ordering. Order by one of: at, id; prefix a field with \"-\" for descending order."]}`
	for query, body := range map[string]string{
		"?page=3":                  `{"detail":"Invalid page."}`,
		"?ordering=username":       orderingErr,
		"?ordering=kind":           orderingErr,
		"?ordering=at;DROP":        orderingErr,
		"?user_id=abc":             `{"user_id":["Enter a whole number."]}`,
		"?user_id=0":               `{"user_id":["Enter a whole number."]}`,
		"?kind=login":              `{"kind":["Select a valid choice. login is not one of the available choices."]}`,
		"?user_id=-1&kind=nothing": `{"user_id":["Enter a whole number."],"kind":["Select a valid choice. nothing is not one of the available choices."]}`,
	} {
		status := 400
		if strings.Contains(body, "Invalid page") {
			status = 404
		}
		wantStatusBody(t, in.call(t, admin, "GET", "/api/audit/"+query, nil), status, body)
	}
}

// span is from, from-1, …, down to to: ids newest first.
func span(from, to int64) []int64 {
	var out []int64
	for id := from; id >= to; id-- {
		out = append(out, id)
	}
	return out
}

// failingAudit is the real store whose audit writes fail, as when the audit table is
// unwritable.
type failingAudit struct{ *store.DB }

func (failingAudit) RecordAuditEvent(context.Context, ciphemic.AuditEvent) error {
	return errors.New("audit store down")
}

// TestAuditFailureDoesNotLockOut: when audit writes fail, logins and failed logins are
// answered as ever and the failure is logged. A refresh writes its event in its
// rotation's own transaction (one commit instead of two), so it is stored with it.
func TestAuditFailureDoesNotLockOut(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "alice", "alice-password", ciphemic.RoleStudent)
	logs := &logBuffer{}
	cfg := Config{RotateRefreshTokens: true, BlacklistAfterRotation: true, Now: in.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	srv := httptest.NewServer(checkContract(t, NewServer(cfg, Deps{Store: failingAudit{in.db}, School: in.db,
		Tokens: in.tokens, Revocations: in.view, Passwords: in.hasher})))
	t.Cleanup(srv.Close)
	broken := &instance{srv: srv, db: in.db, tokens: in.tokens, view: in.view, hasher: in.hasher, clock: in.clock}

	access, refresh := broken.login(t, "alice", "alice-password")
	if r := broken.postJSON(t, "/api/token/", map[string]string{"username": "alice", "password": "wrong"}); r.status != 401 {
		t.Errorf("failed login with the audit store down = %d %s, want 401", r.status, r.body)
	}
	broken.mustRefresh(t, refresh)
	if r := broken.get(t, "/api/me/", access); r.status != 200 {
		t.Errorf("GET /api/me/ with the audit store down = %d %s, want 200", r.status, r.body)
	}
	failures := logs.records(t, "audit event not stored")
	if len(failures) != 2 || failures[0]["level"] != "ERROR" || failures[0]["kind"] != "login.success" {
		t.Errorf("logged audit failures = %v, want 2 errors, the first of login.success", failures)
	}
	events, _, err := in.db.ListAuditEvents(context.Background(), ciphemic.AuditFilter{Kind: ciphemic.AuditTokenRefresh}, ciphemic.ListQuery{})
	if err != nil || len(events) != 1 {
		t.Errorf("stored refresh events = %v, %v; want the one refresh, stored with its rotation", events, err)
	}
	if got := len(logs.records(t, "audit event")); got != 3 {
		t.Errorf("%d audit events logged, want 3 (logged even when not stored)", got)
	}
}
