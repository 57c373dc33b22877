package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/sqlite"
)

// djangoUsers are the users of testdata/django_users.json, made by testdata/gen_dumpdata.py
// with the real Django; password "" means an unusable password.
var djangoUsers = []struct {
	id       int64
	username string
	password string
	role     ciphemic.Role
	active   bool
}{
	{3, "root", "root-Pa55word!", ciphemic.RoleAdmin, true},
	{7, "mrs.teach", "teach-Pa55word!", ciphemic.RoleTeacher, true},
	{12, "alice", "alice-Pa55wörd", ciphemic.RoleStudent, true},
	{40, "gone", "gone-Pa55word!", ciphemic.RoleStudent, false},
	{41, "nopass", "", ciphemic.RoleStudent, true},
}

const djangoFixture = "testdata/django_users.json"

// mustImport runs import-users and returns its output, failing the test on error.
func mustImport(t *testing.T, dbPath, file string, extra ...string) string {
	t.Helper()
	args := append([]string{"import-users", "--database", "sqlite:" + dbPath, "--django", file}, extra...)
	out, _, err := runCmd(t, nil, "", args...)
	if err != nil {
		t.Fatalf("import-users %v: %v", extra, err)
	}
	return out
}

// mustOpen opens the SQLite store at path for inspection.
func mustOpen(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// TestImportUsersLogin imports the real Django dump, then every active user logs in with
// their Django password through a real server and is who Django said: same id, mapped role.
func TestImportUsersLogin(t *testing.T) {
	dbPath := migratedDB(t, "import.db")
	if out := mustImport(t, dbPath, djangoFixture); out != "Imported 5 users: 5 created, 0 updated.\n" {
		t.Errorf("import-users output = %q, want 5 created", out)
	}
	s := startServer(t, dbPath)
	if s.adminPW != "" {
		t.Error("serve created its own admin on a store holding imported users")
	}
	for _, u := range djangoUsers {
		t.Run(u.username, func(t *testing.T) {
			pw := u.password
			if pw == "" {
				pw = "anything"
			}
			body, _ := json.Marshal(map[string]string{"username": u.username, "password": pw})
			status, pair := s.post(t, "/api/token/", string(body), "")
			if !u.active || u.password == "" {
				if status != 401 {
					t.Errorf("login %q (inactive or unusable password) = %d, want 401", u.username, status)
				}
				return
			}
			if status != 200 {
				t.Fatalf("login %q with its Django password = %d %v, want 200", u.username, status, pair)
			}
			status, me := s.get(t, "/api/me/", pair["access"].(string))
			roles, _ := me["roles"].([]any)
			if status != 200 || me["id"] != float64(u.id) || len(roles) != 1 || roles[0] != string(u.role) {
				t.Errorf("GET /api/me/ as %q = %d %v, want id %d roles [%s]", u.username, status, me, u.id, u.role)
			}
			body, _ = json.Marshal(map[string]string{"username": u.username, "password": "wrong-" + u.password})
			if status, _ := s.post(t, "/api/token/", string(body), ""); status != 401 {
				t.Errorf("login %q with a wrong password = %d, want 401", u.username, status)
			}
		})
	}
	// Each Django hash that logged in was replaced by argon2id; the unusable one was kept.
	db := mustOpen(t, dbPath)
	for _, u := range djangoUsers {
		got, err := db.UserByUsername(context.Background(), u.username)
		upgraded := strings.HasPrefix(got.PasswordHash, "argon2$argon2id$")
		if err != nil || upgraded != (u.active && u.password != "") {
			t.Errorf("hash of %q after login: argon2id = %v, %v; want %v", u.username, upgraded, err, u.active && u.password != "")
		}
	}
	for _, u := range djangoUsers {
		if u.password != "" && strings.Contains(s.logText(), u.password) {
			t.Errorf("the password of %q reached the log", u.username)
		}
	}
}

// TestImportUsersIdempotent: a rerun updates every user instead of adding any, keeps the
// ids, and writes the file's values over changes made since.
func TestImportUsersIdempotent(t *testing.T) {
	dbPath := migratedDB(t, "import.db")
	mustImport(t, dbPath, djangoFixture)
	edited := editFixture(t, func(recs []map[string]any) {
		fields(recs[2])["first_name"] = "Alicia"
		fields(recs[2])["is_active"] = false
	})
	const want = "Imported 5 users: 0 created, 5 updated.\n" +
		"Ended the sessions of the users whose role, password or active flag changed (1): alice.\n"
	if out := mustImport(t, dbPath, edited); out != want {
		t.Errorf("second import-users output = %q, want %q", out, want)
	}
	db := mustOpen(t, dbPath)
	_, total, err := db.ListUsers(context.Background(), ciphemic.ListQuery{Limit: 100})
	if err != nil || total != int64(len(djangoUsers)) {
		t.Errorf("ListUsers total after two imports = %d, %v; want %d", total, err, len(djangoUsers))
	}
	for _, want := range djangoUsers {
		u, err := db.UserByUsername(context.Background(), want.username)
		if err != nil || u.ID != want.id {
			t.Errorf("UserByUsername(%q) = id %d, %v; want id %d", want.username, u.ID, err, want.id)
		}
	}
	alice, _ := db.UserByUsername(context.Background(), "alice")
	if alice.FirstName != "Alicia" || alice.IsActive {
		t.Errorf("alice after re-import = %q active %v, want the file's \"Alicia\" inactive", alice.FirstName, alice.IsActive)
	}
}

// TestImportUsersRoleOverride: --role replaces the superuser/staff mapping for everyone.
func TestImportUsersRoleOverride(t *testing.T) {
	dbPath := migratedDB(t, "import.db")
	mustImport(t, dbPath, djangoFixture, "--role", "student")
	db := mustOpen(t, dbPath)
	for _, want := range djangoUsers {
		u, err := db.UserByUsername(context.Background(), want.username)
		if err != nil || u.Role != ciphemic.RoleStudent {
			t.Errorf("UserByUsername(%q) with --role student = %q, %v; want student", want.username, u.Role, err)
		}
	}
	if _, _, err := runCmd(t, nil, "", "import-users", "--database", "sqlite:"+dbPath, "--django", djangoFixture, "--role", "root"); err == nil ||
		!strings.Contains(err.Error(), "--role") {
		t.Errorf("import-users --role root: %v, want an error naming --role", err)
	}
}

// editFixture writes a copy of the fixture changed by edit and returns its path.
func editFixture(t *testing.T, edit func(recs []map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(djangoFixture)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(data, &recs); err != nil {
		t.Fatal(err)
	}
	edit(recs)
	out, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, string(out))
}

func fields(rec map[string]any) map[string]any { return rec["fields"].(map[string]any) }

// fixtureHashes are the password hashes of the fixture, which no output may show.
func fixtureHashes(t *testing.T) []string {
	t.Helper()
	var hashes []string
	editFixture(t, func(recs []map[string]any) {
		for _, r := range recs {
			hashes = append(hashes, fields(r)["password"].(string))
		}
	})
	return hashes
}

// TestImportUsersBadFile: every kind of bad file is refused with one line naming the record,
// nothing is imported (not even the good records before the bad one), and no hash is shown.
func TestImportUsersBadFile(t *testing.T) {
	const md5Hex = "5f4dcc3b5aa765d61d8327deb882cf99"
	edit := func(f func(recs []map[string]any)) func(t *testing.T) string {
		return func(t *testing.T) string { return editFixture(t, f) }
	}
	literal := func(s string) func(t *testing.T) string {
		return func(t *testing.T) string { return writeFile(t, s) }
	}
	setField := func(i int, name string, v any) func(t *testing.T) string {
		return edit(func(recs []map[string]any) { fields(recs[i])[name] = v })
	}
	tests := []struct {
		name string
		file func(t *testing.T) string
		want []string
	}{
		{"not JSON", literal(`[{"model": "auth.user", `), []string{"not JSON"}},
		{"empty file", literal(``), []string{"not JSON"}},
		{"not a list", literal(`{"model": "auth.user", "pk": 1}`), []string{"not a list", "object"}},
		{"null", literal(`null`), []string{"not a list"}},
		{"record not an object", literal(`[7]`), []string{"record [0]", "not a JSON object"}},
		{"wrong model", edit(func(recs []map[string]any) { recs[1]["model"] = "auth.permission" }),
			[]string{`record [1] (pk 7, username "mrs.teach")`, `"auth.permission"`}},
		{"no fields", edit(func(recs []map[string]any) { delete(recs[1], "fields") }), []string{"record [1] (pk 7)", "missing fields"}},
		{"bad pk", edit(func(recs []map[string]any) { recs[2]["pk"] = -12 }), []string{"record [2]", "alice", "pk"}},
		{"pk not a number", edit(func(recs []map[string]any) { recs[2]["pk"] = "12" }), []string{"record [2]", "pk"}},
		{"missing username", edit(func(recs []map[string]any) { delete(fields(recs[2]), "username") }),
			[]string{"record [2] (pk 12)", "missing username"}},
		{"blank username", setField(2, "username", "  "), []string{"record [2] (pk 12", "missing username"}},
		{"duplicate username", setField(3, "username", "alice"),
			[]string{`record [3] (pk 40, username "alice")`, "duplicate username", "record [2]"}},
		{"look-alike username", setField(3, "username", "ａlice"),
			[]string{`record [3] (pk 40, username "ａlice")`, "duplicate username", `record [2] has "alice"`, "NFKC"}},
		{"long username once normalised", setField(2, "username", strings.Repeat("㍿", 40)), []string{"record [2]", "longer than 150"}},
		{"duplicate pk", edit(func(recs []map[string]any) { recs[3]["pk"] = 12 }),
			[]string{`record [3] (pk 12, username "gone")`, "duplicate pk"}},
		{"unparseable date_joined", setField(0, "date_joined", "yesterday"), []string{`record [0] (pk 3, username "root")`, "date_joined", "yesterday"}},
		{"unparseable last_login", setField(4, "last_login", "2024-13-45T00:00:00Z"), []string{"record [4]", "last_login"}},
		{"missing date_joined", setField(4, "date_joined", nil), []string{"record [4]", "date_joined"}},
		{"wrong type", setField(1, "is_active", "yes"), []string{`record [1] (pk 7, username "mrs.teach")`, "is_active", "boolean", "string"}},
		{"missing is_active", edit(func(recs []map[string]any) { delete(fields(recs[1]), "is_active") }), []string{"record [1]", "is_active"}},
		{"md5 hasher", setField(2, "password", "md5$seasalt$"+md5Hex), []string{"record [2]", "md5"}},
		{"unknown algorithm", setField(2, "password", md5Hex), []string{"record [2]", "unknown algorithm"}},
		{"scrypt hasher", setField(1, "password", "scrypt$16384$salt$8$1$abc="), []string{"record [1]", "scrypt"}},
		{"empty hash", setField(1, "password", ""), []string{"record [1]", "empty"}},
		{"missing password", edit(func(recs []map[string]any) { delete(fields(recs[1]), "password") }), []string{"record [1]", "password"}},
	}
	hashes := append(fixtureHashes(t), md5Hex)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "bad.db")
			stdout, stderr, err := runCmd(t, nil, "", "import-users", "--database", "sqlite:"+dbPath, "--django", tt.file(t))
			if err == nil {
				t.Fatalf("import-users = %q, want an error", stdout)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error = %q, want it to contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") || !strings.Contains(msg, "nothing was imported") {
				t.Errorf("error = %q, want one line saying nothing was imported", msg)
			}
			wantNoHash(t, hashes, msg, stdout, stderr)
			wantUsers(t, dbPath, 0)
		})
	}
}

