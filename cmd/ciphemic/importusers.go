package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/username"
)

// importUsersSettings are the flags of `ciphemic import-users`.
type importUsersSettings struct {
	store  storeSettings
	django string
	role   string
	// groups is --role-from-group; renumber gives the imported users new ids.
	groups   groupRoles
	renumber bool
	// accessLifetime and leeway are the servers': a revocation the import makes must
	// outlast every access token it ends.
	accessLifetime, leeway time.Duration
}

// register adds the flags of import-users to fs.
func (s *importUsersSettings) register(fs *flag.FlagSet) {
	s.store.register(fs)
	fs.StringVar(&s.django, "django", "", "`FILE` of JSON written by Django's manage.py dumpdata auth.user, or dumpdata auth.group auth.user (required)")
	fs.StringVar(&s.role, "role", "", "give every imported user this role (admin, teacher or student); unset: superusers are admin, staff teacher, others student")
	fs.Var(&s.groups, "role-from-group", "`NAME=ROLE`: members of the Django group NAME get ROLE (repeatable; the strongest role of a user's groups wins; users in none keep the --role or superuser/staff rule); needs auth.group in the dump")
	fs.BoolVar(&s.renumber, "renumber", false, "give the imported users new ids instead of their Django pks (when the store already has users with those ids); ciphemic records the Django ids, so that Django's tokens still name the right user")
	fs.DurationVar(&s.accessLifetime, "access-token-lifetime", 5*time.Minute, "access token lifetime of the servers: the access tokens of a user whose role, password or active flag the import changes are refused that long (plus leeway), until they have expired")
	fs.DurationVar(&s.leeway, "leeway", 0, "leeway of the servers")
}

// runImportUsers is `ciphemic import-users`: it moves the users of a Django deployment into
// the store, keeping their pks (so tokens the Django server issued still name the same user)
// and their password hashes (upgraded to argon2id at each user's next login). The whole file
// is checked before the store is touched, and the store imports it in one transaction, so a
// bad file imports nothing and a rerun updates instead of duplicating.
func runImportUsers(ctx context.Context, args []string, e env) error {
	var s importUsersSettings
	fs := newFlagSet("import-users")
	s.register(fs)
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	override, err := s.roleOverride()
	if err != nil {
		return err
	}
	switch {
	case override != "" && len(s.groups) > 0:
		return invalid("role-from-group", "cannot be combined with --role, which gives every user one role")
	case s.django == "":
		return invalid("django", "required: the file of `manage.py dumpdata auth.user`")
	case s.accessLifetime <= 0:
		return invalid("access-token-lifetime", "must be positive")
	case s.leeway < 0:
		return invalid("leeway", "must not be negative")
	}
	data, err := os.ReadFile(s.django)
	if err != nil {
		return invalid("django", "cannot read it: %v", err)
	}
	users, err := parseDjangoUsers(data, roleRules{override: override, byGroup: s.groups})
	if err != nil {
		if errors.Is(err, errUsage) {
			return err
		}
		return fmt.Errorf("%s: %w; nothing was imported", s.django, err)
	}
	at := time.Now()
	res, err := importUsers(ctx, s.store, users, at, at.Add(s.accessLifetime+s.leeway+time.Second), s.renumber)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Imported %d users: %d created, %d updated.\n", len(users), res.Created, res.Updated)
	if len(res.Revoked) > 0 {
		fmt.Fprintf(e.stdout, "Ended the sessions of the users whose role, password or active flag changed (%d): %s.\n",
			len(res.Revoked), nameList(res.Revoked, 20))
	}
	return nil
}

// nameList joins the first n names, and says how many more there are.
func nameList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// roleOverride returns the --role every user gets, or "" to map Django's flags.
func (s importUsersSettings) roleOverride() (ciphemic.Role, error) {
	if s.role == "" {
		return "", nil
	}
	role, err := ciphemic.ParseRole(s.role)
	if err != nil {
		return "", invalid("role", "%q is not admin, teacher or student", s.role)
	}
	return role, nil
}

// importUsers opens the store and hands it every user at once, with the revocation that
// ends the tokens of the users whose role, password or active flag the import changes.
func importUsers(ctx context.Context, ss storeSettings, users []ciphemic.User, revokeAt, until time.Time, renumber bool) (store.ImportResult, error) {
	db, err := openExisting(ctx, ss)
	if err != nil {
		return store.ImportResult{}, err
	}
	defer db.Close()
	if len(users) == 0 {
		return store.ImportResult{}, nil
	}
	imp := db.ImportUsers
	if renumber {
		imp = db.ImportUsersRenumbered
	}
	res, err := imp(ctx, users, revokeAt, until)
	if err == nil {
		return res, nil
	}
	if ciphemic.ErrorCode(err) == ciphemic.CodeInternal {
		return store.ImportResult{}, fmt.Errorf("import users: %w", err)
	}
	return store.ImportResult{}, fmt.Errorf("import users: %s; nothing was imported", ciphemic.ErrorMessage(err))
}

