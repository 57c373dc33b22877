package httpapi

import (
	"context"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

// The cut-over from the Django server (docs/MIGRATING-FROM-DJANGO.md). Its tokens carry
// no "kid" and every token ciphemic signs does, so a token without one was issued by
// Django before the switch. Two things differ for them: their user_id is a Django pk,
// which an import with --renumber may have given another ciphemic user, so it is resolved
// through the pks the imports recorded; and the refresh token Django last rotated to is
// in no dump (simplejwt 5.2 records it only once it is spent), so it is accepted once,
// recorded and rotated in one step, within the refresh lifetime after the cut-over.

// cutoverStore is what the cut-over needs of the store (store/cutover.go).
type cutoverStore interface {
	djangoUsers
	RotateDjangoRefreshToken(ctx context.Context, old, next ciphemic.RefreshToken, blacklistOld bool, now time.Time, window time.Duration, e ciphemic.AuditEvent, touch *ciphemic.Session) (ciphemic.User, error)
	BlacklistDjangoRefreshToken(ctx context.Context, old ciphemic.RefreshToken, now time.Time, window time.Duration) error
	UseDjangoRefreshToken(ctx context.Context, old ciphemic.RefreshToken, now time.Time, window time.Duration) (ciphemic.User, error)
}

// djangoUsers resolves the user_id of a Django token (store/djangoids.go).
type djangoUsers interface {
	DjangoUserID(ctx context.Context, djangoID int64) (int64, error)
}

// resolveDjangoUser returns c with the ciphemic id of its user when c is a token of the
// Django server, and c itself otherwise. A Django pk no import recorded is
// ErrTokenUnknown. Without a store (no imports possible) the pk is the id, as before.
func resolveDjangoUser(ctx context.Context, users djangoUsers, c token.Claims) (token.Claims, error) {
	if c.KeyID != "" || users == nil {
		return c, nil
	}
	id, err := users.DjangoUserID(ctx, c.UserID)
	if err != nil {
		return token.Claims{}, err
	}
	c.UserID = id
	return c, nil
}

// djangoRecord is the record a Django refresh token of claims gets when the store
// accepts it without one: a family of its own, named by its jti.
func djangoRecord(claims token.Claims, family string) ciphemic.RefreshToken {
	return ciphemic.RefreshToken{JTI: claims.JTI, UserID: claims.UserID, FamilyID: family,
		IssuedAt: claims.IssuedAt, ExpiresAt: claims.ExpiresAt}
}

// blacklistAnyRefresh blacklists the refresh token of claims (logout); one of the Django
// server is recorded first when the cut-over allows, so that logging out ends it too.
func (s sessions) blacklistAnyRefresh(ctx context.Context, claims token.Claims) error {
	if claims.KeyID != "" {
		return s.store.BlacklistRefreshToken(ctx, claims.JTI, s.now())
	}
	return s.store.BlacklistDjangoRefreshToken(ctx, djangoRecord(claims, claims.JTI), s.now(), s.tokens.Config().RefreshLifetime)
}

// useAnyRefresh checks the refresh token of claims without spending it (verify); one of
// the Django server is usable without a record when a refresh would accept it.
func (s sessions) useAnyRefresh(ctx context.Context, claims token.Claims) error {
	var err error
	if claims.KeyID != "" {
		_, err = s.store.UseRefreshToken(ctx, claims.JTI, s.now())
	} else {
		_, err = s.store.UseDjangoRefreshToken(ctx, djangoRecord(claims, claims.JTI), s.now(), s.tokens.Config().RefreshLifetime)
	}
	return err
}
