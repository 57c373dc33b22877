package ciphemic

import (
	"strings"
	"time"
)

// AuditKind names what an audit event records, as a dotted name ("login.failure").
type AuditKind string

// The kinds of audit events. Every event of the account and token endpoints and of the
// user administration is one of these; a new kind needs a constant here so that the audit
// list can filter by it.
const (
	AuditLoginSuccess   AuditKind = "login.success"
	AuditLoginFailure   AuditKind = "login.failure"
	AuditLoginThrottled AuditKind = "login.throttled"
	AuditTokenRefresh   AuditKind = "token.refresh"
	AuditTokenReuse     AuditKind = "token.reuse_detected" // #nosec G101 -- an event name, not a credential
	AuditLogout         AuditKind = "logout"
	AuditRevokeAll      AuditKind = "revoke_all"
	AuditPasswordChange AuditKind = "password.change"
	AuditUserCreate     AuditKind = "user.create"
	AuditUserUpdate     AuditKind = "user.update"
	AuditUserDelete     AuditKind = "user.delete"
	AuditUserRevoke     AuditKind = "user.revoke"
	AuditSessionEnd     AuditKind = "session.end"
)

// AuditKinds lists every kind, in the order above.
func AuditKinds() []AuditKind {
	return []AuditKind{
		AuditLoginSuccess, AuditLoginFailure, AuditLoginThrottled, AuditTokenRefresh,
		AuditTokenReuse, AuditLogout, AuditRevokeAll, AuditPasswordChange,
		AuditUserCreate, AuditUserUpdate, AuditUserDelete, AuditUserRevoke,
		AuditSessionEnd,
	}
}

// The outcomes of audit events.
const (
	OutcomeSuccess = "success" // the action happened
	OutcomeFailure = "failure" // the credentials were wrong
	OutcomeDenied  = "denied"  // refused as an attack: throttled, or a refresh token replayed
)

// Outcome is how the action the kind names ended. Only attempts are recorded with a
// failure or denial; every other kind is recorded once its action has happened.
func (k AuditKind) Outcome() string {
	switch k {
	case AuditLoginFailure:
		return OutcomeFailure
	case AuditLoginThrottled, AuditTokenReuse:
		return OutcomeDenied
	}
	return OutcomeSuccess
}

// Valid reports whether k is one of the kinds above.
func (k AuditKind) Valid() bool {
	for _, known := range AuditKinds() {
		if k == known {
			return true
		}
	}
	return false
}

// AuditUsernameMax bounds the username an event keeps: Django's username length. A failed
// login records the name as typed, which may be anything up to the body limit.
const AuditUsernameMax = 150

// AuditEvent is one entry of the audit trail: who did what to whom, from where, in which
// request. It never holds a secret: no password, hash or token text, nor part of one.
type AuditEvent struct {
	ID   int64
	At   time.Time
	Kind AuditKind
	// ActorID is the user who acted (the admin for user administration, the user
	// themselves for their own account); 0 when nobody was authenticated.
	ActorID int64
	// UserID is the user the event is about; 0 when unknown (a failed login).
	UserID int64
	// Username is the user's name, or for a failed login the name as typed, at most
	// AuditUsernameMax characters.
	Username string
	// ClientIP is the client's address, behind trusted proxies the forwarded one.
	ClientIP string
	// RequestID is the X-Request-Id of the request, which its log lines also carry.
	RequestID string
	// Detail is a short explanation: which fields an update changed, why a token family
	// was revoked.
	Detail string
}

// AuditFilter restricts a list of audit events. Each non-zero field keeps only the events
// it names.
type AuditFilter struct {
	UserID int64
	Kind   AuditKind
}

// Sanitized returns e with its text fields made storable and bounded: invalid UTF-8 and
// NUL bytes (which PostgreSQL's TEXT refuses) become U+FFFD, and Username is cut to
// AuditUsernameMax characters. A failed login's username is whatever the client sent.
func (e AuditEvent) Sanitized() AuditEvent {
	e.Username = TruncateRunes(cleanText(e.Username), AuditUsernameMax)
	e.ClientIP = cleanText(e.ClientIP)
	e.RequestID = cleanText(e.RequestID)
	e.Detail = cleanText(e.Detail)
	return e
}

func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// TruncateRunes cuts s to at most n characters, never inside one: the bound of every
// stored text that a client chose (audit usernames, session user agents).
func TruncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
