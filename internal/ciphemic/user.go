package ciphemic

import (
	"time"
)

// Role is the one role a user holds. Access tokens carry it as a one-element "roles" list.
type Role string

// The roles of the school API.
const (
	RoleAdmin   Role = "admin"
	RoleTeacher Role = "teacher"
	RoleStudent Role = "student"
)

// ParseRole returns the Role named s, or an invalid error.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleTeacher, RoleStudent:
		return r, nil
	}
	return "", Errorf(CodeInvalid, "%q is not a valid choice.", s)
}

// User is an account. PasswordHash is in Django's "<algorithm>$..." encoding so that users
// imported from Django keep their hashes; it must never reach a response.
type User struct {
	ID           int64
	Username     string
	Email        string
	FirstName    string
	LastName     string
	PasswordHash string
	Role         Role
	IsActive     bool
	DateJoined   time.Time
	LastLogin    time.Time // zero when the user never logged in
	// TokensValidAfter is the instant before which every token of the user is revoked
	// (revoke-all, password change, deactivation); zero when never set.
	TokensValidAfter time.Time
}

// RefreshToken is the server-side record of one issued refresh token. The token text is
// never stored: the jti identifies it, the signature proves it.
type RefreshToken struct {
	JTI       string
	UserID    int64
	FamilyID  string // the jti of the login that started the rotation chain
	IssuedAt  time.Time
	ExpiresAt time.Time
	// BlacklistedAt is zero while the token may still be used.
	BlacklistedAt time.Time
	// ReplacedBy is the jti of the token that rotation issued in its place, if any.
	ReplacedBy string
}

// Revocation is one entry of the revocation log every instance replays into memory. With
// JTI set it revokes one access token; with FamilyID set, every access token of that
// rotation family (their "sid" claim); with both empty, every token of UserID issued
// before ValidAfter. ExpiresAt is when the entry stops mattering (the revoked tokens have
// all expired), so it can be forgotten and flushed.
type Revocation struct {
	JTI        string
	FamilyID   string
	UserID     int64
	ValidAfter time.Time
	ExpiresAt  time.Time
	CreatedAt  time.Time
}
