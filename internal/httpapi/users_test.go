package httpapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// wantNoSecrets fails when a response carries one of secrets or anything that looks like
// a stored password hash.
func wantNoSecrets(t testing.TB, r response, secrets ...string) {
	t.Helper()
	body := string(r.body)
	for _, s := range append(secrets, "argon2", "pbkdf2", "bcrypt", "$") {
		if strings.Contains(body, s) {
			t.Errorf("response %s contains %q", body, s)
		}
	}
}

func TestUserCreate(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	const pw = "correct horse battery"
	r := in.call(t, s.admin, "POST", "/api/users/", map[string]any{
		"username": " ada ", "password": pw, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
		"roles": []string{"teacher"}, "id": 999, "date_joined": "2000-01-01T00:00:00Z", "last_login": "2000-01-01T00:00:00Z",
	})
	if r.status != 201 {
		t.Fatalf("POST user = %d %s, want 201", r.status, r.body)
	}
	wantNoSecrets(t, r, pw, "password")
	got := r.json(t)
	want := fmt.Sprintf(`{"id":6,"username":"ada","email":"ada@example.com","first_name":"Ada","last_name":"Lovelace","roles":["teacher"],"is_active":true,"date_joined":%q,"last_login":null}`,
		*formatTime(in.clock.Now()))
	if string(r.body) != want {
		t.Errorf("POST user = %s, want %s", r.body, want)
	}
	u, err := in.db.User(context.Background(), int64(got["id"].(float64)))
	if err != nil || !strings.HasPrefix(u.PasswordHash, "argon2") || strings.Contains(u.PasswordHash, pw) {
		t.Errorf("stored hash of the new user = %q, %v; want an argon2id hash", u.PasswordHash, err)
	}
	access, _ := in.login(t, "ada", pw)
	if r := in.get(t, "/api/me/", access); r.status != 200 {
		t.Errorf("new user's /api/me/ = %d %s, want 200", r.status, r.body)
	}
	wantStatusBody(t, in.call(t, s.admin, "POST", "/api/users/", map[string]any{"username": "ada", "password": pw, "roles": []string{"student"}}),
		409, `{"detail":"A user with that username already exists."}`)
	got = in.mustCall(t, s.admin, "POST", "/api/users/", map[string]any{"username": "off", "password": pw, "roles": []string{"student"}, "is_active": "false"}, 201)
	if got["is_active"] != false || got["email"] != "" {
		t.Errorf("POST inactive user = %v, want is_active false and email empty", got)
	}
	wantStatusBody(t, in.postJSON(t, "/api/token/", map[string]string{"username": "off", "password": pw}), 401, bodyNoAccount)
}

