package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/token"
)

// The cut-over from the real Django reference (issue 11): users log in there, one logs
// out, one refreshes twice (so that Django rotated it to a token in no dump); Django's
// own manage.py dumps the data; ciphemic imports it and serves with Django's key.

// cutoverGuide is the guide whose commands the test runs, each line exactly as written.
const cutoverGuide = "../../docs/MIGRATING-FROM-DJANGO.md"

// The guide's commands, run in the working directory that holds the dumps, the key and
// the database. "python3 manage.py" is Django's, run with the reference's settings.
var (
	cutoverDump = []string{
		"python3 manage.py dumpdata auth.group auth.user --output users.json",
		"python3 manage.py dumpdata token_blacklist --output tokens.json",
	}
	cutoverImport = []string{
		"ciphemic migrate --database sqlite:ciphemic.db",
		"ciphemic import-users --database sqlite:ciphemic.db --django users.json --role-from-group teachers=teacher --role-from-group school-admins=admin",
		"ciphemic import-tokens --database sqlite:ciphemic.db --django tokens.json --signing-key-file django.key",
	}
	cutoverRenumber = "ciphemic import-users --database sqlite:ciphemic.db --django users.json --renumber --role-from-group teachers=teacher --role-from-group school-admins=admin"
	cutoverServe    = "ciphemic serve --database sqlite:ciphemic.db --signing-key-file django.key"
)

// djangoGroups makes the groups the import maps to roles, and one it leaves alone.
const djangoGroups = `
from django.contrib.auth.models import Group, User
teachers = Group.objects.create(name="teachers")
admins = Group.objects.create(name="school-admins")
Group.objects.create(name="alumni")
User.objects.get(username="user0").groups.add(teachers)
User.objects.get(username="user1").groups.add(admins, teachers)
User.objects.get(username="user2").groups.add(Group.objects.get(name="alumni"))
User.objects.filter(username="user3").update(is_staff=True)
`

// djangoRef returns the Django reference's folder, or skips (fails in CI) when it or
// Debian's packages it runs on are missing.
func djangoRef(t *testing.T) string {
	t.Helper()
	ref := os.Getenv("CIPHEMIC_DJANGO_REF")
	if ref == "" {
		ref = "../../testdata/django-ref"
	}
	ref, _ = filepath.Abs(ref)
	missing := ""
	if _, err := os.Stat(filepath.Join(ref, "run.sh")); err != nil {
		missing = "no Django reference at " + ref + " (set CIPHEMIC_DJANGO_REF)"
	} else if _, err := os.Stat("/usr/bin/gunicorn"); err != nil {
		missing = "/usr/bin/gunicorn is missing (apt-get install gunicorn)"
	} else if err := exec.Command("/usr/bin/python3", "-c", "import rest_framework_simplejwt").Run(); err != nil {
		missing = "python3-djangorestframework-simplejwt is missing (apt-get install python3-djangorestframework-simplejwt)"
	}
	if missing == "" {
		return ref
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI must run the cut-over from Django (.ci/run installs the packages)", missing)
	}
	t.Skipf("%s: the cut-over from Django is not exercised", missing)
	return ""
}

// djangoEnv is the environment of the reference: a SQLite file in dir, the signing key,
// and none of the variables that would point it at another database.
func djangoEnv(dir, key string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !hasPrefixAny(kv, "DATABASE_URL=", "PGHOST=", "PGDATABASE=", "DJANGO_SQLITE_PATH=", "DJANGO_JWT_SIGNING_KEY=", "PYTHONPATH=", "PYTHONHOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "DJANGO_SQLITE_PATH="+filepath.Join(dir, "django.sqlite3"), "DJANGO_JWT_SIGNING_KEY="+key)
}

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// startDjangoRef runs `run.sh PORT 2` (migrate, seed, gunicorn) and waits until it
// answers; the returned stop ends it and waits for it.
func startDjangoRef(t *testing.T, ref string, env []string) (url string, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	cmd := exec.Command("/bin/bash", filepath.Join(ref, "run.sh"), port, "2") // #nosec G204 -- the reference's own script
	cmd.Env = env
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Django reference: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM) // run.sh execs gunicorn: this is its master
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(stop)
	url = "http://" + addr
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get(url + "/api/me/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return url, stop
			}
		}
		if time.Since(start) > 3*time.Minute {
			stop()
			t.Fatalf("the Django reference did not answer within 3 minutes:\n%s", log.String())
		}
	}
}

