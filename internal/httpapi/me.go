package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
)

// meBody is GET /api/me/. It is built field by field from the user, so the password hash
// can never reach it.
type meBody struct {
	ID         int64           `json:"id"`
	Username   string          `json:"username"`
	Email      string          `json:"email"`
	Roles      []ciphemic.Role `json:"roles"`
	IsActive   bool            `json:"is_active"`
	DateJoined *string         `json:"date_joined"`
	LastLogin  *string         `json:"last_login"`
}

// formatTime renders an instant as DRF's DateTimeField does (ISO 8601, UTC, "Z"), and the
// zero time as null.
func formatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(drfTimeLayout)
	return &s
}

// currentUser loads the principal's user, answering as simplejwt's JWTAuthentication does
// when the account is gone or disabled.
func currentUser(r *http.Request, users userStore) (ciphemic.User, error) {
	p, err := principalFrom(r)
	if err != nil {
		return ciphemic.User{}, err
	}
	user, err := users.User(r.Context(), p.UserID)
	switch {
	case ciphemic.ErrorCode(err) == ciphemic.CodeNotFound:
		return user, errUserNotFound
	case err != nil:
		return user, err
	case !user.IsActive:
		return user, ciphemic.ErrUserInactive
	}
	return user, nil
}

// handleMe serves GET /api/me/.
func handleMe(users userStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := currentUser(r, users)
		if err != nil {
			writeError(w, r, err)
			return
		}
		buf := meBodies.get()
		*buf = appendMe(*buf, user)
		writeJSON(w, r, http.StatusOK, *buf)
		meBodies.put(buf)
	})
}

// meBodies are the buffers GET /api/me/ composes its body in. A buffer goes back once
// writeJSON returns: a ResponseWriter's Write copies what it is given (net/http into its
// buffered writer, every wrapper of this package passes it through), so nothing keeps
// the slice.
var meBodies = newBufferPool(256)

// appendMe appends the JSON of meBody for user, byte for byte what encode writes for it
// (me_test.go holds the two together), without reflection or a string per time: this is
// the body of the API's most frequent request.
func appendMe(b []byte, u ciphemic.User) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, `,"username":`...)
	b = appendJSONStringStd(b, u.Username)
	b = append(b, `,"email":`...)
	b = appendJSONStringStd(b, u.Email)
	b = append(b, `,"roles":[`...)
	b = appendJSONStringStd(b, string(u.Role))
	b = append(b, `],"is_active":`...)
	b = strconv.AppendBool(b, u.IsActive)
	b = append(b, `,"date_joined":`...)
	b = appendDRFTime(b, u.DateJoined)
	b = append(b, `,"last_login":`...)
	b = appendDRFTime(b, u.LastLogin)
	return append(b, '}')
}

// appendDRFTime appends formatTime's rendering of t as JSON: a string, or null.
func appendDRFTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = appendDRFTimeValue(b, t)
	return append(b, '"')
}

// handlePasswordChange serves POST /api/me/password/: the old password proves the caller,
// every older token of the user is revoked, and a fresh pair keeps this client signed in.
// Wrong old passwords count against the user's login back-off (gate).
func handlePasswordChange(users userStore, hasher *password.Hasher, policy ciphemic.PasswordPolicy, gate *loginGate, s sessions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := currentUser(r, users)
		if err != nil {
			writeError(w, r, err)
			return
		}
		newPW, err := readPasswordChange(r, hasher, policy, gate, user)
		if err != nil {
			writeError(w, r, err)
			return
		}
		pair, err := changePassword(r, users, hasher, s, user, newPW)
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.audit.record(r, ciphemic.AuditEvent{Kind: ciphemic.AuditPasswordChange, ActorID: user.ID, UserID: user.ID, Username: user.Username})
		if s.cookies.enabled {
			s.cookies.writePair(w, r, pair)
			return
		}
		encode(w, r, http.StatusOK, pairBody{Refresh: pair.refresh, Access: pair.access})
	})
}

// readPasswordChange reads a password change and applies Django's checks: the old
// password must match, behind the login throttle, and the new one must pass Django's
// default validators. It returns the new password.
func readPasswordChange(r *http.Request, hasher *password.Hasher, policy ciphemic.PasswordPolicy, gate *loginGate, user ciphemic.User) (string, error) {
	body, err := decodeBody(r, false)
	if err != nil {
		return "", err
	}
	errs := newFieldErrors()
	oldPW := body.stringField(errs, "old_password", false)
	newPW := body.stringField(errs, "new_password", false)
	if err := errs.errOrNil(); err != nil {
		return "", err
	}
	err = gate.attempt(r, loginName(user.Username), func() error {
		if ok, _, err := hasher.Verify(user.PasswordHash, oldPW); err != nil || !ok {
			errs.add("old_password", "Your old password was entered incorrectly. Please enter it again.")
		}
		return errs.errOrNil()
	})
	if err != nil {
		return "", err
	}
	for _, msg := range policy.Validate(newPW, user) {
		errs.add("new_password", msg)
	}
	return newPW, errs.errOrNil()
}

// changePassword stores the new hash, revokes everything issued until now and issues a new
// pair just after the revocation instant, so the new pair survives it.
func changePassword(r *http.Request, users userStore, hasher *password.Hasher, s sessions, user ciphemic.User, newPW string) (tokenPair, error) {
	hash, err := hasher.Hash(newPW)
	if err != nil {
		return tokenPair{}, err
	}
	at := s.now()
	if err := users.ChangePassword(r.Context(), user.ID, hash, at, s.revocationUntil(at)); err != nil {
		return tokenPair{}, err
	}
	s.view.Apply(ciphemic.Revocation{UserID: user.ID, ValidAfter: at, ExpiresAt: s.revocationUntil(at), CreatedAt: at})
	s.events.revoked(revokedUser)
	return s.issuePair(r, user, at.Add(time.Millisecond))
}
