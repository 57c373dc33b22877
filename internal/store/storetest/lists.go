package storetest

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// sortKey is the value one row is ordered by: a number or a string, or NULL, which sorts
// after every value in ascending order.
type sortKey struct {
	null bool
	n    int64
	s    string
}

func timeKey(t time.Time) sortKey {
	return sortKey{null: t.IsZero(), n: t.UnixMicro()}
}

func compareKeys(a, b sortKey) int {
	if a.null || b.null {
		return cmp.Compare(boolInt(a.null), boolInt(b.null))
	}
	// strings.Compare is byte-wise, as SQLite's BINARY and PostgreSQL's "C" collations.
	return cmp.Or(cmp.Compare(a.n, b.n), strings.Compare(a.s, b.s))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wantOrder returns ids ordered by key, descending when desc, ties by ascending id.
func wantOrder(ids []int64, key func(id int64) sortKey, desc bool) []int64 {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b int64) int {
		c := compareKeys(key(a), key(b))
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a, b))
	})
	return out
}

// lister lists ids of one kind of row, as one of the List methods does.
type lister func(q ciphemic.ListQuery) ([]int64, int64, error)

// checkOrderings checks every ordering of keys in both directions, and the default.
func checkOrderings(t *testing.T, call string, ids []int64, keys map[string]func(int64) sortKey, list lister) {
	t.Helper()
	keys[""] = func(id int64) sortKey { return sortKey{n: id} }
	for name, key := range keys {
		for _, desc := range []bool{false, true} {
			q := ciphemic.ListQuery{OrderBy: name, Descending: desc}
			got, n, err := list(q)
			want := wantOrder(ids, key, desc)
			if err != nil || n != int64(len(ids)) || !reflect.DeepEqual(got, want) {
				t.Errorf("%s(%+v) = %v, %d, %v, want %v, %d", call, q, got, n, err, want, len(ids))
			}
		}
	}
}

func listCourseIDs(db *store.DB) lister {
	return func(q ciphemic.ListQuery) ([]int64, int64, error) {
		cs, n, err := db.ListCourses(context.Background(), q)
		ids := []int64{}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return ids, n, err
	}
}

func listUserIDs(db *store.DB) lister {
	return func(q ciphemic.ListQuery) ([]int64, int64, error) {
		us, n, err := db.ListUsers(context.Background(), q)
		return userIDs(us), n, err
	}
}

func testListCoursesOrdering(t *testing.T, db *store.DB) {
	ctx := context.Background()
	codes := []string{"b2", "B1", "a3", "c0", "a1"}
	titles := []string{"Zeta", "alpha", "Alpha", "beta", "zeta"}
	capacities := []int{3, 1, 3, 2, 1}
	byID := map[int64]ciphemic.Course{}
	var ids []int64
	for i, code := range codes {
		setNow(db, t0.Add(time.Duration((i*3)%5)*time.Minute))
		in := newCourse(code, 0, capacities[i])
		in.Title = titles[i]
		c, err := db.CreateCourse(ctx, in)
		if err != nil {
			t.Fatalf("CreateCourse(%q) = %v", code, err)
		}
		byID[c.ID] = c
		ids = append(ids, c.ID)
	}
	for i, id := range ids[:3] { // updated in another order than created
		setNow(db, t0.Add(time.Duration(10-i)*time.Minute))
		c, err := db.UpdateCourse(ctx, byID[id])
		if err != nil {
			t.Fatalf("UpdateCourse(%d) = %v", id, err)
		}
		byID[id] = c
	}
	checkOrderings(t, "ListCourses", ids, map[string]func(int64) sortKey{
		"id":         func(id int64) sortKey { return sortKey{n: id} },
		"code":       func(id int64) sortKey { return sortKey{s: byID[id].Code} },
		"title":      func(id int64) sortKey { return sortKey{s: byID[id].Title} },
		"capacity":   func(id int64) sortKey { return sortKey{n: int64(byID[id].Capacity)} },
		"created_at": func(id int64) sortKey { return timeKey(byID[id].CreatedAt) },
		"updated_at": func(id int64) sortKey { return timeKey(byID[id].UpdatedAt) },
	}, listCourseIDs(db))
}

