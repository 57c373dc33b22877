package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// mustAudit records e and returns it as the store keeps it: the newest event.
func mustAudit(t *testing.T, db *store.DB, e ciphemic.AuditEvent) ciphemic.AuditEvent {
	t.Helper()
	if err := db.RecordAuditEvent(context.Background(), e); err != nil {
		t.Fatalf("RecordAuditEvent(%s) = %v", e.Kind, err)
	}
	got := mustListAudit(t, db, ciphemic.AuditFilter{}, ciphemic.ListQuery{OrderBy: "id", Descending: true, Limit: 1})
	if len(got) != 1 {
		t.Fatalf("ListAuditEvents after RecordAuditEvent(%s) = %d events, want 1", e.Kind, len(got))
	}
	return got[0]
}

// mustListAudit returns ListAuditEvents(f, q), failing t on an error.
func mustListAudit(t *testing.T, db *store.DB, f ciphemic.AuditFilter, q ciphemic.ListQuery) []ciphemic.AuditEvent {
	t.Helper()
	events, _, err := db.ListAuditEvents(context.Background(), f, q)
	if err != nil {
		t.Fatalf("ListAuditEvents(%+v, %+v) = %v", f, q, err)
	}
	return events
}

// auditIDs returns the ids of events, in their order.
func auditIDs(events []ciphemic.AuditEvent) []int64 {
	ids := make([]int64, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

// testRecordAuditEvent: every field reads back as written, at microsecond precision; a
// zero At is the store's now; an unknown kind is refused.
func testRecordAuditEvent(t *testing.T, db *store.DB) {
	alice := mustUser(t, db, "alice")
	want := ciphemic.AuditEvent{
		At: t0.Add(-time.Minute), Kind: ciphemic.AuditUserUpdate, ActorID: 7, UserID: alice.ID,
		Username: "alice", ClientIP: "2001:db8::1", RequestID: "0123456789abcdef", Detail: "changed: email",
	}
	got := mustAudit(t, db, want)
	want.ID = got.ID
	want.At = want.At.Truncate(time.Microsecond)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RecordAuditEvent then ListAuditEvents = %+v, want %+v", got, want)
	}
	if got := mustAudit(t, db, ciphemic.AuditEvent{Kind: ciphemic.AuditLogout}); !got.At.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("RecordAuditEvent with a zero At stored %v, want now %v", got.At, t0)
	}
	for _, kind := range []ciphemic.AuditKind{"", "login", "user.create; DROP TABLE users"} {
		err := db.RecordAuditEvent(context.Background(), ciphemic.AuditEvent{Kind: kind})
		wantCode(t, fmt.Sprintf("RecordAuditEvent(kind %q)", kind), err, ciphemic.CodeInvalid, "")
	}
}

// testAuditUsername: an empty username is filled from the user row of UserID, a given one
// is kept, and every username is stored valid, without NUL, at most 150 characters.
func testAuditUsername(t *testing.T, db *store.DB) {
	alice := mustUser(t, db, "alice")
	long := strings.Repeat("é", ciphemic.AuditUsernameMax+10)
	for _, tc := range []struct {
		name string
		in   ciphemic.AuditEvent
		want string
	}{
		{"from the user row", ciphemic.AuditEvent{UserID: alice.ID}, "alice"},
		{"given", ciphemic.AuditEvent{UserID: alice.ID, Username: "as typed"}, "as typed"},
		{"no such user", ciphemic.AuditEvent{UserID: alice.ID + 100}, ""},
		{"no user", ciphemic.AuditEvent{}, ""},
		{"too long", ciphemic.AuditEvent{Username: long}, long[:2*ciphemic.AuditUsernameMax]},
		{"NUL and bad UTF-8", ciphemic.AuditEvent{Username: "a\x00b\xffc"}, "a\uFFFDb\uFFFDc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Kind = ciphemic.AuditLoginFailure
			if got := mustAudit(t, db, tc.in); got.Username != tc.want {
				t.Errorf("RecordAuditEvent(%+v) stored username %q, want %q", tc.in, got.Username, tc.want)
			}
		})
	}
}

// testAuditOutlivesUser: deleting a user keeps the events about them.
func testAuditOutlivesUser(t *testing.T, db *store.DB) {
	ctx := context.Background()
	alice := mustUser(t, db, "alice")
	mustAudit(t, db, ciphemic.AuditEvent{Kind: ciphemic.AuditLoginSuccess, UserID: alice.ID})
	if err := db.DeleteUser(ctx, alice.ID, t0, t0.Add(time.Hour)); err != nil {
		t.Fatalf("DeleteUser(%d) = %v", alice.ID, err)
	}
	got := mustListAudit(t, db, ciphemic.AuditFilter{UserID: alice.ID}, ciphemic.ListQuery{})
	if len(got) != 1 || got[0].Username != "alice" {
		t.Errorf("ListAuditEvents(user %d) after DeleteUser = %+v, want the login of alice", alice.ID, got)
	}
}