// djangoManage runs Django's manage.py in dir with args.
func djangoManage(t *testing.T, ref string, env []string, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{filepath.Join(ref, "ciphemic", "manage.py")}, args...)...) // #nosec G204 -- Django's manage.py with the test's arguments
	cmd.Env, cmd.Dir = env, dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("manage.py %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// postJSON posts body to url and returns the status and the decoded answer.
func postJSON(t *testing.T, url string, body map[string]string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	return doJSON(t, req)
}

// djangoSession is what a client of the Django server holds.
type djangoSession struct {
	access, refresh string
}

func djangoLogin(t *testing.T, url, username string) djangoSession {
	t.Helper()
	status, pair := postJSON(t, url+"/api/token/", map[string]string{"username": username, "password": "password"})
	if status != 200 {
		t.Fatalf("Django login %s = %d %v", username, status, pair)
	}
	return djangoSession{pair["access"].(string), pair["refresh"].(string)}
}

func djangoRefresh(t *testing.T, url string, s djangoSession) djangoSession {
	t.Helper()
	status, pair := postJSON(t, url+"/api/token/refresh/", map[string]string{"refresh": s.refresh})
	if status != 200 {
		t.Fatalf("Django refresh = %d %v", status, pair)
	}
	return djangoSession{pair["access"].(string), pair["refresh"].(string)}
}

// runGuideLine runs one ciphemic command of the guide in-process.
func runGuideLine(t *testing.T, line string) (string, error) {
	t.Helper()
	args, ok := strings.CutPrefix(line, "ciphemic ")
	if !ok {
		t.Fatalf("not a ciphemic command: %s", line)
	}
	out, _, err := runCmd(t, nil, "", strings.Fields(args)...)
	return out, err
}

// djangoCutover is the state of the Django system at the switch.
type djangoCutover struct {
	ref, dir string
	env      []string
	// alice is testuser (pk 1, like the superuser a Django project starts with): she
	// logged in and refreshed twice, so her refresh token is one Django rotated to and
	// in no dump, and the one before it was recorded by simplejwt without a user.
	alice, aliceFirst djangoSession
	// bob (user4) holds the refresh token of his login; carol (user5) logged out; dave
	// (user6) refreshed once, so his token is in no dump, and logs out on ciphemic.
	bob, carol, dave djangoSession
}

// runDjangoSide starts the reference, makes its groups, logs the users in, stops it and
// dumps it with the guide's commands.
func runDjangoSide(t *testing.T) djangoCutover {
	ref := djangoRef(t)
	dir := t.TempDir()
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	c := djangoCutover{ref: ref, dir: dir, env: djangoEnv(dir, hex.EncodeToString(key))}
	if err := os.WriteFile(filepath.Join(dir, "django.key"), []byte(hex.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop := startDjangoRef(t, ref, c.env)
	djangoManage(t, ref, c.env, dir, "shell", "-c", djangoGroups)
	c.aliceFirst = djangoLogin(t, url, "testuser")
	c.alice = djangoRefresh(t, url, djangoRefresh(t, url, c.aliceFirst))
	c.bob = djangoLogin(t, url, "user4")
	c.carol = djangoLogin(t, url, "user5")
	c.dave = djangoRefresh(t, url, djangoLogin(t, url, "user6"))
	if status, body := postJSON(t, url+"/api/token/blacklist/", map[string]string{"refresh": c.carol.refresh}); status != 200 {
		t.Fatalf("Django logout = %d %v", status, body)
	}
	// The switch: Django stops issuing tokens before its data is dumped.
	stop()
	for _, line := range cutoverDump {
		args := strings.Fields(strings.TrimPrefix(line, "python3 manage.py "))
		djangoManage(t, ref, c.env, dir, args...)
	}
	return c
}

// TestDjangoCutover is the whole cut-over, as docs/MIGRATING-FROM-DJANGO.md gives it.
func TestDjangoCutover(t *testing.T) {
	guide, err := os.ReadFile(cutoverGuide)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range append(append(append([]string{}, cutoverDump...), cutoverImport...), cutoverRenumber, cutoverServe) {
		if !strings.Contains(string(guide), "\n"+line+"\n") {
			t.Errorf("%s does not give the command the test runs, on a line of its own:\n%s", cutoverGuide, line)
		}
	}
	c := runDjangoSide(t)
	t.Chdir(c.dir)

	t.Run("fresh store", func(t *testing.T) {
		for _, line := range cutoverImport {
			if out, err := runGuideLine(t, line); err != nil {
				t.Fatalf("%s: %v", line, err)
			} else {
				t.Logf("%s\n%s", line, out)
			}
		}
		s := startGuideServer(t)
		wantMe(t, s, c.alice.access, 1, "testuser", "student")
		wantRefreshOnce(t, s, "bob's login token", c.bob.refresh)
		wantDead(t, s, "carol's logged-out token", c.carol.refresh)
		wantDead(t, s, "alice's first token, rotated on Django", c.aliceFirst.refresh)
		wantOneWinner(t, s, c.alice.refresh)
		wantUnrecordedCiphemicRefused(t, s)
		// Logging out with a token in no dump ends it: it is not accepted once afterwards.
		if status, body := postJSON(t, s.url+"/api/token/blacklist/", map[string]string{"refresh": c.dave.refresh}); status != 200 {
			t.Errorf("logout with the token Django rotated to = %d %v, want 200", status, body)
		}
		wantDead(t, s, "dave's token Django rotated to, logged out on ciphemic", c.dave.refresh)
		wantRoles(t, s)
		wantEveryPasswordLogsIn(t, s)
	})

	t.Run("ids taken, --renumber", func(t *testing.T) {
		for _, f := range []string{"ciphemic.db", "ciphemic.db-wal", "ciphemic.db-shm"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
		}
		// The first serve of an empty store creates its admin, id 1: testuser's pk.
		first := startGuideServer(t)
		first.shutdown(t)
		for _, line := range cutoverImport[:1] {
			if _, err := runGuideLine(t, line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
		}
		_, err := runGuideLine(t, cutoverImport[1])
		for _, want := range []string{`record testuser: id 1 is taken by another user, "admin"`, "before the first serve", "--renumber", "nothing was imported"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("import-users into a store whose id 1 is admin's = %v, want it to say %q", err, want)
			}
		}
		for _, line := range []string{cutoverRenumber, cutoverImport[2]} {
			if _, err := runGuideLine(t, line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
		}
		s := startGuideServer(t)
		db := mustOpen(t, "ciphemic.db")
		alice, err := db.UserByUsername(context.Background(), "testuser")
		if err != nil || alice.ID == 1 {
			t.Fatalf("renumbered testuser = %+v, %v, want an id other than 1", alice, err)
		}
		// Django's token says user_id 1: it is testuser, never the admin who holds id 1.
		wantMe(t, s, c.alice.access, alice.ID, "testuser", "student")
		wantRefreshOnce(t, s, "bob's login token", c.bob.refresh)
		wantDead(t, s, "carol's logged-out token", c.carol.refresh)
		// verify vouches for the token Django rotated to, which no dump holds, until it is used.
		if status, body := postJSON(t, s.url+"/api/token/verify/", map[string]string{"token": c.alice.refresh}); status != 200 {
			t.Errorf("verify of the token Django rotated to = %d %v, want 200", status, body)
		}
		status, pair := postJSON(t, s.url+"/api/token/refresh/", map[string]string{"refresh": c.alice.refresh})
		if status != 200 {
			t.Fatalf("refresh with the token Django rotated to = %d %v", status, pair)
		}
		wantMe(t, s, pair["access"].(string), alice.ID, "testuser", "student")
		wantDead(t, s, "alice's token Django rotated to, once used", c.alice.refresh)
		if status, body := postJSON(t, s.url+"/api/token/verify/", map[string]string{"token": c.alice.refresh}); status != 401 {
			t.Errorf("verify of the token Django rotated to, once used = %d %v, want 401", status, body)
		}
	})
}

// startGuideServer runs the guide's serve command.
func startGuideServer(t *testing.T) *server {
	t.Helper()
	args := strings.Fields(strings.TrimPrefix(cutoverServe, "ciphemic serve "))
	if args[0] != "--database" {
		t.Fatalf("the guide's serve command no longer starts with --database: %s", cutoverServe)
	}
	return startServerArgs(t, args[1], args[2:]...)
}

// wantMe checks that access authenticates as the user id with username and role.
func wantMe(t *testing.T, s *server, access string, id int64, username, role string) {
	t.Helper()
	status, me := s.get(t, "/api/me/", access)
	roles, _ := me["roles"].([]any)
	if status != 200 || me["id"] != float64(id) || me["username"] != username || len(roles) != 1 || roles[0] != role {
		t.Errorf("GET /api/me/ = %d %v, want id %d, %s, [%s]", status, me, id, username, role)
	}
}

// wantRefreshOnce checks that refresh refreshes, and then is dead.
func wantRefreshOnce(t *testing.T, s *server, what, refresh string) {
	t.Helper()
	status, pair := postJSON(t, s.url+"/api/token/refresh/", map[string]string{"refresh": refresh})
	if status != 200 || pair["access"] == nil || pair["refresh"] == nil {
		t.Errorf("refresh with %s = %d %v, want 200 and a new pair", what, status, pair)
	}
	wantDead(t, s, what+", once used", refresh)
}

// wantDead checks that refresh is refused as blacklisted.
func wantDead(t *testing.T, s *server, what, refresh string) {
	t.Helper()
	status, body := postJSON(t, s.url+"/api/token/refresh/", map[string]string{"refresh": refresh})
	if status != 401 || body["detail"] != "Token is blacklisted" {
		t.Errorf("refresh with %s = %d %v, want 401 Token is blacklisted", what, status, body)
	}
}

// wantOneWinner refreshes with refresh 16 times at once: exactly one wins.
func wantOneWinner(t *testing.T, s *server, refresh string) {
	t.Helper()
	const racers = 16
	statuses := make([]int, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			statuses[i], _ = postJSON(t, s.url+"/api/token/refresh/", map[string]string{"refresh": refresh})
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, st := range statuses {
		switch st {
		case 200:
			wins++
		case 401:
		default:
			t.Errorf("a concurrent refresh answered %d, want 200 or 401", st)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent refreshes with the token Django rotated to won, want exactly 1 (%v)", wins, racers, statuses)
	}
	wantDead(t, s, "the token Django rotated to, after the race", refresh)
}

// wantRoles checks the roles of the groups and the fallback rule.
func wantRoles(t *testing.T, s *server) {
	t.Helper()
	for username, role := range map[string]string{
		"user0": "teacher", "user1": "admin", "user2": "student", "user3": "teacher", "testuser": "student",
	} {
		status, pair := s.post(t, "/api/token/", fmt.Sprintf(`{"username": %q, "password": "password"}`, username), "")
		if status != 200 {
			t.Errorf("login %s = %d %v", username, status, pair)
			continue
		}
		status, me := s.get(t, "/api/me/", pair["access"].(string))
		if roles, _ := me["roles"].([]any); status != 200 || len(roles) != 1 || roles[0] != role {
			t.Errorf("%s: GET /api/me/ = %d %v, want role %s", username, status, me, role)
		}
	}
}

// wantEveryPasswordLogsIn logs every imported user in with their Django password.
func wantEveryPasswordLogsIn(t *testing.T, s *server) {
	t.Helper()
	names := []string{"testuser"}
	for i := range 100 {
		names = append(names, fmt.Sprintf("user%d", i))
	}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			status, body := s.post(t, "/api/token/", fmt.Sprintf(`{"username": %q, "password": "password"}`, name), "")
			if status != 200 {
				t.Errorf("login %s with its Django password = %d %v", name, status, body)
			}
		})
	}
	wg.Wait()
}

// wantUnrecordedCiphemicRefused: a refresh token ciphemic signed (it has a kid), issued
// before the cut-over but never recorded, is refused. Only Django's tokens are accepted
// without a record.
func wantUnrecordedCiphemicRefused(t *testing.T, s *server) {
	t.Helper()
	keys, err := token.LoadKeySet("django.key", "HS256", time.Now(), token.Retirement{})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := token.NewService(keys, token.Config{AccessLifetime: time.Minute, RefreshLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := tokens.IssueRefresh(1, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	status, body := postJSON(t, s.url+"/api/token/refresh/", map[string]string{"refresh": raw})
	if status != 401 || body["detail"] != "Token is invalid or expired" {
		t.Errorf("refresh with an unrecorded token ciphemic signed = %d %v, want 401 Token is invalid or expired", status, body)
	}
}
