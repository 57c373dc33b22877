package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
)

// userAdminStore is what the user administration handlers need of the database.
type userAdminStore interface {
	User(ctx context.Context, id int64) (ciphemic.User, error)
	CreateUser(ctx context.Context, u ciphemic.User) (ciphemic.User, error)
	ListUsers(ctx context.Context, q ciphemic.ListQuery) ([]ciphemic.User, int64, error)
	UpdateUser(ctx context.Context, u ciphemic.User, revokeAt, until time.Time) (ciphemic.User, error)
	DeleteUser(ctx context.Context, id int64, revokeAt, until time.Time) error
}

// userOrdering lists the fields ?ordering= accepts on users (and a course's students).
var userOrdering = []string{"id", "username", "email", "date_joined", "last_login"}

// errSelfLockout refuses an admin's deleting or deactivating their own account, by which
// they would lock themself out. That some active admin remains is the store's rule, as
// only the transaction of the change can decide it when two admins act at once.
var errSelfLockout = ciphemic.Errorf(ciphemic.CodeConflict, "You cannot delete or deactivate your own account.")

// errSelfDemotion refuses an admin's taking away their own admin role, for the same reason.
var errSelfDemotion = ciphemic.Errorf(ciphemic.CodeConflict, "You cannot remove your own admin role.")

// userBody is a user as the API shows it. It is built field by field, so the password
// hash can never reach it.
type userBody struct {
	ID         int64           `json:"id"`
	Username   string          `json:"username"`
	Email      string          `json:"email"`
	FirstName  string          `json:"first_name"`
	LastName   string          `json:"last_name"`
	Roles      []ciphemic.Role `json:"roles"`
	IsActive   bool            `json:"is_active"`
	DateJoined *string         `json:"date_joined"`
	LastLogin  *string         `json:"last_login"`
}

func newUserBody(u ciphemic.User) userBody {
	return userBody{
		ID: u.ID, Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Roles: []ciphemic.Role{u.Role}, IsActive: u.IsActive,
		DateJoined: formatTime(u.DateJoined), LastLogin: formatTime(u.LastLogin),
	}
}

// userInput holds the writable fields a user body sent, valid; nil means not sent.
type userInput struct {
	username, password, email, firstName, lastName *string
	role                                           *ciphemic.Role
	isActive                                       *bool
}

// readUser reads a user body; partial (PATCH) makes every field optional. base is the
// user being changed (zero for a new one), against which a new password is validated.
// Read-only fields (id, date_joined, last_login) are never read.
func readUser(body formBody, base ciphemic.User, partial bool, policy ciphemic.PasswordPolicy) (userInput, *fieldErrors) {
	errs := newFieldErrors()
	var in userInput
	if s, ok := body.username(errs, "username", !partial); ok {
		in.username = &s
	}
	if s, ok := body.char(errs, "password", charRule{required: !partial, keepSpace: true}); ok {
		in.password = &s
		checkPassword(errs, body, in, base, policy)
	}
	if s, ok := body.email(errs, "email"); ok {
		in.email = &s
	}
	if s, ok := body.char(errs, "first_name", charRule{allowBlank: true, maxLen: 150}); ok {
		in.firstName = &s
	}
	if s, ok := body.char(errs, "last_name", charRule{allowBlank: true, maxLen: 150}); ok {
		in.lastName = &s
	}
	if role, ok := body.oneRole(errs, "roles", !partial); ok {
		in.role = &role
	}
	if b, ok := body.boolean(errs, "is_active"); ok {
		in.isActive = &b
	}
	return in, errs
}

// checkPassword applies Django's password validators to the sent password, against the
// user as the body will leave it (its username, email and names compared with the
// password).
func checkPassword(errs *fieldErrors, body formBody, in userInput, base ciphemic.User, policy ciphemic.PasswordPolicy) {
	// The other fields are read again, their errors left to readUser, because DRF lists
	// the password's errors in the password's place.
	setIf(&base.Username, in.username)
	if email, ok := body.email(newFieldErrors(), "email"); ok {
		base.Email = email
	}
	for field, dst := range map[string]*string{"first_name": &base.FirstName, "last_name": &base.LastName} {
		if v, ok := body.char(newFieldErrors(), field, charRule{allowBlank: true, maxLen: 150}); ok {
			*dst = v
		}
	}
	for _, msg := range policy.Validate(*in.password, base) {
		errs.add("password", msg)
	}
}

// apply writes the sent fields, except the password, into u.
func (in userInput) apply(u *ciphemic.User) {
	setIf(&u.Username, in.username)
	setIf(&u.Email, in.email)
	setIf(&u.FirstName, in.firstName)
	setIf(&u.LastName, in.lastName)
	setIf(&u.Role, in.role)
	setIf(&u.IsActive, in.isActive)
}

// handleUserList serves GET /api/users/ (admins).
func handleUserList(users userAdminStore, links linkBase) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		lr, err := parseList(r, userOrdering)
		if err != nil {
			return err
		}
		fetch := func(q ciphemic.ListQuery) ([]ciphemic.User, int64, error) {
			return users.ListUsers(r.Context(), q)
		}
		servePage(w, r, links, lr, fetch, newUserBody)
		return nil
	})
}

// handleUserGet serves GET /api/users/{id}/ (admins).
func handleUserGet(users userAdminStore) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		u, err := users.User(r.Context(), id)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, newUserBody(u))
		return nil
	})
}

