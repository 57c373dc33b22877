package httpapi

import (
	"context"
	"net/http"
	"unicode/utf8"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
	"github.com/ciphemic/ciphemic/internal/username"
)

// pairBody is simplejwt's TokenObtainPairView answer: refresh first.
type pairBody struct {
	Refresh string `json:"refresh"`
	Access  string `json:"access"`
}

// loginBody is the article's LoginView answer: access first.
type loginBody struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// credentials checks a username and password. Every failure, whatever its cause (unknown
// user, wrong password, inactive account, unreadable hash), is the same errBadCredentials
// after the same amount of hashing, so the answer tells nothing about which users exist.
type credentials struct {
	users  userStore
	hasher *password.Hasher
}

// check returns the user typed names whose password matches, and the upgraded hash to
// store when the stored one is a legacy (Django) or weaker format.
func (c credentials) check(ctx context.Context, typed, pw string) (ciphemic.User, string, error) {
	user, err := c.lookup(ctx, typed)
	if ciphemic.ErrorCode(err) == ciphemic.CodeNotFound {
		c.hasher.VerifyDummy(pw)
		return ciphemic.User{}, "", errBadCredentials
	}
	if err != nil {
		return ciphemic.User{}, "", err
	}
	ok, rehash, err := c.hasher.Verify(user.PasswordHash, pw)
	if err != nil {
		loggerFrom(ctx).Error("unreadable password hash", "user_id", user.ID, "error", err.Error())
		return ciphemic.User{}, "", accountError{userID: user.ID}
	}
	if !ok || !user.IsActive {
		return ciphemic.User{}, "", accountError{userID: user.ID, inactive: ok}
	}
	if !rehash {
		return user, "", nil
	}
	upgraded, err := c.hasher.Hash(pw)
	if err != nil {
		return ciphemic.User{}, "", err
	}
	return user, upgraded, nil
}

// lookup finds the account a login names: the user holding the NFKC form of what was
// typed, as every username is stored now, so "ａdmin" is admin. Only when nobody holds
// that form does it try the name exactly as typed: a username stored before names were
// normalised (imported, or created by an older ciphemic) must still log in, and it can
// never take the place of the account its normal form names.
func (c credentials) lookup(ctx context.Context, typed string) (ciphemic.User, error) {
	name := loginName(typed)
	user, err := c.users.UserByUsername(ctx, name)
	if name == typed || ciphemic.ErrorCode(err) != ciphemic.CodeNotFound {
		return user, err
	}
	return c.users.UserByUsername(ctx, typed)
}

// loginName is the name a login as typed looks up and is counted under: its NFKC form.
// A name typed in more characters than any username can be (fields.go) is left as it
// is, since it names nobody, and normalising it could cost ten times its length.
func loginName(typed string) string {
	if utf8.RuneCountInString(typed) > maxTypedUsername {
		return typed
	}
	return username.Normalize(typed)
}

// accountError is errBadCredentials for an account that exists: the client gets the same
// answer as for any other failure, while the audit trail can name the targeted account
// and the metrics count a right password of an inactive account apart.
type accountError struct {
	userID   int64
	inactive bool // the password was right, the account inactive
}

func (e accountError) Error() string { return errBadCredentials.Error() }
func (e accountError) Unwrap() error { return errBadCredentials }

// handleTokenObtain serves POST /api/token/ and POST /login/: username and password in,
// a token pair out, behind the login throttle (throttle.go). accessFirst orders the answer
// as the article's LoginView does.
func handleTokenObtain(creds credentials, gate *loginGate, s sessions, accessFirst bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := decodeBody(r, false)
		if err != nil {
			writeError(w, r, err)
			return
		}
		errs := newFieldErrors()
		typed := body.stringField(errs, "username", true)
		pw := body.stringField(errs, "password", false)
		if err := errs.errOrNil(); err != nil {
			writeError(w, r, err)
			return
		}
		user, upgraded, err := gate.check(r, creds, typed, pw)
		s.events.login(err)
		if err != nil {
			// Named as the throttle counts it, so the trail and the counts agree.
			s.audit.loginFailed(r, loginName(typed), err)
			writeError(w, r, err)
			return
		}
		now := s.now()
		pair, err := s.issuePair(r, user, now)
		if err == nil {
			err = creds.users.RecordLogin(r.Context(), user.ID, now, upgraded)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.audit.record(r, ciphemic.AuditEvent{Kind: ciphemic.AuditLoginSuccess, ActorID: user.ID, UserID: user.ID, Username: user.Username})
		if s.cookies.enabled {
			s.cookies.writePair(w, r, pair)
			return
		}
		if accessFirst {
			encode(w, r, http.StatusOK, loginBody{Access: pair.access, Refresh: pair.refresh})
			return
		}
		encode(w, r, http.StatusOK, pairBody{Refresh: pair.refresh, Access: pair.access})
	})
}
