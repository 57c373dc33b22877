package ciphemic

import (
	"context"
	"time"
)

// Principal is who a request acts for, taken from a verified access token.
type Principal struct {
	UserID    int64
	Roles     []Role
	TokenID   string    // the access token's jti
	ExpiresAt time.Time // the access token's exp
	SessionID string    // the access token's "sid": the login it belongs to
}

// HasRole reports whether the principal holds role.
func (p Principal) HasRole(role Role) bool {
	for _, r := range p.Roles {
		if r == role {
			return true
		}
	}
	return false
}

type principalKey struct{}

// NewContextWithPrincipal returns a context that carries p.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal of an authenticated request.
func PrincipalFromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
