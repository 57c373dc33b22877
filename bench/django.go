package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The Django reference runs on Debian's packages only (its README): these paths are the
// ones its run.sh uses.
const (
	gunicornPath = "/usr/bin/gunicorn"
	pythonPath   = "/usr/bin/python3"
)

// djangoMissing says why the Django reference in ref cannot run on this machine, or ""
// when it can.
func djangoMissing(ctx context.Context, ref string) string {
	if _, err := os.Stat(filepath.Join(ref, "run.sh")); err != nil {
		return fmt.Sprintf("no run.sh in %s (set -django-ref)", ref)
	}
	if _, err := os.Stat(gunicornPath); err != nil {
		return gunicornPath + " is missing (apt-get install gunicorn)"
	}
	check := exec.CommandContext(ctx, pythonPath, "-c", "import rest_framework_simplejwt")
	if err := check.Run(); err != nil {
		return "python3 module rest_framework_simplejwt is missing (apt-get install python3-djangorestframework-simplejwt)"
	}
	return ""
}

// startDjango runs the reference as its README does (run.sh PORT 2: gunicorn, 2 sync
// workers) on a fresh SQLite file in dir, and waits until it answers. Its seed creates
// testuser and user0..user99, all with the password "password".
func startDjango(ctx context.Context, ps *procs, dir, ref string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	// The reference picks PostgreSQL when one of these is set; the article's system,
	// which the goals compare against, is the SQLite one.
	env := environ(func(kv string) bool {
		return hasAnyPrefix(kv, "DATABASE_URL=", "PGHOST=", "PGDATABASE=", "DJANGO_SQLITE_PATH=")
	}, "DJANGO_SQLITE_PATH="+filepath.Join(dir, "django.sqlite3"))
	p, err := ps.start("django", ref, filepath.Join(dir, "django.log"), env,
		"/bin/bash", filepath.Join(ref, "run.sh"), port, "2")
	if err != nil {
		return nil, err
	}
	s := &server{
		name: "django", addr: addr, proc: p,
		user:    account{"testuser", "password"},
		teacher: account{"user0", "password"},
	}
	unauthorized := func(st int) bool { return st == 401 }
	return s, waitHTTP(ctx, s, "/api/me/", unauthorized, 3*time.Minute)
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