// TestImportUsersAllOrNothing: when the store refuses one record (its pk belongs to another
// user), the records it already accepted are rolled back with it.
func TestImportUsersAllOrNothing(t *testing.T) {
	dbPath := migratedDB(t, "import.db")
	if _, _, err := runCmd(t, nil, "other-Pa55word\n", "createuser", "--database", "sqlite:"+dbPath, "--username", "other", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	file := editFixture(t, func(recs []map[string]any) { recs[len(recs)-1]["pk"] = 1 })
	stdout, stderr, err := runCmd(t, nil, "", "import-users", "--database", "sqlite:"+dbPath, "--django", file)
	if err == nil || !strings.Contains(err.Error(), "taken") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("import-users with a taken pk = %q, %v; want one line saying the id is taken", stdout, err)
	}
	wantNoHash(t, fixtureHashes(t), err.Error(), stdout, stderr)
	wantUsers(t, dbPath, 1)
}

func wantNoHash(t *testing.T, hashes []string, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		for _, h := range hashes {
			if strings.Contains(out, h) {
				t.Errorf("output %q shows a password hash", out)
			}
		}
	}
}

// wantUsers checks how many users the store at dbPath holds.
func wantUsers(t *testing.T, dbPath string, n int64) {
	t.Helper()
	_, total, err := mustOpen(t, dbPath).ListUsers(context.Background(), ciphemic.ListQuery{Limit: 100})
	if err != nil || total != n {
		t.Errorf("ListUsers total = %d, %v; want %d", total, err, n)
	}
}