// seedAudit records, an hour apart and with two sharing an instant, events of alice
// (user 1), bob (user 2) and a failed login of nobody, and returns their ids in the
// order recorded.
func seedAudit(t *testing.T, db *store.DB) []int64 {
	t.Helper()
	events := []ciphemic.AuditEvent{
		{At: t0.Add(-3 * time.Hour), Kind: ciphemic.AuditLoginSuccess, UserID: 1, Username: "alice"},
		{At: t0.Add(-1 * time.Hour), Kind: ciphemic.AuditLoginFailure, Username: "Mallory"},
		{At: t0.Add(-2 * time.Hour), Kind: ciphemic.AuditTokenRefresh, UserID: 2, Username: "bob"},
		{At: t0.Add(-2 * time.Hour), Kind: ciphemic.AuditLoginSuccess, UserID: 2, Username: "bob"},
		{At: t0, Kind: ciphemic.AuditLogout, UserID: 1, Username: "alice"},
	}
	ids := make([]int64, len(events))
	for i, e := range events {
		ids[i] = mustAudit(t, db, e).ID
	}
	return ids
}

// testListAuditEvents: orderings by at (ties by id in the same direction) and id, the
// filters, the search, paging and the count.
func testListAuditEvents(t *testing.T, db *store.DB) {
	id := seedAudit(t, db)
	all := ciphemic.AuditFilter{}
	for _, tc := range []struct {
		name string
		f    ciphemic.AuditFilter
		q    ciphemic.ListQuery
		want []int64
	}{
		{"default", all, ciphemic.ListQuery{}, id},
		{"-id", all, ciphemic.ListQuery{OrderBy: "id", Descending: true}, []int64{id[4], id[3], id[2], id[1], id[0]}},
		{"at", all, ciphemic.ListQuery{OrderBy: "at"}, []int64{id[0], id[2], id[3], id[1], id[4]}},
		{"-at", all, ciphemic.ListQuery{OrderBy: "at", Descending: true}, []int64{id[4], id[1], id[3], id[2], id[0]}},
		{"user 2", ciphemic.AuditFilter{UserID: 2}, ciphemic.ListQuery{}, []int64{id[2], id[3]}},
		{"login.success", ciphemic.AuditFilter{Kind: ciphemic.AuditLoginSuccess}, ciphemic.ListQuery{}, []int64{id[0], id[3]}},
		{"user 1 logout", ciphemic.AuditFilter{UserID: 1, Kind: ciphemic.AuditLogout}, ciphemic.ListQuery{}, []int64{id[4]}},
		{"nothing", ciphemic.AuditFilter{UserID: 3}, ciphemic.ListQuery{}, []int64{}},
		{"search", all, ciphemic.ListQuery{Search: "MALL"}, []int64{id[1]}},
		{"page", all, ciphemic.ListQuery{OrderBy: "at", Descending: true, Offset: 1, Limit: 2}, []int64{id[1], id[3]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, n, err := db.ListAuditEvents(context.Background(), tc.f, tc.q)
			if err != nil {
				t.Fatalf("ListAuditEvents(%+v, %+v) = %v", tc.f, tc.q, err)
			}
			if got := auditIDs(events); !slices.Equal(got, tc.want) {
				t.Errorf("ListAuditEvents(%+v, %+v) = %v, want %v", tc.f, tc.q, got, tc.want)
			}
			if tc.q.Limit == 0 && n != int64(len(tc.want)) {
				t.Errorf("ListAuditEvents(%+v, %+v) count = %d, want %d", tc.f, tc.q, n, len(tc.want))
			}
		})
	}
	for _, bad := range []string{"username", "kind", "at; DROP TABLE audit_events"} {
		_, _, err := db.ListAuditEvents(context.Background(), all, ciphemic.ListQuery{OrderBy: bad})
		wantCode(t, fmt.Sprintf("ListAuditEvents(ordering %q)", bad), err, ciphemic.CodeInvalid, "")
	}
}

// testPruneAuditEvents: only events recorded strictly before the cut go.
func testPruneAuditEvents(t *testing.T, db *store.DB) {
	id := seedAudit(t, db)
	n, err := db.PruneAuditEvents(context.Background(), t0.Add(-2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneAuditEvents(t0-2h) = %d, %v, want 1, nil", n, err)
	}
	if got, want := auditIDs(mustListAudit(t, db, ciphemic.AuditFilter{}, ciphemic.ListQuery{})), id[1:]; !slices.Equal(got, want) {
		t.Errorf("events after PruneAuditEvents(t0-2h) = %v, want %v", got, want)
	}
	if n, err := db.PruneAuditEvents(context.Background(), t0.Add(-2*time.Hour)); err != nil || n != 0 {
		t.Errorf("second PruneAuditEvents(t0-2h) = %d, %v, want 0, nil", n, err)
	}
}
