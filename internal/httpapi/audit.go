package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// The audit trail: logins (also failed and throttled ones), refreshes, refresh-token
// reuse, logouts, revoke-all, password changes and the user administration are recorded
// as ciphemic.AuditEvents, each with the user, the actor, the client address and the
// request id, logged and kept in the store, where admins read them at GET /api/audit/.
// An event never holds a secret: handlers pass user ids, usernames and field names,
// never a password, a hash or token text.

// auditWriteTimeout bounds how long one audit write may hold up its request.
const auditWriteTimeout = 2 * time.Second

// auditRecorder is what the auditor needs of the store.
type auditRecorder interface {
	RecordAuditEvent(ctx context.Context, e ciphemic.AuditEvent) error
}

// auditor records audit events for the handlers.
type auditor struct {
	store   auditRecorder // nil: events are only logged
	proxies trustedProxies
	now     func() time.Time
}

// newAuditor returns the auditor of the server configured by cfg.
func newAuditor(cfg Config, store auditRecorder) auditor {
	return auditor{store: store, proxies: trustedProxies(cfg.TrustedProxies), now: cfg.Now}
}

// record completes e with the time, the client address and the request id of r, logs it
// and stores it.
//
// The write is synchronous, so an event is stored before its answer leaves, but its
// failure is only logged and the request carries on: an audit store failing must not lock
// users out or stop an admin from revoking a stolen session. The write is one INSERT,
// detached from the client's cancellation (a client hanging up after a failed login is
// still recorded) and bounded by auditWriteTimeout.
func (a auditor) record(r *http.Request, e ciphemic.AuditEvent) {
	ctx := r.Context()
	e = a.complete(r, e)
	a.log(r, e)
	if a.store == nil {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteTimeout)
	defer cancel()
	if err := a.store.RecordAuditEvent(wctx, e); err != nil {
		loggerFrom(ctx).LogAttrs(ctx, slog.LevelError, "audit event not stored",
			slog.String("kind", string(e.Kind)), slog.String("error", err.Error()))
	}
}

// complete fills in the time, the client address and the request id of r. An event
// that a store method writes in the transaction of its change (a refresh's rotation) is
// completed here, handed to the store, and logged once the change has committed.
func (a auditor) complete(r *http.Request, e ciphemic.AuditEvent) ciphemic.AuditEvent {
	e.At = a.now()
	if ip := a.proxies.clientIP(r); ip.IsValid() {
		e.ClientIP = ip.String()
	}
	e.RequestID = requestIDFrom(r.Context())
	return e.Sanitized()
}

// log writes the log line of the completed event e.
func (a auditor) log(r *http.Request, e ciphemic.AuditEvent) {
	ctx := r.Context()
	loggerFrom(ctx).LogAttrs(ctx, auditLevel(e.Kind), "audit event",
		slog.String("kind", string(e.Kind)),
		slog.String("outcome", e.Kind.Outcome()),
		slog.Int64("user_id", e.UserID),
		slog.String("username", e.Username),
		slog.Int64("actor_id", e.ActorID),
		slog.String("client", e.ClientIP),
		slog.String("detail", e.Detail),
	)
}