// mustKeeperAdmin creates a second active admin, so that an import may demote or
// deactivate the dump's only superuser (the last active admin must remain).
func mustKeeperAdmin(t *testing.T, dbPath string) {
	t.Helper()
	if _, _, err := runCmd(t, nil, "keeper-admin-password\n", "createuser", "--database", "sqlite:"+dbPath,
		"--username", "keeper", "--role", "admin", "--password-stdin"); err != nil {
		t.Fatalf("createuser keeper: %v", err)
	}
}

// refreshes reports whether refresh still buys a pair, and returns the rotated one.
func refreshes(t *testing.T, s *server, refresh string) (bool, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"refresh": refresh})
	status, pair := s.post(t, "/api/token/refresh/", string(body), "")
	next, _ := pair["refresh"].(string)
	return status == 200, next
}

// TestImportUsersRevokes: re-importing a superuser with a new password hash and
// is_superuser false ends the tokens they hold on a running server — the admin access
// token stops within the revocation bound, the refresh token at once — while re-importing
// an unchanged dump, after a login upgraded the hash to argon2id, logs nobody out.
func TestImportUsersRevokes(t *testing.T) {
	dbPath := migratedDB(t, "import.db")
	mustImport(t, dbPath, djangoFixture)
	mustKeeperAdmin(t, dbPath)
	s := startServer(t, dbPath)
	root := djangoUsers[0]
	access, refresh := mustLogin(t, s, root.username, root.password)

	if out := mustImport(t, dbPath, djangoFixture); strings.Contains(out, "sessions") {
		t.Errorf("re-importing the unchanged dump after root's login: %q, want nobody's sessions ended", out)
	}
	if rs, err := mustOpen(t, dbPath).RevocationsSince(context.Background(), time.Time{}); err != nil || len(rs) != 0 {
		t.Errorf("revocations after re-importing the unchanged dump = %+v, %v, want none", rs, err)
	}
	ok, refresh := refreshes(t, s, refresh)
	if !ok {
		t.Fatalf("root's refresh token after re-importing the unchanged dump was refused, want it live")
	}
	if status, _ := s.get(t, "/api/users/", access); status != 200 {
		t.Fatalf("GET /api/users/ as root after re-importing the unchanged dump = %d, want 200", status)
	}

	// Root gets alice's Django hash (so alice's password) and loses is_superuser.
	demoted := editFixture(t, func(recs []map[string]any) {
		fields(recs[0])["password"] = fields(recs[2])["password"]
		fields(recs[0])["is_superuser"] = false
	})
	if out := mustImport(t, dbPath, demoted); !strings.Contains(out, "Ended the sessions of the users whose role, password or active flag changed (1): root.") {
		t.Errorf("import-users demoting root: %q, want it to say root's sessions ended", out)
	}
	start := time.Now()
	for status, _ := s.get(t, "/api/users/", access); status != 401; status, _ = s.get(t, "/api/users/", access) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("GET /api/users/ with root's old admin token still %d after %v, want 401", status, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ok, _ := refreshes(t, s, refresh); ok {
		t.Errorf("root's refresh token after the demoting import still refreshes, want 401")
	}
	body, _ := json.Marshal(map[string]string{"username": root.username, "password": root.password})
	if status, _ := s.post(t, "/api/token/", string(body), ""); status != 401 {
		t.Errorf("login as root with the old password after the import = %d, want 401", status)
	}
	access, _ = mustLogin(t, s, root.username, djangoUsers[2].password)
	if status, _ := s.get(t, "/api/users/", access); status != 403 {
		t.Errorf("GET /api/users/ as the demoted root = %d, want 403", status)
	}
}

// TestImportUsersRevocationBound: the revocations of an import last as long as the
// servers' access tokens (plus leeway and a second), as --access-token-lifetime and
// --leeway or their CIPHEMIC_* variables say, so no access token outlives them.
func TestImportUsersRevocationBound(t *testing.T) {
	dbPath := migratedDB(t, "import.db")
	mustImport(t, dbPath, djangoFixture)
	mustKeeperAdmin(t, dbPath)
	deactivated := editFixture(t, func(recs []map[string]any) { fields(recs[0])["is_active"] = false })
	env := map[string]string{"CIPHEMIC_ACCESS_TOKEN_LIFETIME": "1h"}
	if _, _, err := runCmd(t, env, "", "import-users", "--database", "sqlite:"+dbPath, "--django", deactivated, "--leeway", "30s"); err != nil {
		t.Fatalf("import-users deactivating root: %v", err)
	}
	rs, err := mustOpen(t, dbPath).RevocationsSince(context.Background(), time.Time{})
	if err != nil || len(rs) != 1 || rs[0].UserID != djangoUsers[0].id {
		t.Fatalf("revocations after deactivating root = %+v, %v; want one of user %d", rs, err, djangoUsers[0].id)
	}
	if got, want := rs[0].ExpiresAt.Sub(rs[0].ValidAfter), time.Hour+31*time.Second; got != want {
		t.Errorf("revocation lasts %v, want %v (lifetime + leeway + 1s)", got, want)
	}
	for _, bad := range [][]string{{"--access-token-lifetime", "0s"}, {"--leeway", "-1s"}} {
		_, _, err := runCmd(t, nil, "", append([]string{"import-users", "--database", "sqlite:" + dbPath, "--django", deactivated}, bad...)...)
		if err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("import-users %v: %v, want an error naming %s", bad, err, bad[0])
		}
	}
}