// djangoRecord is one element of dumpdata's list. PK is absent with --natural-primary.
type djangoRecord struct {
	Model  string            `json:"model"`
	PK     *int64            `json:"pk"`
	Fields *djangoUserFields `json:"fields"`
}

// djangoUserFields are the fields of auth.user that ciphemic keeps; groups, permissions and
// unknown fields are ignored. Pointers tell a missing field from an empty one where
// guessing would be wrong (a missing is_active must not silently disable an account).
type djangoUserFields struct {
	Password    *string `json:"password"`
	LastLogin   *string `json:"last_login"`
	IsSuperuser bool    `json:"is_superuser"`
	Username    *string `json:"username"`
	FirstName   *string `json:"first_name"`
	LastName    *string `json:"last_name"`
	Email       *string `json:"email"`
	IsStaff     bool    `json:"is_staff"`
	IsActive    *bool   `json:"is_active"`
	DateJoined  *string `json:"date_joined"`
	// Groups are the user's auth.group memberships (importgroups.go).
	Groups []json.RawMessage `json:"groups"`
}

// parseDjangoUsers checks the whole dump and returns its users, or the first problem as one
// line naming the record by index, pk and username.
func parseDjangoUsers(data []byte, rules roleRules) ([]ciphemic.User, error) {
	all, err := decodeDump(data)
	if err != nil {
		return nil, err
	}
	var records []indexedRecord
	if rules.groups, records, err = readDjangoGroups(all); err != nil {
		return nil, err
	}
	if err := rules.checkGroupNames(); err != nil {
		return nil, err
	}
	users := make([]ciphemic.User, 0, len(records))
	byName := map[string]int{} // by NFKC form, the name the store keeps: index in users
	byPK := map[int64]int{}    // index in the dump
	for k, rec := range records {
		i, raw := rec.index, rec.raw
		u, err := parseDjangoUser(raw, rules)
		if err != nil {
			return nil, recordError(i, u, err)
		}
		form := username.Normalize(u.Username)
		if j, dup := byName[form]; dup {
			return nil, recordError(i, u, duplicateName(records[j].index, users[j].Username, u.Username))
		}
		if j, dup := byPK[u.ID]; dup && u.ID != 0 {
			return nil, recordError(i, u, fmt.Errorf("duplicate pk: record [%d] has it too", j))
		}
		byName[form], byPK[u.ID] = k, i
		users = append(users, u)
	}
	return users, nil
}

// duplicateName reports that record j holds name too, or a look-alike of it (the same
// in NFKC), which the store would keep as one username.
func duplicateName(j int, theirs, name string) error {
	if theirs == name {
		return fmt.Errorf("duplicate username: record [%d] has it too", j)
	}
	return fmt.Errorf("duplicate username: record [%d] has %q, the same once normalised (NFKC)", j, theirs)
}

// decodeDump splits the top-level list. Its errors never quote the file: a record holds a
// password hash, so only offsets and JSON kinds are reported.
func decodeDump(data []byte) ([]json.RawMessage, error) {
	var records []json.RawMessage
	err := json.Unmarshal(data, &records)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return nil, fmt.Errorf("not JSON (syntax error at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		return nil, fmt.Errorf("not a list of records (the file holds a JSON %s)", typ.Value)
	case err != nil:
		return nil, fmt.Errorf("not JSON")
	case bytes.Equal(bytes.TrimSpace(data), []byte("null")):
		return nil, fmt.Errorf("not a list of records (the file holds null)")
	}
	return records, nil
}

// recordError names the record at fault by what is known of it.
func recordError(i int, u ciphemic.User, err error) error {
	var who []string
	if u.ID != 0 {
		who = append(who, fmt.Sprintf("pk %d", u.ID))
	}
	if u.Username != "" {
		who = append(who, fmt.Sprintf("username %q", u.Username))
	}
	if len(who) == 0 {
		return fmt.Errorf("record [%d]: %w", i, err)
	}
	return fmt.Errorf("record [%d] (%s): %w", i, strings.Join(who, ", "), err)
}

