package ciphemic

import "time"

// Session is one login: the rotation family of refresh tokens it started, named by the
// "sid" every token of the login carries.
type Session struct {
	ID     string
	UserID int64
	// CreatedAt is the login; LastUsedAt the login or the latest refresh.
	CreatedAt  time.Time
	LastUsedAt time.Time
	// ExpiresAt is when the session's newest refresh token expires.
	ExpiresAt time.Time
	// UserAgent and ClientIP are the client's, as sent at the login or the latest refresh.
	UserAgent string
	ClientIP  string
}

// UserAgentMax bounds the User-Agent a session keeps, in characters.
const UserAgentMax = 256

// SessionFilter selects the live sessions of one user at Now: sessions with a refresh
// token that may still be used, last used after IdleSince and created after
// CreatedSince (a zero instant bounds nothing).
type SessionFilter struct {
	UserID       int64
	Now          time.Time
	IdleSince    time.Time
	CreatedSince time.Time
}
