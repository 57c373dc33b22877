package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/golang-jwt/jwt/v5"
)

// The values of the "token_type" claim, as simplejwt writes them.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// Config is how tokens are issued and verified.
type Config struct {
	AccessLifetime  time.Duration
	RefreshLifetime time.Duration
	// Issuer and Audience, when set, are written into every token as "iss" and "aud" and
	// required of every token verified; when empty they are neither issued nor checked.
	Issuer, Audience string
	// Leeway tolerates clock skew when checking "exp" and "iat".
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// VerifiedCacheSize bounds the cache of verified access tokens (verifiedcache.go):
	// 0 means DefaultVerifiedCacheSize, a negative value turns it off.
	VerifiedCacheSize int
}

// Claims is what a verified token says.
type Claims struct {
	Type   string // TypeAccess or TypeRefresh
	JTI    string
	UserID int64
	Roles  []ciphemic.Role // access tokens only; nil for tokens issued by the Django server
	// IssuedAt is precise to the millisecond when the jti is one of ours (a UUIDv7 carries
	// its issue time), otherwise it is "iat", precise to the second.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// SessionID is the "sid" claim: the rotation family the token belongs to, named by the
	// jti of the login's refresh token, so that reuse detection can revoke the family's
	// access tokens. Empty in tokens without it (the Django server's, IssueAccess's).
	SessionID string
	// KeyID is the "kid" header. Every token ciphemic signs names its key, so an empty
	// KeyID marks a token the Django server issued before the cut-over.
	KeyID string
}

// Errors of Parse. ErrInvalid may be wrapped with a reason meant for logs; the reason never
// contains any part of the token.
var (
	ErrInvalid   = errors.New("token is invalid or expired")
	ErrWrongType = errors.New("token has wrong type")
)

// Service issues and verifies tokens. It is safe for concurrent use, and SetKeys may
// replace its keys while requests are being verified.
type Service struct {
	cfg   Config
	state atomic.Pointer[state]
}

// state is everything that changes together when the keys change: the parser accepts
// exactly the algorithms of the keys.
type state struct {
	keys   *KeySet
	parser *jwt.Parser
	cache  *verifiedCache // nil when off; new with every key set
}

// NewService returns a service that signs with keys.Current() and verifies with all keys.
func NewService(keys *KeySet, cfg Config) (*Service, error) {
	if keys == nil {
		return nil, errors.New("token service: no keys")
	}
	if cfg.AccessLifetime <= 0 || cfg.RefreshLifetime <= 0 {
		return nil, errors.New("token service: token lifetimes must be positive")
	}
	if cfg.Leeway < 0 {
		return nil, errors.New("token service: leeway must not be negative")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg}
	s.SetKeys(keys)
	return s, nil
}

// SetKeys replaces the key set; tokens issued afterwards are signed by keys.Current().
func (s *Service) SetKeys(keys *KeySet) {
	s.state.Store(&state{keys: keys, parser: newParser(keys.algs, s.cfg), cache: newVerifiedCache(s.cacheSize())})
}

// cacheSize is the verified cache's bound that Config asks for.
func (s *Service) cacheSize() int {
	switch n := s.cfg.VerifiedCacheSize; {
	case n == 0:
		return DefaultVerifiedCacheSize
	case n < 0:
		return 0
	default:
		return n
	}
}

// Keys returns the key set in force.
func (s *Service) Keys() *KeySet { return s.state.Load().keys }

// Config returns the configuration, with Now filled in.
func (s *Service) Config() Config { return s.cfg }

// IssueAccess signs a new access token of userID with roles, issued at at: "iat" is at
// truncated to the second, "exp" is iat plus the access lifetime, and the jti carries at
// to the millisecond.
func (s *Service) IssueAccess(userID int64, roles []ciphemic.Role, at time.Time) (string, Claims, error) {
	return s.issue(TypeAccess, userID, roles, "", at)
}

// IssueRefresh signs a new refresh token of userID issued at at, like IssueAccess but
// with the refresh lifetime and without roles.
func (s *Service) IssueRefresh(userID int64, at time.Time) (string, Claims, error) {
	return s.issue(TypeRefresh, userID, nil, "", at)
}

// issuedPayload is the claims set in simplejwt's order, followed by our additions.
type issuedPayload struct {
	TokenType string   `json:"token_type"`
	Exp       int64    `json:"exp"`
	Iat       int64    `json:"iat"`
	JTI       string   `json:"jti"`
	UserID    int64    `json:"user_id"`
	Sub       string   `json:"sub"`
	Roles     []string `json:"roles,omitempty"`
	Sid       string   `json:"sid,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Aud       string   `json:"aud,omitempty"`
}

func (s *Service) issue(typ string, userID int64, roles []ciphemic.Role, sid string, at time.Time) (string, Claims, error) {
	c, err := s.newClaims(typ, userID, roles, sid, at)
	if err != nil {
		return "", Claims{}, err
	}
	raw, err := s.sign(c)
	if err != nil {
		return "", Claims{}, err
	}
	return raw, c, nil
}

// newClaims returns the claims of a new token issued at at, with a fresh jti.
func (s *Service) newClaims(typ string, userID int64, roles []ciphemic.Role, sid string, at time.Time) (Claims, error) {
	if userID <= 0 {
		return Claims{}, fmt.Errorf("issue %s token: user id %d is not positive", typ, userID)
	}
	lifetime := s.cfg.AccessLifetime
	if typ == TypeRefresh {
		lifetime = s.cfg.RefreshLifetime
	}
	jti, err := newJTI(at)
	if err != nil {
		return Claims{}, fmt.Errorf("issue %s token: %w", typ, err)
	}
	exp := time.Unix(at.Unix(), 0).Add(lifetime).Unix()
	return Claims{
		Type: typ, JTI: jti, UserID: userID, Roles: slices.Clone(roles), SessionID: sid,
		IssuedAt: time.UnixMilli(at.UnixMilli()), ExpiresAt: time.Unix(exp, 0),
	}, nil
}

// sign returns the token of c: "iat" and "exp" are its instants truncated to the second,
// "iss" and "aud" those configured.
func (s *Service) sign(c Claims) (string, error) {
	p := issuedPayload{
		TokenType: c.Type, Iat: c.IssuedAt.Unix(), Exp: c.ExpiresAt.Unix(), JTI: c.JTI,
		UserID: c.UserID, Sub: strconv.FormatInt(c.UserID, 10), Sid: c.SessionID,
		Iss: s.cfg.Issuer, Aud: s.cfg.Audience,
	}
	for _, r := range c.Roles {
		if _, err := ciphemic.ParseRole(string(r)); err != nil {
			return "", fmt.Errorf("issue %s token: %w", c.Type, err)
		}
		p.Roles = append(p.Roles, string(r))
	}
	raw, err := s.Keys().Current().signPayload(p)
	if err != nil {
		return "", fmt.Errorf("issue %s token: %w", c.Type, err)
	}
	return raw, nil
}

// signPayload returns the compact JWS of payload signed by k.
func (k *Key) signPayload(payload any) (string, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	input := make([]byte, 0, len(k.header)+1+b64.EncodedLen(len(body)))
	input = append(input, k.header...)
	input = append(input, '.')
	input = b64.AppendEncode(input, body)
	sig, err := k.method.Sign(string(input), k.signKey)
	if err != nil {
		return "", err
	}
	input = append(input, '.')
	return string(b64.AppendEncode(input, sig)), nil
}