func TestUserValidation(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	long := strings.Repeat("a", 151)
	ok := `"password":"a-long-passphrase","roles":["student"]`
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", `{}`, `{"username":["This field is required."],"password":["This field is required."],"roles":["This field is required."]}`},
		{"bad username", `{"username":"bad name!",` + ok + `}`,
			`{"username":["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}`},
		{"long username", `{"username":"` + long + `",` + ok + `}`, `{"username":["Ensure this field has no more than 150 characters."]}`},
		{"blank password", `{"username":"u","password":"","roles":["student"]}`, `{"password":["This field may not be blank."]}`},
		{"short password", `{"username":"u","password":"abc","roles":["student"]}`,
			`{"password":["This password is too short. It must contain at least 8 characters.","This password is too common."]}`},
		{"numeric password", `{"username":"u","password":"12345678","roles":["student"]}`,
			`{"password":["This password is too common.","This password is entirely numeric."]}`},
		{"numeric uncommon password", `{"username":"u","password":"80417395","roles":["student"]}`, `{"password":["This password is entirely numeric."]}`},
		{"common password", `{"username":"u","password":"qwertyui","roles":["student"]}`, `{"password":["This password is too common."]}`},
		{"password like the email", `{"username":"quentin","email":"quentin.lavoisier@example.com","password":"lavoisier2024","roles":["student"]}`,
			`{"password":["The password is too similar to the email address."]}`},
		{"password like the last name", `{"username":"u","last_name":"Lavoisier","password":"lavoisier2024","roles":["student"]}`,
			`{"password":["The password is too similar to the last name."]}`},
		{"password is username", `{"username":"longusername","password":"LongUsername","roles":["student"]}`,
			`{"password":["The password is too similar to the username."]}`},
		{"bad email", `{"username":"u","email":"nope",` + ok + `}`, `{"email":["Enter a valid email address."]}`},
		{"email without tld", `{"username":"u","email":"a@b",` + ok + `}`, `{"email":["Enter a valid email address."]}`},
		{"long first name", `{"username":"u","first_name":"` + long + `",` + ok + `}`, `{"first_name":["Ensure this field has no more than 150 characters."]}`},
		{"roles a string", `{"username":"u","password":"a-long-passphrase","roles":"admin"}`, `{"roles":["Expected a list of items but got type \"str\"."]}`},
		{"roles empty", `{"username":"u","password":"a-long-passphrase","roles":[]}`, `{"roles":["This list may not be empty."]}`},
		{"roles unknown", `{"username":"u","password":"a-long-passphrase","roles":["x"]}`, `{"roles":["\"x\" is not a valid choice."]}`},
		{"roles two", `{"username":"u","password":"a-long-passphrase","roles":["admin","teacher"]}`, `{"roles":["Ensure this field has no more than 1 elements."]}`},
		{"roles null", `{"username":"u","password":"a-long-passphrase","roles":null}`, `{"roles":["This field may not be null."]}`},
		{"is_active maybe", `{"username":"u",` + ok + `,"is_active":"maybe"}`, `{"is_active":["Must be a valid boolean."]}`},
		{"is_active null", `{"username":"u",` + ok + `,"is_active":null}`, `{"is_active":["This field may not be null."]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := in.call(t, s.admin, "POST", "/api/users/", tt.body)
			wantStatusBody(t, r, 400, tt.want)
			wantNoSecrets(t, r, "a-long-passphrase", "12345678")
		})
	}
}

func TestUserUpdate(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	path := fmt.Sprintf("/api/users/%d/", s.student.user.ID)

	got := in.mustCall(t, s.admin, "PATCH", path, map[string]any{"first_name": "Grace", "email": "grace@example.com", "id": 999}, 200)
	if got["first_name"] != "Grace" || got["email"] != "grace@example.com" || got["username"] != "student" || got["id"] != float64(s.student.user.ID) {
		t.Errorf("PATCH names = %v, want only names and email changed", got)
	}
	if r := in.get(t, "/api/me/", s.student.access); r.status != 200 {
		t.Errorf("after a name change the student's token = %d, want 200 (not revoked)", r.status)
	}
	wantStatusBody(t, in.call(t, s.admin, "PATCH", path, map[string]any{"username": "teacher"}), 409,
		`{"detail":"A user with that username already exists."}`)
	wantStatusBody(t, in.call(t, s.admin, "PATCH", path, map[string]any{"password": "student"}), 400,
		`{"password":["The password is too similar to the username.","This password is too short. It must contain at least 8 characters.","This password is too common."]}`)
	wantStatusBody(t, in.call(t, s.admin, "PATCH", path, map[string]any{"username": ""}), 400, `{"username":["This field may not be blank."]}`)
	wantStatusBody(t, in.call(t, s.admin, "PUT", path, map[string]any{"first_name": "x"}), 405,
		`{"detail":"Method \"PUT\" not allowed."}`)
}

// TestUserChangesRevokeTokens checks that each change that must end a user's sessions
// does so at once, on this instance and, after its sync, on another one.
func TestUserChangesRevokeTokens(t *testing.T) {
	tests := []struct {
		name   string
		method string
		suffix string
		body   any
		status int
	}{
		{"password", "PATCH", "", map[string]any{"password": "a-brand-new-passphrase"}, 200},
		{"role", "PATCH", "", map[string]any{"roles": []string{"teacher"}}, 200},
		{"deactivate", "PATCH", "", map[string]any{"is_active": false}, 200},
		{"delete", "DELETE", "", nil, 204},
		{"revoke", "POST", "revoke/", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbPath := t.TempDir() + "/shared.db"
			clock := &testClock{t: time.Now().Truncate(time.Second)}
			in := newInstance(t, options{dbPath: dbPath, clock: clock})
			other := newInstance(t, options{dbPath: dbPath, clock: clock})
			s := newSchool(t, in)
			in.mustCreateUserWith(t, ciphemic.User{Username: "victim", Role: ciphemic.RoleStudent, IsActive: true}, "old-passphrase")
			access, refresh := in.login(t, "victim", "old-passphrase")
			victim := mustUserByName(t, in, "victim")
			if r := other.get(t, "/api/me/", access); r.status != 200 {
				t.Fatalf("token on the other instance before = %d, want 200", r.status)
			}
			r := in.call(t, s.admin, tt.method, fmt.Sprintf("/api/users/%d/%s", victim.ID, tt.suffix), tt.body)
			if r.status != tt.status {
				t.Fatalf("%s = %d %s, want %d", tt.name, r.status, r.body, tt.status)
			}
			if tt.name == "revoke" {
				wantStatusBody(t, r, 200, `{}`)
			}
			wantNoSecrets(t, r, "a-brand-new-passphrase", "password")
			wantStatusBody(t, in.get(t, "/api/school/courses/", access), 401, bodyAccessBad)
			if err := other.view.Sync(context.Background(), other.db); err != nil {
				t.Fatal(err)
			}
			wantStatusBody(t, other.get(t, "/api/school/courses/", access), 401, bodyAccessBad)
			if r := in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": refresh}); r.status != 401 {
				t.Errorf("refresh after %s = %d %s, want 401", tt.name, r.status, r.body)
			}
		})
	}
}

func mustUserByName(t testing.TB, in *instance, username string) ciphemic.User {
	t.Helper()
	u, err := in.db.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatalf("UserByUsername(%q): %v", username, err)
	}
	return u
}

// TestUserPasswordChangeByAdmin checks that the new password works (after the revocation
// instant) and the old one no longer does.
func TestUserPasswordChangeByAdmin(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	u := in.mustCreateUser(t, "pwuser", "old-passphrase", ciphemic.RoleStudent)
	in.mustCall(t, s.admin, "PATCH", fmt.Sprintf("/api/users/%d/", u.ID), map[string]any{"password": " new passphrase "}, 200)
	in.clock.Advance(time.Second)
	wantStatusBody(t, in.postJSON(t, "/api/token/", map[string]string{"username": "pwuser", "password": "old-passphrase"}), 401, bodyNoAccount)
	in.login(t, "pwuser", " new passphrase ")
}

func TestAdminCannotLockThemselfOut(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	self := fmt.Sprintf("/api/users/%d/", s.admin.user.ID)
	const lockout = `{"detail":"You cannot delete or deactivate your own account."}`
	wantStatusBody(t, in.call(t, s.admin, "DELETE", self, nil), 409, lockout)
	wantStatusBody(t, in.call(t, s.admin, "PATCH", self, map[string]any{"is_active": false}), 409, lockout)
	wantStatusBody(t, in.call(t, s.admin, "PATCH", self, map[string]any{"roles": []string{"teacher"}}), 409,
		`{"detail":"You cannot remove your own admin role."}`)
	got := in.mustCall(t, s.admin, "GET", self, nil, 200)
	if got["is_active"] != true || fmt.Sprint(got["roles"]) != "[admin]" {
		t.Errorf("admin after refused changes = %v, want active admin", got)
	}
	in.mustCall(t, s.admin, "PATCH", self, map[string]any{"first_name": "Root"}, 200)
	// Another admin may deactivate this one.
	second := in.mustActor(t, "admin2", ciphemic.RoleAdmin)
	in.mustCall(t, second, "PATCH", self, map[string]any{"is_active": false}, 200)
}

func TestUserResponsesNeverCarryHashes(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	u := in.mustCreateUser(t, "hashed", "some-passphrase", ciphemic.RoleStudent)
	c := in.mustCourse(t, "H", s.teacher.user, 5)
	in.mustEnroll(t, c, u)
	for _, path := range []string{
		"/api/users/", fmt.Sprintf("/api/users/%d/", u.ID), fmt.Sprintf("/api/school/courses/%d/students/", c.ID),
	} {
		r := in.call(t, s.admin, "GET", path, nil)
		if r.status != 200 {
			t.Fatalf("GET %s = %d %s", path, r.status, r.body)
		}
		wantNoSecrets(t, r, "some-passphrase", "password")
	}
}

// TestLastActiveAdminRemains plays the second half of two admins removing each other
// through two instances: admin2's own demotion is committed on one instance, whose
// revocation the other has not synced yet, when admin2 asks the other to remove the
// first admin. The store refuses, so that an active admin remains.
func TestLastActiveAdminRemains(t *testing.T) {
	dbPath := t.TempDir() + "/shared.db"
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	in := newInstance(t, options{dbPath: dbPath, clock: clock})
	other := newInstance(t, options{dbPath: dbPath, clock: clock})
	s := newSchool(t, in)
	second := in.mustActor(t, "admin2", ciphemic.RoleAdmin)
	in.mustCall(t, s.admin, "PATCH", fmt.Sprintf("/api/users/%d/", second.user.ID), map[string]any{"roles": []string{"teacher"}}, 200)

	first := fmt.Sprintf("/api/users/%d/", s.admin.user.ID)
	const last = `{"detail":"At least one active admin must remain."}`
	wantStatusBody(t, other.call(t, second, "PATCH", first, map[string]any{"roles": []string{"student"}}), 409, last)
	wantStatusBody(t, other.call(t, second, "PATCH", first, map[string]any{"is_active": false}), 409, last)
	wantStatusBody(t, other.call(t, second, "DELETE", first, nil), 409, last)
	got := in.mustCall(t, s.admin, "GET", first, nil, 200)
	if got["is_active"] != true || fmt.Sprint(got["roles"]) != "[admin]" {
		t.Errorf("first admin after refused removals = %v, want an active admin", got)
	}
	if r := in.get(t, "/api/me/", s.admin.access); r.status != 200 {
		t.Errorf("first admin's token after refused removals = %d %s, want 200", r.status, r.body)
	}
}

// TestUsernameNFKC: a username is stored in NFKC, as Django's normalize_username leaves
// it, wherever an admin creates or renames a user, so a look-alike of a taken name
// ("ｔeacher", full-width t) is that name and refused as taken, and the 150-character
// and character rules apply to the name as stored.
func TestUsernameNFKC(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	const pw = "correct horse battery"
	create := func(name string) response {
		return in.call(t, s.admin, "POST", "/api/users/", map[string]any{"username": name, "password": pw, "roles": []string{"student"}})
	}
	const taken = `{"detail":"A user with that username already exists."}`
	if got := in.mustCall(t, s.admin, "POST", "/api/users/", map[string]any{"username": "ａda＠ｓchool", "password": pw, "roles": []string{"student"}}, 201); got["username"] != "ada@school" {
		t.Errorf("POST user ａda＠ｓchool: username = %q, want %q", got["username"], "ada@school")
	}
	in.login(t, "ada@school", pw)
	wantStatusBody(t, create("ｔeacher"), 409, taken)
	wantStatusBody(t, create("ｔｅａｃｈｅｒ"), 409, taken)
	// 150 letters with combining accents are 300 characters typed, 150 stored.
	if r := create(strings.Repeat("e\u0301", 150)); r.status != 201 {
		t.Errorf("POST user of 150 composed letters = %d %s, want 201", r.status, r.body)
	}
	// The longest a name of 150 can be typed: four code points to each letter.
	if r := create(strings.Repeat("α\u0314\u0301\u0345", 150)); r.status != 201 || r.json(t)["username"] != strings.Repeat("ᾅ", 150) {
		t.Errorf("POST user of 150 ᾅ typed in 600 code points = %d %s, want 201 with 150 ᾅ", r.status, r.body)
	}
	// "㍿" is four letters once normalised: 40 of them are 160.
	wantStatusBody(t, create(strings.Repeat("㍿", 40)), 400, `{"username":["Ensure this field has no more than 150 characters."]}`)
	wantStatusBody(t, create("ａ\u3000b"), 400,
		`{"username":["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]}`)

	path := fmt.Sprintf("/api/users/%d/", s.student.user.ID)
	wantStatusBody(t, in.call(t, s.admin, "PATCH", path, map[string]any{"username": "ｔeacher2"}), 409, taken)
	if got := in.mustCall(t, s.admin, "PATCH", path, map[string]any{"username": "ｐupil"}, 200); got["username"] != "pupil" {
		t.Errorf("PATCH username ｐupil: username = %q, want %q", got["username"], "pupil")
	}
}