// handleUserCreate serves POST /api/users/ (admins): the password is validated as Django
// does and stored only as an argon2id hash.
func handleUserCreate(users userAdminStore, hasher *password.Hasher, policy ciphemic.PasswordPolicy, audit auditor) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		body, err := decodeBody(r, true)
		if err != nil {
			return err
		}
		in, errs := readUser(body, ciphemic.User{}, false, policy)
		u := ciphemic.User{IsActive: true}
		in.apply(&u)
		if err := errs.errOrNil(); err != nil {
			return err
		}
		if u.PasswordHash, err = hasher.Hash(*in.password); err != nil {
			return err
		}
		created, err := users.CreateUser(r.Context(), u)
		if err != nil {
			return err
		}
		audit.record(r, adminEvent(r, ciphemic.AuditUserCreate, created, ""))
		encode(w, r, http.StatusCreated, newUserBody(created))
		return nil
	})
}

// handleUserUpdate serves PATCH /api/users/{id}/ (admins). A new password, a new role or
// a deactivation ends every token of the user at once, here and on every instance.
// Demoting or deactivating the last active admin is refused by the store (409).
func handleUserUpdate(users userAdminStore, hasher *password.Hasher, policy ciphemic.PasswordPolicy, s sessions) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, u, err := adminTarget(r, users)
		if err != nil {
			return err
		}
		body, err := decodeBody(r, true)
		if err != nil {
			return err
		}
		in, errs := readUser(body, u, true, policy)
		before := u
		in.apply(&u)
		if err := errs.errOrNil(); err != nil {
			return err
		}
		if err := checkSelfLockout(p, u); err != nil {
			return err
		}
		u.PasswordHash = "" // kept by the store unless a new one is set
		if in.password != nil {
			if u.PasswordHash, err = hasher.Hash(*in.password); err != nil {
				return err
			}
		}
		revoke := in.password != nil || u.Role != before.Role || (in.isActive != nil && !*in.isActive)
		updated, err := updateUser(r.Context(), users, s, u, revoke)
		if err != nil {
			return err
		}
		s.audit.record(r, adminEvent(r, ciphemic.AuditUserUpdate, updated, changedFields(in, before, updated, revoke)))
		encode(w, r, http.StatusOK, newUserBody(updated))
		return nil
	})
}

// adminTarget loads the user of the path for an admin's change.
func adminTarget(r *http.Request, users userAdminStore) (ciphemic.Principal, ciphemic.User, error) {
	p, err := principalFrom(r)
	if err != nil {
		return p, ciphemic.User{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return p, ciphemic.User{}, err
	}
	u, err := users.User(r.Context(), id)
	return p, u, err
}

// checkSelfLockout refuses the changes by which an admin would lock themself out.
func checkSelfLockout(p ciphemic.Principal, u ciphemic.User) error {
	switch {
	case u.ID != p.UserID:
		return nil
	case !u.IsActive:
		return errSelfLockout
	case u.Role != ciphemic.RoleAdmin:
		return errSelfDemotion
	}
	return nil
}

// updateUser writes u; with revoke, the store revokes the user's tokens in the same
// transaction and this instance's view learns it at once.
func updateUser(ctx context.Context, users userAdminStore, s sessions, u ciphemic.User, revoke bool) (ciphemic.User, error) {
	var at, until time.Time
	if revoke {
		at = s.now()
		until = s.revocationUntil(at)
	}
	updated, err := users.UpdateUser(ctx, u, at, until)
	if err != nil {
		return updated, err
	}
	if revoke {
		applyUserRevocation(s, u.ID, at, until)
	}
	return updated, nil
}

// applyUserRevocation tells this instance's view what the store just recorded, as
// sessions.revokeUser does, so that the user's tokens stop here without waiting for a sync.
func applyUserRevocation(s sessions, userID int64, at, until time.Time) {
	s.view.Apply(ciphemic.Revocation{UserID: userID, ValidAfter: at, ExpiresAt: until, CreatedAt: at})
	s.events.revoked(revokedUser)
}

// handleUserDelete serves DELETE /api/users/{id}/ (admins): the user, their enrollments
// and refresh tokens go, and their access tokens stop everywhere. Deleting the last
// active admin is refused by the store (409).
func handleUserDelete(users userAdminStore, s sessions) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		// The user is read first so that the audit trail names whom the row was.
		p, u, err := adminTarget(r, users)
		if err != nil {
			return err
		}
		if u.ID == p.UserID {
			return errSelfLockout
		}
		at := s.now()
		until := s.revocationUntil(at)
		if err := users.DeleteUser(r.Context(), u.ID, at, until); err != nil {
			return err
		}
		applyUserRevocation(s, u.ID, at, until)
		s.audit.record(r, adminEvent(r, ciphemic.AuditUserDelete, u, ""))
		noContent(w)
		return nil
	})
}

// handleUserRevoke serves POST /api/users/{id}/revoke/ (admins): every token of the user
// ends at once, as the user's own revoke-all would.
func handleUserRevoke(users userAdminStore, s sessions) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		_, u, err := adminTarget(r, users)
		if err != nil {
			return err
		}
		if err := s.revokeUser(r.Context(), u.ID, s.now()); err != nil {
			return err
		}
		s.audit.record(r, adminEvent(r, ciphemic.AuditUserRevoke, u, ""))
		encode(w, r, http.StatusOK, emptyBody{})
		return nil
	})
}
