package token

import (
	"errors"
	"time"
)

// ErrSessionOver is IssueSessionRefreshUntil's answer when the session ends before the
// token could live a second.
var ErrSessionOver = errors.New("issue refresh token: the session ends within a second")

// IssueSessionRefreshUntil is IssueSessionRefresh whose exp never runs past notAfter,
// the end of a session bounded by an idle or absolute lifetime; a zero notAfter bounds
// nothing.
func (s *Service) IssueSessionRefreshUntil(userID int64, sid string, at, notAfter time.Time) (string, Claims, error) {
	c, err := s.newClaims(TypeRefresh, userID, nil, sid, at)
	if err != nil {
		return "", Claims{}, err
	}
	if c.SessionID == "" {
		c.SessionID = c.JTI
	}
	if !notAfter.IsZero() && c.ExpiresAt.After(notAfter) {
		// exp is whole seconds: rounding down keeps it within the session.
		c.ExpiresAt = time.Unix(notAfter.Unix(), 0)
	}
	if c.ExpiresAt.Unix() <= c.IssuedAt.Unix() {
		return "", Claims{}, ErrSessionOver
	}
	raw, err := s.sign(c)
	if err != nil {
		return "", Claims{}, err
	}
	return raw, c, nil
}
