package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// A session is a rotation family: the refresh token of a login, every refresh token
// rotation descended from it, and every access token issued beside them. Each of these
// tokens carries the session's id as "sid" (the jti of the login's refresh token, which
// the store records as the family id), so that when a spent refresh token comes back
// (RFC 9700 §4.14) the revocation view can refuse the whole session's access tokens
// without knowing their jtis.

// IssueSessionAccess is IssueAccess for an access token of the session sid.
func (s *Service) IssueSessionAccess(userID int64, roles []ciphemic.Role, sid string, at time.Time) (string, Claims, error) {
	if sid == "" {
		return "", Claims{}, errors.New("issue access token: no session id")
	}
	return s.issue(TypeAccess, userID, roles, sid, at)
}

// IssueSessionRefresh is IssueRefresh for a refresh token of the session sid. An empty
// sid starts a new session (a login), named by the token's own jti.
func (s *Service) IssueSessionRefresh(userID int64, sid string, at time.Time) (string, Claims, error) {
	c, err := s.newClaims(TypeRefresh, userID, nil, sid, at)
	if err != nil {
		return "", Claims{}, err
	}
	if c.SessionID == "" {
		c.SessionID = c.JTI
	}
	raw, err := s.sign(c)
	if err != nil {
		return "", Claims{}, err
	}
	return raw, c, nil
}

// Resign signs the claims of a token issued before once more, with the current key: the
// same token_type, jti, user_id, sid, roles, and iat and exp to the second. The reuse
// grace window hands a rotation's successor out again this way, so that it stays one
// token with one jti, spendable once, instead of becoming a second branch.
func (s *Service) Resign(c Claims) (string, error) {
	switch {
	case c.Type != TypeAccess && c.Type != TypeRefresh:
		return "", fmt.Errorf("resign: unknown token type %q", c.Type)
	case !validJTI(c.JTI):
		return "", errors.New("resign: malformed jti")
	case c.SessionID != "" && !validJTI(c.SessionID):
		return "", errors.New("resign: malformed session id")
	case c.UserID <= 0:
		return "", fmt.Errorf("resign: user id %d is not positive", c.UserID)
	case c.ExpiresAt.Unix() <= c.IssuedAt.Unix():
		return "", errors.New("resign: exp not after iat")
	}
	return s.sign(c)
}
