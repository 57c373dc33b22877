package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/golang-jwt/jwt/v5"
)

// maxTokenLen bounds the work an unauthenticated request can cause; our tokens are < 1 KiB.
const maxTokenLen = 8 << 10

// newParser is the one place a jwt.Parser is configured. Every verification goes through
// a parser made here, pinned to the algorithms of the keys in force.
func newParser(algs []string, cfg Config) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(cfg.Now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return jwt.NewParser(opts...)
}

// reason is why a token was refused, for logs. Reasons are fixed strings, so that no part
// of a token can reach a log through them.
type reason string

func (r reason) Error() string { return string(r) }

// invalid wraps ErrInvalid with r, which must be a reason (never text from the token).
func invalid(r error) error { return fmt.Errorf("%w: %w", ErrInvalid, r) }

// Parse verifies raw and returns its claims. want is TypeAccess, TypeRefresh, or "" to
// accept either (the verify endpoint). A well-formed, correctly signed token of the other
// type gives ErrWrongType; anything else wrong gives an error matching ErrInvalid.
func (s *Service) Parse(raw string, want string) (Claims, error) {
	if want != "" && want != TypeAccess && want != TypeRefresh {
		return Claims{}, invalid(reason("unknown wanted token type"))
	}
	if len(raw) > maxTokenLen {
		return Claims{}, invalid(reason("token too long"))
	}
	st := s.state.Load()
	now := s.cfg.Now()
	if c, ok, err := s.cached(st, raw, now, want); ok {
		return c, err
	}
	if err := checkSegments(raw); err != nil {
		return Claims{}, invalid(err)
	}
	var p parsedPayload
	tok, err := st.parser.ParseWithClaims(raw, &p, st.keys.verificationKey)
	if err != nil {
		return Claims{}, invalid(reasonOf(err))
	}
	c, err := p.claims()
	if err != nil {
		return Claims{}, invalid(err)
	}
	kid, _ := tok.Header["kid"].(string)
	c.KeyID = kid
	c, err = s.checkVerified(st, c, kid, now, want)
	if err == nil && c.Type == TypeAccess {
		st.cache.put(raw, c, kid) // refresh tokens are used once: not worth a slot
	}
	return c, err
}

// ParseCached is Parse for a text Parse verified lately: when raw is in the verified
// cache it returns what Parse would and ok; otherwise it does nothing and returns ok
// false. A text it knows is a token that passed every check of Parse, so it is three
// base64url segments, with no white space or other byte outside them: a caller may try it
// before taking the text apart the way it would for Parse.
func (s *Service) ParseCached(raw string, want string) (c Claims, ok bool, err error) {
	if want != "" && want != TypeAccess && want != TypeRefresh {
		return Claims{}, false, nil
	}
	return s.cached(s.state.Load(), raw, s.cfg.Now(), want)
}

// cached answers for raw from st's verified cache at now, when it holds raw. A cached
// text passed every check of Parse when it was cached; what can change since is checked
// again (checkVerified).
func (s *Service) cached(st *state, raw string, now time.Time, want string) (Claims, bool, error) {
	e, ok := st.cache.get(raw, now, s.cfg.Leeway)
	if !ok {
		return Claims{}, false, nil
	}
	c, err := s.checkVerified(st, e.claims, e.kid, now, want)
	return c, true, err
}

// checkVerified applies the rules that a correctly signed token's claims must still pass
// at now, on every use, whether just parsed or found in the cache: the retirement of its
// key and the type wanted.
func (s *Service) checkVerified(st *state, c Claims, kid string, now time.Time, want string) (Claims, error) {
	// A token without kid was verified by the current key, which is never retired.
	if err := st.keys.checkRetired(kid, c.IssuedAt, now, s.cfg.Leeway); err != nil {
		return Claims{}, invalid(err)
	}
	if want != "" && c.Type != want {
		return Claims{}, ErrWrongType
	}
	return c, nil
}

// verificationKey is the parser's key function: it picks the key named by "kid" (the
// current key when there is none, as in tokens of the Django server) and refuses headers
// we do not understand. It never looks at "jku", "x5u", "jwk" or "x5c": a token cannot
// choose the key that verifies it.
func (ks *KeySet) verificationKey(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, reason("crit header present")
	}
	if v, ok := t.Header["typ"]; ok {
		if typ, isString := v.(string); !isString || !strings.EqualFold(typ, "JWT") {
			return nil, reason("typ is not JWT")
		}
	}
	key := ks.current
	if v, ok := t.Header["kid"]; ok {
		kid, isString := v.(string)
		if !isString {
			return nil, reason("kid is not a string")
		}
		if key, ok = ks.key(kid); !ok {
			return nil, reason("unknown kid")
		}
	}
	if t.Method.Alg() != key.Algorithm {
		return nil, reason("alg does not match the key")
	}
	return key.verifyKey, nil
}

