package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

func TestFailCodes(t *testing.T) {
	errDriver := errors.New("driver says no")
	classify := func(err error) ErrorKind {
		if errors.Is(err, errDriver) {
			return KindUnavailable
		}
		return KindOther
	}
	db := New(nil, nil, Dialect{Name: "test", Classify: classify})
	tests := []struct {
		err  error
		want ciphemic.Code
	}{
		{sql.ErrNoRows, ciphemic.CodeNotFound},
		{fmt.Errorf("wrapped: %w", sql.ErrNoRows), ciphemic.CodeNotFound},
		{errDriver, ciphemic.CodeUnavailable},
		{context.DeadlineExceeded, ciphemic.CodeUnavailable},
		{ciphemic.ErrTokenBlacklisted, ciphemic.CodeUnauthorized},
		{errors.New("anything else"), ciphemic.CodeInternal},
	}
	for _, tc := range tests {
		got := db.fail("op", tc.err)
		if code := ciphemic.ErrorCode(got); code != tc.want {
			t.Errorf("fail(%v) = %v (code %q), want code %q", tc.err, got, code, tc.want)
		}
		if !errors.Is(got, tc.err) && !errors.Is(tc.err, sql.ErrNoRows) {
			t.Errorf("fail(%v) = %v, want it to wrap the cause", tc.err, got)
		}
	}
}

func TestTimeConversion(t *testing.T) {
	tests := []struct {
		in   time.Time
		null bool
		want time.Time
	}{
		{time.Time{}, true, time.Time{}},
		{time.Unix(0, 0), false, time.Unix(0, 0).UTC()},
		{time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", -7200)),
			false, time.Date(2030, 1, 2, 5, 4, 5, 678901000, time.UTC)},
	}
	for _, tc := range tests {
		v := nullMicros(tc.in)
		if v.Valid == tc.null {
			t.Errorf("nullMicros(%v).Valid = %t, want %t", tc.in, v.Valid, !tc.null)
		}
		if got := fromNullMicros(v); got != tc.want {
			t.Errorf("fromNullMicros(nullMicros(%v)) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestReadMigrations(t *testing.T) {
	good := fstest.MapFS{
		"0002_more.sql":  {Data: []byte("two")},
		"0001_init.sql":  {Data: []byte("one")},
		"0010_later.sql": {Data: []byte("ten")},
		"README.md":      {Data: []byte("not a migration")},
	}
	ms, err := readMigrations(good)
	if err != nil {
		t.Fatalf("readMigrations() = %v", err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, fmt.Sprintf("%d:%s", m.version, m.body))
	}
	if want := "[1:one 2:two 10:ten]"; fmt.Sprint(got) != want {
		t.Errorf("readMigrations() = %v, want %s", got, want)
	}
	bad := []fstest.MapFS{
		{"init.sql": {}},
		{"x_init.sql": {}},
		{"0000_zero.sql": {}},
		{"0001_a.sql": {}, "1_b.sql": {}},
	}
	for _, fsys := range bad {
		if _, err := readMigrations(fsys); err == nil {
			t.Errorf("readMigrations(%v) = nil error, want one", fsys)
		}
	}
}
