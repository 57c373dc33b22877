package token

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestWriteKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.key")
	if err := WriteKeyFile(path, []byte("first")); err != nil {
		t.Fatalf("WriteKeyFile = %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}
	if err := WriteKeyFile(path, []byte("second")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteKeyFile(existing) = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Errorf("key file = %q after a refused overwrite, want %q", got, "first")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the key (no temporary files left)", len(entries))
	}
	if err := WriteKeyFile(filepath.Join(t.TempDir(), "missing", "key"), []byte("x")); err == nil {
		t.Error("WriteKeyFile(in a missing directory) = nil error, want one")
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	for _, alg := range []string{"HS256", "EdDSA"} {
		path := filepath.Join(t.TempDir(), "key")
		k1, created, err := LoadOrCreateKeyFile(path, alg)
		if err != nil || !created {
			t.Fatalf("LoadOrCreateKeyFile(new %s) = %v, %v; want created", alg, created, err)
		}
		k2, created, err := LoadOrCreateKeyFile(path, alg)
		if err != nil || created || k2.ID != k1.ID {
			t.Errorf("LoadOrCreateKeyFile(existing %s) = %v, %v, %v; want the same key, not created", alg, k2, created, err)
		}
	}
}

func TestLoadOrCreateKeyFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	const n = 16
	ids := make([]string, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, c, err := LoadOrCreateKeyFile(path, "HS256")
			if err != nil {
				t.Errorf("LoadOrCreateKeyFile = %v", err)
				return
			}
			ids[i], created[i] = k.ID, c
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if created[i] {
			winners++
		}
		if ids[i] != ids[0] {
			t.Errorf("racer %d loaded key %s, racer 0 %s", i, ids[i], ids[0])
		}
	}
	if winners != 1 {
		t.Errorf("%d racers created the key, want 1", winners)
	}
}

func TestLoadOrCreateKeyFileBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	secret := "too-short-secret"
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	_, created, err := LoadOrCreateKeyFile(path, "HS256")
	if err == nil || created {
		t.Fatalf("LoadOrCreateKeyFile(short secret) = %v, %v; want an error", created, err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the secret", err)
	}
	if got, _ := os.ReadFile(path); string(got) != secret {
		t.Error("LoadOrCreateKeyFile replaced an existing, bad key file")
	}
}