func testListUsersOrdering(t *testing.T, db *store.DB) {
	ctx := context.Background()
	names := []string{"bob", "Alice", "carl", "dave", "eve"}
	emails := []string{"z@x.org", "b@x.org", "Y@x.org", "a@x.org", ""}
	var ids []int64
	for i, name := range names {
		u := mustUser(t, db, name, func(u *ciphemic.User) {
			u.Email = emails[i]
			u.DateJoined = t0.Add(-time.Duration((i*2)%5) * time.Hour)
		})
		ids = append(ids, u.ID)
		if i%2 == 0 { // the others never logged in
			wantIs(t, "RecordLogin()", db.RecordLogin(ctx, u.ID, t0.Add(-time.Duration(i)*time.Minute), ""), nil)
		}
	}
	byID := map[int64]ciphemic.User{}
	for _, id := range ids {
		u, err := db.User(ctx, id)
		if err != nil {
			t.Fatalf("User(%d) = %v", id, err)
		}
		byID[id] = u
	}
	keys := func() map[string]func(int64) sortKey {
		return map[string]func(int64) sortKey{
			"id":          func(id int64) sortKey { return sortKey{n: id} },
			"username":    func(id int64) sortKey { return sortKey{s: byID[id].Username} },
			"email":       func(id int64) sortKey { return sortKey{s: byID[id].Email} },
			"date_joined": func(id int64) sortKey { return timeKey(byID[id].DateJoined) },
			"last_login":  func(id int64) sortKey { return timeKey(byID[id].LastLogin) },
		}
	}
	checkOrderings(t, "ListUsers", ids, keys(), listUserIDs(db))

	c := mustCourse(t, db, "CS101", 0, 10)
	for _, id := range slices.Backward(ids) {
		mustEnroll(t, db, c.ID, id)
	}
	mustUser(t, db, "zed") // not enrolled
	checkOrderings(t, "CourseStudents", ids, keys(), func(q ciphemic.ListQuery) ([]int64, int64, error) {
		us, n, err := db.CourseStudents(ctx, c.ID, q)
		return userIDs(us), n, err
	})
}

func testListEnrollmentsOrdering(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var courses, students []int64
	for i := range 3 {
		courses = append(courses, mustCourse(t, db, jti("c", i), 0, 10).ID)
		students = append(students, mustUser(t, db, jti("s", i)).ID)
	}
	grades := []*int{intp(70), nil, intp(90), intp(70), nil, intp(10)}
	byID := map[int64]ciphemic.Enrollment{}
	var ids []int64
	for i, g := range grades {
		setNow(db, t0.Add(time.Duration((i*5)%6)*time.Second))
		e := mustEnroll(t, db, courses[(i+1)%3], students[i/2])
		e, err := db.SetGrade(ctx, e.ID, g)
		if err != nil {
			t.Fatalf("SetGrade() = %v", err)
		}
		byID[e.ID] = e
		ids = append(ids, e.ID)
	}
	checkOrderings(t, "ListEnrollments", ids, map[string]func(int64) sortKey{
		"id":          func(id int64) sortKey { return sortKey{n: id} },
		"enrolled_at": func(id int64) sortKey { return timeKey(byID[id].EnrolledAt) },
		"course_id":   func(id int64) sortKey { return sortKey{n: byID[id].CourseID} },
		"student_id":  func(id int64) sortKey { return sortKey{n: byID[id].StudentID} },
		"grade": func(id int64) sortKey {
			if g := byID[id].Grade; g != nil {
				return sortKey{n: int64(*g)}
			}
			return sortKey{null: true}
		},
	}, func(q ciphemic.ListQuery) ([]int64, int64, error) {
		es, n, err := db.ListEnrollments(ctx, ciphemic.EnrollmentFilter{}, q)
		return enrollmentIDs(es), n, err
	})
}

func testListPaging(t *testing.T, db *store.DB) {
	var ids []int64
	for i := range 5 {
		ids = append(ids, mustCourse(t, db, jti("c", i), 0, 1).ID)
	}
	list := listCourseIDs(db)
	tests := []struct {
		offset, limit int
		desc          bool
		want          []int64
	}{
		{0, 2, false, ids[0:2]},
		{2, 2, false, ids[2:4]},
		{4, 2, false, ids[4:5]},
		{5, 2, false, []int64{}},
		{50, 2, false, []int64{}},
		{0, 0, false, ids},
		{3, 0, false, ids[3:]},
		{1, 2, true, []int64{ids[3], ids[2]}},
	}
	for _, tc := range tests {
		q := ciphemic.ListQuery{Offset: tc.offset, Limit: tc.limit, Descending: tc.desc}
		got, n, err := list(q)
		if err != nil || n != 5 || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListCourses(%+v) = %v, %d, %v, want %v, 5", q, got, n, err, tc.want)
		}
	}
	for _, q := range []ciphemic.ListQuery{{Offset: -1, Limit: 2}, {Limit: -1}} {
		_, _, err := list(q)
		wantCode(t, "ListCourses(negative offset or limit)", err, ciphemic.CodeInvalid, "")
	}
}

// testListSearch: search is a case-insensitive substring match in which %, _ and \ are
// ordinary characters.
func testListSearch(t *testing.T, db *store.DB) {
	checkCourseSearch(t, db)
	checkUserSearch(t, db)
}

