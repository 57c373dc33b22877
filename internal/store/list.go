package store

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// orderings maps the public ordering names of one list to the SQL columns they sort by.
// Only these strings ever reach an ORDER BY: a ListQuery.OrderBy is a key, never SQL.
type orderings map[string]string

// The orderings of each list. "" is the default, by id.
var (
	courseOrderings = orderings{
		"": "c.id", "id": "c.id", "code": "c.code", "title": "c.title", "capacity": "c.capacity",
		"created_at": "c.created_at", "updated_at": "c.updated_at",
	}
	userOrderings = orderings{
		"": "u.id", "id": "u.id", "username": "u.username", "email": "u.email",
		"date_joined": "u.date_joined", "last_login": "u.last_login",
	}
	enrollmentOrderings = orderings{
		"": "e.id", "id": "e.id", "enrolled_at": "e.enrolled_at", "grade": "e.grade",
		"course_id": "e.course_id", "student_id": "e.student_id",
	}
)

// The columns each list's search matches.
var (
	courseSearch = []string{"c.code", "c.title"}
	userSearch   = []string{"u.username", "u.email"}
)

// listSQL builds the WHERE, ORDER BY and LIMIT clauses of one list query and numbers
// their placeholders, so that a list's conditions can be assembled piece by piece.
type listSQL struct {
	conds []string
	args  []any
}

// arg adds v to the arguments and returns its placeholder.
func (l *listSQL) arg(v any) string {
	l.args = append(l.args, v)
	return "$" + strconv.Itoa(len(l.args))
}

// and adds a condition; every condition must hold.
func (l *listSQL) and(cond string) {
	l.conds = append(l.conds, cond)
}

// search adds a condition matching s as a substring of any of cols. ASCII letters match
// either case and every other character only itself, the same on both backends: SQLite's
// lower() folds ASCII only, and PostgreSQL's does too on the "C" collation the searched
// columns are declared with. %, _ and \ in s match themselves.
func (l *listSQL) search(s string, cols []string) {
	if s == "" {
		return
	}
	p := l.arg("%" + escapeLike(asciiLower(s)) + "%")
	alts := make([]string, len(cols))
	for i, col := range cols {
		alts[i] = "lower(" + col + ") LIKE " + p + ` ESCAPE '\'`
	}
	l.and("(" + strings.Join(alts, " OR ") + ")")
}

// where returns the WHERE clause, or "" when nothing filters.
func (l *listSQL) where() string {
	if len(l.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(l.conds, " AND ")
}

// page returns the ORDER BY, LIMIT and OFFSET clauses of q, ordering by col and then by
// tie, which must be unique so that pages never overlap. NULLs sort as larger than any
// value on both backends (PostgreSQL's default), so they come last in ascending order.
// A zero q.Limit means no limit.
func (l *listSQL) page(q ciphemic.ListQuery, col, tie string) string {
	dir := " ASC NULLS LAST"
	if q.Descending {
		dir = " DESC NULLS FIRST"
	}
	order := " ORDER BY " + col + dir
	if col != tie {
		order += ", " + tie + " ASC"
	}
	limit := int64(q.Limit)
	if limit == 0 {
		limit = math.MaxInt64
	}
	return order + " LIMIT " + l.arg(limit) + " OFFSET " + l.arg(int64(q.Offset))
}

// checkList validates q against the orderings of its list and returns the column it
// orders by. It runs before any SQL is built, so a bad ordering never reaches the database.
func checkList(q ciphemic.ListQuery, o orderings) (string, error) {
	col, ok := o[q.OrderBy]
	switch {
	case !ok:
		return "", ciphemic.Errorf(ciphemic.CodeInvalid, "ordering: %q is not a valid choice.", q.OrderBy)
	case q.Offset < 0:
		return "", ciphemic.Errorf(ciphemic.CodeInvalid, "offset: Ensure this value is greater than or equal to 0.")
	case q.Limit < 0:
		return "", ciphemic.Errorf(ciphemic.CodeInvalid, "limit: Ensure this value is greater than or equal to 0.")
	}
	return col, nil
}

// escapeLike escapes the LIKE wildcards of s (and the escape character itself) for a
// pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// asciiLower lowers the ASCII letters of s only, as the databases' lower() does on the
// searched columns.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// count returns the number of rows of from (a FROM clause with its joins) that l's
// conditions select.
func (db *DB) count(ctx context.Context, from string, l *listSQL) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+from+l.where(), l.args...).Scan(&n)
	return n, err
}

// listRows runs a page query and scans each row with scan.
func listRows[T any](ctx context.Context, db *DB, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

// list returns one page of from, selecting cols, and the total number of rows l's
// conditions select. The count and the page are two reads, so under concurrent writes
// they may disagree by the rows written in between.
func list[T any](ctx context.Context, db *DB, cols, from string, l *listSQL, q ciphemic.ListQuery,
	col, tie string, scan func(scanner) (T, error)) ([]T, int64, error) {
	total, err := db.count(ctx, from, l)
	if err != nil {
		return nil, 0, err
	}
	query := "SELECT " + cols + " FROM " + from + l.where()
	query += l.page(q, col, tie)
	rows, err := listRows(ctx, db, query, l.args, scan)
	if err != nil {
		return nil, 0, err
	}
	return rows, total, nil
}
