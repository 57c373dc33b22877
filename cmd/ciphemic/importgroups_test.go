package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// TestImportUsersGroupRoles: members of a mapped group get its role, the strongest of
// several; everyone else keeps the superuser/staff rule.
func TestImportUsersGroupRoles(t *testing.T) {
	file := writeFile(t, groupDump(t))
	dbPath := migratedDB(t, "groups.db")
	mustImport(t, dbPath, file, "--role-from-group", "teachers=teacher", "--role-from-group", "school-admins=admin")
	db := mustOpen(t, dbPath)
	for name, want := range map[string]ciphemic.Role{
		"alice": ciphemic.RoleTeacher, "mrs.teach": ciphemic.RoleAdmin, "root": ciphemic.RoleAdmin, "gone": ciphemic.RoleStudent,
	} {
		u, err := db.UserByUsername(context.Background(), name)
		if err != nil || u.Role != want {
			t.Errorf("role of %s = %q, %v, want %q", name, u.Role, err, want)
		}
	}
}

// groupDump is the fixture with three groups in front, as dumpdata writes them.
func groupDump(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(djangoFixture)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	// The memberships of the fixture's users, by username.
	for name, groups := range map[string]string{`"alice"`: "[1]", `"mrs.teach"`: "[2, 1]", `"root"`: "[3]"} {
		i := strings.Index(s, `"username": `+name)
		if i < 0 {
			t.Fatalf("fixture has no %s", name)
		}
		j := strings.Index(s[i:], `"groups": []`)
		if j < 0 {
			t.Fatalf("fixture's %s has no empty groups", name)
		}
		s = s[:i+j] + `"groups": ` + groups + s[i+j+len(`"groups": []`):]
	}
	groups := `{"model": "auth.group", "pk": 1, "fields": {"name": "teachers", "permissions": []}}, ` +
		`{"model": "auth.group", "pk": 2, "fields": {"name": "school-admins", "permissions": []}}, ` +
		`{"model": "auth.group", "pk": 3, "fields": {"name": "alumni", "permissions": []}}, `
	start := strings.Index(s, "[")
	return s[:start+1] + groups + s[start+1:]
}

// TestImportUsersGroupErrors: a group name the dump does not have, a group given two
// roles, or --role beside --role-from-group is refused before anything is imported.
func TestImportUsersGroupErrors(t *testing.T) {
	file := writeFile(t, groupDump(t))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--role-from-group", "teachers=teacher", "--role-from-group", "teacher=admin"}, `no group named "teacher" in the dump`},
		{[]string{"--role-from-group", "teachers=teacher", "--role-from-group", "teachers=admin"}, "two roles"},
		{[]string{"--role-from-group", "teachers=boss"}, `"boss" is not admin, teacher or student`},
		{[]string{"--role-from-group", "teachers"}, "NAME=ROLE"},
		{[]string{"--role", "student", "--role-from-group", "teachers=teacher"}, "cannot be combined with --role"},
	} {
		dbPath := migratedDB(t, "bad.db")
		args := append([]string{"import-users", "--database", "sqlite:" + dbPath, "--django", file}, tc.args...)
		_, _, err := runCmd(t, nil, "", args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("import-users %v = %v, want an error saying %q", tc.args, err, tc.want)
		}
		if n, _ := mustOpen(t, dbPath).CountUsers(context.Background()); n != 0 {
			t.Errorf("import-users %v imported %d users", tc.args, n)
		}
	}
}

// tokenDump is a `dumpdata token_blacklist` of the shape simplejwt 5.2 writes: a login's
// token of alice (pk 12), and one it recorded without a user when blacklisting it at a
// rotation, whose user only the token text says.
func tokenDump(t *testing.T, userless string, exp time.Time) string {
	t.Helper()
	e := exp.UTC().Format("2006-01-02T15:04:05Z")
	return fmt.Sprintf(`[
{"model": "token_blacklist.outstandingtoken", "pk": 1, "fields": {"user": 12, "jti": "aabf05bdc1664ff1b54ea983bceda938", "token": "x", "created_at": "2026-12-04T18:09:37.367Z", "expires_at": %q}},
{"model": "token_blacklist.outstandingtoken", "pk": 2, "fields": {"user": null, "jti": "0fe55122dda04c059163d99b9b26071d", "token": %q, "created_at": null, "expires_at": %q}},
{"model": "token_blacklist.blacklistedtoken", "pk": 1, "fields": {"token": 2, "blacklisted_at": "2026-12-04T18:09:41.921Z"}}
]`, e, userless, e)
}

// TestImportTokensUserless: the user of a record without one comes from its token,
// verified with --signing-key-file; without the key, or with a token another key signed,
// nothing is imported.
func TestImportTokensUserless(t *testing.T) {
	dbPath := migratedDB(t, "tokens.db")
	mustImport(t, dbPath, djangoFixture)
	dir := t.TempDir()
	keyFile, otherKey := filepath.Join(dir, "django.key"), filepath.Join(dir, "other.key")
	for _, f := range []string{keyFile, otherKey} {
		if err := os.WriteFile(f, []byte(f+"-0123456789abcdef0123456789abcdef"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	exp := now.Add(time.Hour)
	userless := djangoSigned(t, keyFile, "0fe55122dda04c059163d99b9b26071d", 7, now, exp)
	file := writeFile(t, tokenDump(t, userless, exp))
	args := []string{"import-tokens", "--database", "sqlite:" + dbPath, "--django", file}

	_, _, err := runCmd(t, nil, "", args...)
	if err == nil || !strings.Contains(err.Error(), "--signing-key-file") {
		t.Errorf("import-tokens without a key = %v, want it to ask for --signing-key-file", err)
	}
	_, _, err = runCmd(t, nil, "", append(args, "--signing-key-file", otherKey)...)
	if err == nil || !strings.Contains(err.Error(), "record [1]") || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("import-tokens with another key = %v, want record [1] refused", err)
	}
	db := mustOpen(t, dbPath)
	if _, ok, _ := db.Cutover(context.Background()); ok {
		t.Fatal("a refused import-tokens recorded the cut-over")
	}
	out, _, err := runCmd(t, nil, "", append(args, "--signing-key-file", keyFile)...)
	if err != nil || !strings.Contains(out, "2 recorded") {
		t.Fatalf("import-tokens = %q, %v, want 2 recorded", out, err)
	}
	rt, err := db.RefreshToken(context.Background(), "0fe55122dda04c059163d99b9b26071d")
	if err != nil || rt.UserID != 7 || rt.BlacklistedAt.IsZero() {
		t.Errorf("record of the userless token = %+v, %v, want mrs.teach's (7), blacklisted", rt, err)
	}
}

// djangoSigned signs a refresh token as simplejwt does: no kid, HS256 with the key file.
func djangoSigned(t *testing.T, keyFile, jti string, userID int64, iat, exp time.Time) string {
	t.Helper()
	secret, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	payload := fmt.Sprintf(`{"token_type":"refresh","exp":%d,"iat":%d,"jti":%q,"user_id":%d}`, exp.Unix(), iat.Unix(), jti, userID)
	return forgeJWS(`{"alg":"HS256","typ":"JWT"}`, payload, hmacSigner("HS256", secret))
}
