package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/token"
)

// sessionLimits bound a session's life (Config.SessionIdleTimeout, SessionMaxLifetime):
// with rotation simplejwt's sessions slide forever, a refresh a day keeping a stolen
// token alive for good. Zero bounds nothing.
type sessionLimits struct {
	idle, max time.Duration
	// rotating is Config.RotateRefreshTokens: only then does a refresh get a new token, so
	// only then may a token's exp follow the idle end, which moves with every refresh.
	rotating bool
}

// end is when a session logged in at created ends if it is used at now and then no more;
// zero when neither bound is set.
func (l sessionLimits) end(created, now time.Time) time.Time {
	var end time.Time
	if l.idle > 0 {
		end = now.Add(l.idle)
	}
	if l.max > 0 {
		if e := created.Add(l.max); end.IsZero() || e.Before(end) {
			end = e
		}
	}
	return end
}

// over reports whether sess has ended by now: idle for too long, or too long after its
// login.
func (l sessionLimits) over(sess ciphemic.Session, now time.Time) bool {
	return (l.idle > 0 && !now.Before(sess.LastUsedAt.Add(l.idle))) ||
		(l.max > 0 && !now.Before(sess.CreatedAt.Add(l.max)))
}

// filter selects the live sessions of userID at now.
func (l sessionLimits) filter(userID int64, now time.Time) ciphemic.SessionFilter {
	f := ciphemic.SessionFilter{UserID: userID, Now: now}
	if l.idle > 0 {
		f.IdleSince = now.Add(-l.idle)
	}
	if l.max > 0 {
		f.CreatedSince = now.Add(-l.max)
	}
	return f
}

// tokenEnd is how long a refresh token issued at now in a session logged in at created
// may live: to the session's end, but without rotation only to its absolute end, since
// the one token must outlive every refresh that keeps the session from going idle.
func (l sessionLimits) tokenEnd(created, now time.Time) time.Time {
	if !l.rotating {
		l.idle = 0
	}
	return l.end(created, now)
}

// listedEnd is when sess ends if not used again: its newest refresh token's expiry, or
// sooner a bound.
func (l sessionLimits) listedEnd(sess ciphemic.Session) time.Time {
	if end := l.end(sess.CreatedAt, sess.LastUsedAt); !end.IsZero() && end.Before(sess.ExpiresAt) {
		return end
	}
	return sess.ExpiresAt
}

// refreshSession returns the session sid that the refresh token of claims belongs to, or
// the contract's "Token is invalid or expired" when the session has ended by now. A
// family without a session record (issued before sessions were, or imported) is taken
// to have started, and last been used, when the token was issued.
func (s sessions) refreshSession(ctx context.Context, claims token.Claims, sid string, now time.Time) (ciphemic.Session, error) {
	sess, err := s.store.Session(ctx, sid)
	switch {
	case ciphemic.ErrorCode(err) == ciphemic.CodeNotFound:
		sess = ciphemic.Session{ID: sid, UserID: claims.UserID, CreatedAt: claims.IssuedAt, LastUsedAt: claims.IssuedAt}
	case err != nil:
		return sess, err
	case sess.UserID != claims.UserID:
		return sess, ciphemic.ErrTokenUnknown
	}
	if s.limits.over(sess, now) {
		return sess, ciphemic.ErrTokenUnknown
	}
	return sess, nil
}

// issueSessionRefresh signs the next refresh token of sess at now, its exp clamped to the
// session's end.
func (s sessions) issueSessionRefresh(sess ciphemic.Session, now time.Time) (string, token.Claims, error) {
	raw, c, err := s.tokens.IssueSessionRefreshUntil(sess.UserID, sess.ID, now, s.limits.tokenEnd(sess.CreatedAt, now))
	if errors.Is(err, token.ErrSessionOver) {
		return "", c, ciphemic.ErrTokenUnknown
	}
	return raw, c, err
}

// touchSession records that sess was used at now by the client of r, its newest refresh
// token expiring at expires.
func (s sessions) touchSession(r *http.Request, sess ciphemic.Session, now, expires time.Time) error {
	return s.store.TouchSession(r.Context(), s.touched(r, sess, now, expires))
}

// touched is sess as a refresh by the client of r at now leaves it, its newest refresh
// token expiring at expires.
func (s sessions) touched(r *http.Request, sess ciphemic.Session, now, expires time.Time) ciphemic.Session {
	sess.LastUsedAt, sess.ExpiresAt = now, expires
	sess.UserAgent, sess.ClientIP = userAgent(r), s.clientAddr(r)
	return sess
}

// clientAddr is the client's address as --trusted-proxies decide, "" when unknown.
func (s sessions) clientAddr(r *http.Request) string {
	if a := s.proxies.clientIP(r); a.IsValid() {
		return a.String()
	}
	return ""
}

// userAgent is r's User-Agent as a session keeps it: valid UTF-8 without control
// characters (PostgreSQL refuses NUL in text), at most ciphemic.UserAgentMax characters.
func userAgent(r *http.Request) string {
	ua := strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return -1
		}
		return c
	}, strings.ToValidUTF8(r.UserAgent(), "\uFFFD"))
	return ciphemic.TruncateRunes(ua, ciphemic.UserAgentMax)
}