// TestImportUsersNFKC: import-users stores usernames in NFKC, and refuses, naming both, a
// record whose username is a look-alike of another user's instead of merging the two.
func TestImportUsersNFKC(t *testing.T) {
	dbPath := migratedDB(t, "import.db")
	if _, _, err := runCmd(t, nil, "other-Pa55word\n", "createuser", "--database", "sqlite:"+dbPath, "--username", "root", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	lookalike := editFixture(t, func(recs []map[string]any) { fields(recs[0])["username"] = "ｒoot" })
	stdout, stderr, err := runCmd(t, nil, "", "import-users", "--database", "sqlite:"+dbPath, "--django", lookalike)
	want := `import users: record ｒoot: username is NFKC-equal to "root", the username of user 1; nothing was imported`
	if err == nil || err.Error() != want {
		t.Fatalf("import-users with ｒoot beside root = %q, %v; want %q", stdout, err, want)
	}
	wantNoHash(t, fixtureHashes(t), err.Error(), stdout, stderr)
	wantUsers(t, dbPath, 1)

	renamed := editFixture(t, func(recs []map[string]any) { fields(recs[0])["username"] = "ｒｏｏｔ２" })
	mustImport(t, dbPath, renamed)
	u, err := mustOpen(t, dbPath).UserByUsername(context.Background(), "root2")
	if err != nil || u.ID != djangoUsers[0].id {
		t.Errorf("UserByUsername(root2) after importing ｒｏｏｔ２ = %d, %v; want user %d", u.ID, err, djangoUsers[0].id)
	}
}