// reasonOf turns a parser error into a fixed reason. The parser's own messages may quote
// bytes of the token (JSON syntax errors do), so they are not passed on.
func reasonOf(err error) reason {
	var r reason
	if errors.As(err, &r) {
		return r
	}
	for _, c := range []struct {
		err error
		r   reason
	}{
		{jwt.ErrTokenMalformed, "malformed"},
		{jwt.ErrTokenSignatureInvalid, "bad signature or algorithm"},
		{jwt.ErrTokenUnverifiable, "unsupported algorithm"},
		{jwt.ErrTokenRequiredClaimMissing, "missing exp, iss or aud"},
		{jwt.ErrTokenExpired, "expired"},
		{jwt.ErrTokenUsedBeforeIssued, "issued in the future"},
		{jwt.ErrTokenNotValidYet, "not valid yet"},
		{jwt.ErrTokenInvalidIssuer, "wrong issuer"},
		{jwt.ErrTokenInvalidAudience, "wrong audience"},
	} {
		if errors.Is(err, c.err) {
			return c.r
		}
	}
	return "invalid claims"
}

// parsedPayload receives the claims of a token being verified. It implements jwt.Claims
// so that the parser checks exp, iat, nbf, iss and aud.
type parsedPayload struct {
	TokenType string           `json:"token_type"`
	Exp       numericDate      `json:"exp"`
	Iat       numericDate      `json:"iat"`
	Nbf       numericDate      `json:"nbf"`
	JTI       string           `json:"jti"`
	UserID    userIDClaim      `json:"user_id"`
	Sub       *string          `json:"sub"`
	Roles     []string         `json:"roles"`
	Sid       *string          `json:"sid"`
	Iss       string           `json:"iss"`
	Aud       jwt.ClaimStrings `json:"aud"`
}

var _ jwt.Claims = (*parsedPayload)(nil)

func (p *parsedPayload) GetExpirationTime() (*jwt.NumericDate, error) { return p.Exp.get(), nil }
func (p *parsedPayload) GetIssuedAt() (*jwt.NumericDate, error)       { return p.Iat.get(), nil }
func (p *parsedPayload) GetNotBefore() (*jwt.NumericDate, error)      { return p.Nbf.get(), nil }
func (p *parsedPayload) GetIssuer() (string, error)                   { return p.Iss, nil }
func (p *parsedPayload) GetAudience() (jwt.ClaimStrings, error)       { return p.Aud, nil }

func (p *parsedPayload) GetSubject() (string, error) {
	if p.Sub == nil {
		return "", nil
	}
	return *p.Sub, nil
}

// claims checks what the parser does not (presence and shape of our claims) and returns
// them.
func (p *parsedPayload) claims() (Claims, error) {
	switch {
	case !p.Iat.set:
		return Claims{}, reason("missing iat")
	case !validJTI(p.JTI):
		return Claims{}, reason("missing or malformed jti")
	case p.TokenType != TypeAccess && p.TokenType != TypeRefresh:
		return Claims{}, reason("missing or unknown token_type")
	case p.UserID <= 0:
		return Claims{}, reason("missing or malformed user_id")
	case p.Sub != nil && *p.Sub != strconv.FormatInt(int64(p.UserID), 10):
		return Claims{}, reason("sub differs from user_id")
	case !p.Exp.t.After(p.Iat.t):
		return Claims{}, reason("exp not after iat")
	case p.Sid != nil && !validJTI(*p.Sid):
		// A sid names a family by its first jti, so it has a jti's shape, safe to log.
		return Claims{}, reason("malformed sid")
	}
	c := Claims{Type: p.TokenType, JTI: p.JTI, UserID: int64(p.UserID), IssuedAt: p.Iat.t, ExpiresAt: p.Exp.t}
	if p.Sid != nil {
		c.SessionID = *p.Sid
	}
	// The jti time is used only when it agrees with iat, so it can refine iat but never
	// move the issue time to another second.
	if t, ok := jtiTime(p.JTI); ok && !t.Before(p.Iat.t) && t.Before(p.Iat.t.Add(time.Second)) {
		c.IssuedAt = t
	}
	for _, name := range p.Roles {
		role, err := ciphemic.ParseRole(name)
		if err != nil {
			return Claims{}, reason("unknown role")
		}
		c.Roles = append(c.Roles, role)
	}
	return c, nil
}

// numericDate is a NumericDate claim that we accept only as an integer, as simplejwt and
// this package write them.
type numericDate struct {
	t   time.Time
	set bool
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return reason("date claim is not an integer")
	}
	d.t, d.set = time.Unix(n, 0), true
	return nil
}

func (d *numericDate) get() *jwt.NumericDate {
	if !d.set {
		return nil
	}
	return &jwt.NumericDate{Time: d.t}
}

// userIDClaim accepts a JSON integer or, as simplejwt does, a string of decimal digits.
type userIDClaim int64

func (u *userIDClaim) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" || strings.Trim(s, "0123456789") != "" {
			return reason("user_id is not a decimal string")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return reason("user_id is not an integer")
	}
	*u = userIDClaim(n)
	return nil
}