// parseDjangoUser turns one record into a user. On error it still returns the pk and
// username it could read, so that the error names the record.
func parseDjangoUser(raw json.RawMessage, rules roleRules) (ciphemic.User, error) {
	var rec djangoRecord
	var u ciphemic.User
	// A wrongly typed field still leaves the others decoded, so the error can name the record.
	err := json.Unmarshal(raw, &rec)
	if rec.PK != nil {
		u.ID = *rec.PK
	}
	f := rec.Fields
	if f != nil && f.Username != nil {
		u.Username = *f.Username
	}
	switch {
	case err != nil:
		return u, fieldTypeError(err)
	case rec.Model != "auth.user":
		return u, fmt.Errorf("model is %q, want \"auth.user\" or \"auth.group\" (dump with `manage.py dumpdata auth.group auth.user`)", rec.Model)
	case rec.PK != nil && *rec.PK <= 0:
		return u, fmt.Errorf("pk must be a positive integer")
	case f == nil:
		return u, fmt.Errorf("missing fields")
	}
	return u, fillUser(&u, f, rules)
}

// fieldTypeError reports a wrongly typed field by name and JSON kind, never by value.
func fieldTypeError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field == "" {
			return fmt.Errorf("not a JSON object (got a JSON %s)", typ.Value)
		}
		return fmt.Errorf("%s: want a JSON %s, got a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	return fmt.Errorf("not valid JSON")
}

// jsonKind names a Go kind the way JSON calls it.
func jsonKind(goKind string) string {
	switch goKind {
	case "bool":
		return "boolean"
	case "int64", "int", "float64":
		return "number"
	}
	return goKind
}

// fillUser validates and copies the fields of f into u.
func fillUser(u *ciphemic.User, f *djangoUserFields, rules roleRules) error {
	switch {
	case strings.TrimSpace(u.Username) == "":
		return fmt.Errorf("missing username")
	case utf8.RuneCountInString(username.Normalize(u.Username)) > 150:
		// Counted as stored, in NFKC and in characters, as Django's max_length counts.
		return fmt.Errorf("username longer than 150 characters")
	case f.IsActive == nil:
		return fmt.Errorf("missing is_active")
	case f.Password == nil:
		return fmt.Errorf("missing password")
	}
	if err := checkDjangoHash(*f.Password); err != nil {
		return err
	}
	var err error
	if u.DateJoined, err = parseDjangoTime("date_joined", f.DateJoined, true); err != nil {
		return err
	}
	if u.LastLogin, err = parseDjangoTime("last_login", f.LastLogin, false); err != nil {
		return err
	}
	u.PasswordHash = *f.Password
	u.Email, u.FirstName, u.LastName = deref(f.Email), deref(f.FirstName), deref(f.LastName)
	u.IsActive = *f.IsActive
	u.Role, err = rules.role(f.IsSuperuser, f.IsStaff, f.Groups)
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// djangoRole maps Django's flags to ciphemic's one role: superusers administer, staff (who
// may use Django's admin site) teach, everyone else studies.
func djangoRole(superuser, staff bool, override ciphemic.Role) ciphemic.Role {
	switch {
	case override != "":
		return override
	case superuser:
		return ciphemic.RoleAdmin
	case staff:
		return ciphemic.RoleTeacher
	}
	return ciphemic.RoleStudent
}

// verifiableHashers are the Django encodings that password.Hasher.Verify accepts; a hash of
// any other kind could never log in, so importing it would lock its user out unnoticed.
var verifiableHashers = []string{"pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt"}

// otherDjangoHashers are Django's hashers ciphemic cannot verify. Their names are safe to
// print; any other prefix might be the hash itself (an old unsalted MD5 has no "$").
var otherDjangoHashers = []string{"scrypt", "sha1", "md5", "unsalted_sha1", "unsalted_md5", "crypt"}

// checkDjangoHash accepts a hash of a verifiable algorithm or Django's unusable password
// ("!" followed by random characters), which keeps the account but allows no login.
func checkDjangoHash(encoded string) error {
	if strings.HasPrefix(encoded, "!") {
		return nil
	}
	alg, _, found := strings.Cut(encoded, "$")
	if !found {
		alg = ""
	}
	for _, name := range verifiableHashers {
		if alg == name {
			return nil
		}
	}
	for _, name := range otherDjangoHashers {
		if alg == name {
			return fmt.Errorf("password uses Django's %s hasher, which ciphemic cannot verify (have the user log in once on Django with pbkdf2_sha256, argon2 or bcrypt_sha256 first)", name)
		}
	}
	if encoded == "" {
		return fmt.Errorf("password hash is empty (Django's set_unusable_password writes \"!…\")")
	}
	return fmt.Errorf("password hash uses an unknown algorithm")
}

// parseDjangoTime parses a DateTimeField as dumpdata writes it: ISO 8601 with "Z" or an
// offset when USE_TZ is on, without a zone when it is off (read as UTC, Django's default
// TIME_ZONE). null is the zero time unless required.
func parseDjangoTime(field string, s *string, required bool) (time.Time, error) {
	if s == nil {
		if required {
			return time.Time{}, fmt.Errorf("missing %s", field)
		}
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, *s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not an ISO 8601 date and time", field, truncate(*s, 40))
}

// truncate bounds what an error quotes of a field.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