func checkCourseSearch(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	id := map[string]int64{}
	for _, code := range []string{"CS_101", "CSX101", "MA%TH", "MAXTH", `BS\1`, "BSX1"} {
		in := newCourse(code, 0, 1)
		in.Title = "T " + code
		c, err := db.CreateCourse(ctx, in)
		if err != nil {
			t.Fatalf("CreateCourse(%q) = %v", code, err)
		}
		id[code] = c.ID
	}
	in := newCourse("GO1", 0, 1)
	in.Title = "Intro to Go"
	id["GO1"] = mustCreate(t, db, in).ID
	ids := func(codes ...string) []int64 {
		out := []int64{}
		for _, c := range codes {
			out = append(out, id[c])
		}
		return out
	}
	tests := []struct {
		search string
		want   []int64
	}{
		{"_", ids("CS_101")},
		{"s_1", ids("CS_101")},
		{"%", ids("MA%TH")},
		{"a%t", ids("MA%TH")},
		{`\`, ids(`BS\1`)},
		{`s\1`, ids(`BS\1`)},
		{"cs", ids("CS_101", "CSX101")},
		{"INTRO TO", ids("GO1")},
		{"t ", ids("CS_101", "CSX101", "MA%TH", "MAXTH", `BS\1`, "BSX1")},
		{"nothing", ids()},
	}
	for _, tc := range tests {
		got, n, err := listCourseIDs(db)(ciphemic.ListQuery{Search: tc.search})
		if err != nil || n != int64(len(tc.want)) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListCourses(search %q) = %v, %d, %v, want %v", tc.search, got, n, err, tc.want)
		}
	}
}

func checkUserSearch(t *testing.T, db *store.DB) {
	t.Helper()
	users := map[string]int64{}
	for _, name := range []string{"a_b", "axb", "c%d", "cxd", `e\f`} {
		users[name] = mustUser(t, db, name).ID
	}
	userTests := []struct {
		search string
		want   []int64
	}{
		{"_", []int64{users["a_b"]}},
		{"%", []int64{users["c%d"]}},
		{`\`, []int64{users[`e\f`]}},
		{"A_B@EXAMPLE", []int64{users["a_b"]}},
		{"xb", []int64{users["axb"]}},
	}
	for _, tc := range userTests {
		got, n, err := listUserIDs(db)(ciphemic.ListQuery{Search: tc.search})
		if err != nil || n != int64(len(tc.want)) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListUsers(search %q) = %v, %d, %v, want %v", tc.search, got, n, err, tc.want)
		}
	}
}

func mustCreate(t *testing.T, db *store.DB, in ciphemic.Course) ciphemic.Course {
	t.Helper()
	c, err := db.CreateCourse(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateCourse(%q) = %v", in.Code, err)
	}
	return c
}

// testListBadOrdering: an ordering outside a list's fixed table is refused, whatever it
// holds, and the data is intact afterwards.
func testListBadOrdering(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := mustCourse(t, db, "CS101", 0, 5)
	mustEnroll(t, db, c.ID, mustUser(t, db, "sam").ID)
	lists := map[string]lister{
		"ListCourses": listCourseIDs(db),
		"ListUsers":   listUserIDs(db),
		"ListEnrollments": func(q ciphemic.ListQuery) ([]int64, int64, error) {
			es, n, err := db.ListEnrollments(ctx, ciphemic.EnrollmentFilter{}, q)
			return enrollmentIDs(es), n, err
		},
		"CourseStudents": func(q ciphemic.ListQuery) ([]int64, int64, error) {
			us, n, err := db.CourseStudents(ctx, c.ID, q)
			return userIDs(us), n, err
		},
	}
	bad := []string{"bogus", "-id", "ID", "id DESC", "id; DROP TABLE users", "(SELECT 1)",
		"password_hash", "teacher_id", "enrolled", "1", " id"}
	for name, list := range lists {
		for _, ordering := range bad {
			_, _, err := list(ciphemic.ListQuery{OrderBy: ordering})
			wantCode(t, name+"(ordering "+ordering+")", err, ciphemic.CodeInvalid, "")
		}
		if _, n, err := list(ciphemic.ListQuery{}); err != nil || n != 1 {
			t.Errorf("%s() after bad orderings = %d, %v, want 1 row", name, n, err)
		}
	}
	// A field of another list is no field of this one.
	for name, ordering := range map[string]string{"ListCourses": "username", "ListUsers": "code", "ListEnrollments": "title"} {
		_, _, err := lists[name](ciphemic.ListQuery{OrderBy: ordering})
		wantCode(t, name+"(ordering "+ordering+")", err, ciphemic.CodeInvalid, "")
	}
}
