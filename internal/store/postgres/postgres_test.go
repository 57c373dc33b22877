package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, OpenTest)
}

// TestShared runs two stores on one schema, as two instances on one database: they
// migrate at once (the advisory lock makes that safe) and race for the same tokens.
func TestShared(t *testing.T) {
	a, dsn := openTest(t)
	b, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open(second store) = %v", err)
	}
	defer b.Close()
	storetest.RunShared(t, a, b)
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const dsn = "postgres://nobody:s3cret-password@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
	db, err := Open(ctx, dsn)
	if err == nil {
		db.Close()
		t.Fatalf("Open(port 1) = nil error, want one")
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Errorf("Open() error %q reveals the password", got)
	}
}

func TestClassifyState(t *testing.T) {
	tests := []struct {
		code string
		want store.ErrorKind
	}{
		{"23505", store.KindUnique},
		{"23503", store.KindForeignKey},
		{"40001", store.KindUnavailable},
		{"40P01", store.KindUnavailable},
		{"08006", store.KindUnavailable},
		{"57P01", store.KindUnavailable},
		{"23514", store.KindOther},
		{"42P01", store.KindOther},
	}
	for _, tc := range tests {
		if got := classifyState(tc.code); got != tc.want {
			t.Errorf("classifyState(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestWithSearchPath(t *testing.T) {
	tests := []struct {
		dsn, want string
	}{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?search_path=s&sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://u@h/db?search_path=s"},
		{"host=h dbname=db", "host=h dbname=db search_path=s"},
	}
	for _, tc := range tests {
		if got := withSearchPath(tc.dsn, "s"); got != tc.want {
			t.Errorf("withSearchPath(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}