// auditLevel is the log level of an event of kind: warn for the attacks it records.
func auditLevel(kind ciphemic.AuditKind) slog.Level {
	if kind.Outcome() == ciphemic.OutcomeDenied {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// loginFailed records a refused login: wrong credentials or a throttled attempt. Other
// errors (the store down) decide nothing about the user and are not audit events.
// The typed username is kept only when it names an existing account; otherwise it is
// recorded as "sha256:" and 16 hex digits of its SHA-256 (the key the login throttle
// counts under), because people type passwords into the username field, and the audit
// trail must never hold a password.
func (a auditor) loginFailed(r *http.Request, username string, err error) {
	var (
		thr  throttledError
		acct accountError
	)
	e := ciphemic.AuditEvent{Kind: ciphemic.AuditLoginFailure, Username: redactedUsername(username)}
	switch {
	case errors.As(err, &thr):
		e.Kind = ciphemic.AuditLoginThrottled
	case errors.As(err, &acct):
		e.UserID, e.Username = acct.userID, username
	case !errors.Is(err, errBadCredentials):
		return
	}
	a.record(r, e)
}

// redactedUsername stands in for a username that may not be one.
func redactedUsername(username string) string {
	sum := sha256.Sum256([]byte(username))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// changedFields names, as the API spells them, the fields of a user update that changed:
// those sent with a value other than before's, and the password whenever one was sent
// (only its name: never its value, nor anything derived from it); and whether the update
// revoked the user's tokens.
func changedFields(in userInput, before, after ciphemic.User, revoked bool) string {
	var names []string
	add := func(name string, sent, changed bool) {
		if sent && changed {
			names = append(names, name)
		}
	}
	add("username", in.username != nil, after.Username != before.Username)
	add("password", in.password != nil, true)
	add("email", in.email != nil, after.Email != before.Email)
	add("first_name", in.firstName != nil, after.FirstName != before.FirstName)
	add("last_name", in.lastName != nil, after.LastName != before.LastName)
	add("roles", in.role != nil, after.Role != before.Role)
	add("is_active", in.isActive != nil, after.IsActive != before.IsActive)
	detail := "changed: nothing"
	if len(names) > 0 {
		detail = "changed: " + strings.Join(names, ", ")
	}
	if revoked {
		detail += "; tokens revoked"
	}
	return detail
}

// auditStore is what the audit list needs of the store.
type auditStore interface {
	ListAuditEvents(ctx context.Context, f ciphemic.AuditFilter, q ciphemic.ListQuery) ([]ciphemic.AuditEvent, int64, error)
}

// auditOrdering lists the fields ?ordering= accepts on the audit list.
var auditOrdering = []string{"at", "id"}

// auditEventBody is an audit event as GET /api/audit/ shows it; ids that are not known
// are null.
type auditEventBody struct {
	ID        int64   `json:"id"`
	At        *string `json:"at"`
	Kind      string  `json:"kind"`
	Outcome   string  `json:"outcome"`
	ActorID   *int64  `json:"actor_id"`
	UserID    *int64  `json:"user_id"`
	Username  string  `json:"username"`
	ClientIP  string  `json:"client_ip"`
	RequestID string  `json:"request_id"`
	Detail    string  `json:"detail"`
}

func newAuditEventBody(e ciphemic.AuditEvent) auditEventBody {
	return auditEventBody{
		ID: e.ID, At: formatTime(e.At), Kind: string(e.Kind), Outcome: e.Kind.Outcome(),
		ActorID: optionalID(e.ActorID), UserID: optionalID(e.UserID), Username: e.Username,
		ClientIP: e.ClientIP, RequestID: e.RequestID, Detail: e.Detail,
	}
}

// optionalID is id, or nil (JSON null) for 0.
func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// handleAuditList serves GET /api/audit/ (admins): the audit trail, newest first unless
// ?ordering= says otherwise, narrowed by ?user_id=, ?kind= and ?search= (username).
func handleAuditList(st auditStore, links linkBase) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		lr, err := parseList(r, auditOrdering)
		if err != nil {
			return err
		}
		if lr.q.OrderBy == "" {
			lr.q.OrderBy, lr.q.Descending = "at", true
		}
		f, err := parseAuditFilter(queryValues(r))
		if err != nil {
			return err
		}
		fetch := func(q ciphemic.ListQuery) ([]ciphemic.AuditEvent, int64, error) {
			return st.ListAuditEvents(r.Context(), f, q)
		}
		servePage(w, r, links, lr, fetch, newAuditEventBody)
		return nil
	})
}

// parseAuditFilter reads ?user_id= and ?kind= as django-filter's NumberFilter and
// ChoiceFilter would; absent or empty filters nothing.
func parseAuditFilter(values query) (ciphemic.AuditFilter, error) {
	var f ciphemic.AuditFilter
	errs := newFieldErrors()
	if s := values.get("user_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			errs.add("user_id", "Enter a whole number.")
		}
		f.UserID = id
	}
	if s := values.get("kind"); s != "" {
		f.Kind = ciphemic.AuditKind(s)
		if !f.Kind.Valid() {
			errs.add("kind", "Select a valid choice. "+s+" is not one of the available choices.")
		}
	}
	return f, errs.errOrNil()
}

// adminEvent is the event of kind about user u, made by the admin of r.
func adminEvent(r *http.Request, kind ciphemic.AuditKind, u ciphemic.User, detail string) ciphemic.AuditEvent {
	// The route's guard admitted an admin, so the principal is there.
	p, _ := principalFrom(r)
	return ciphemic.AuditEvent{Kind: kind, ActorID: p.UserID, UserID: u.ID, Username: u.Username, Detail: detail}
}
