package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// Django projects mostly express roles as auth.group memberships. With
// --role-from-group NAME=ROLE (repeatable) the members of a group of `dumpdata auth.group
// auth.user` get that role; users in no named group keep the superuser/staff rule.

// groupRoles is the --role-from-group flag: a role for each group name.
type groupRoles map[string]ciphemic.Role

func (g *groupRoles) String() string {
	if g == nil || len(*g) == 0 {
		return ""
	}
	pairs := make([]string, 0, len(*g))
	for name, role := range *g {
		pairs = append(pairs, name+"="+string(role))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func (g *groupRoles) Set(v string) error {
	name, roleName, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=ROLE, got %q", v)
	}
	role, err := ciphemic.ParseRole(roleName)
	if err != nil {
		return fmt.Errorf("%q is not admin, teacher or student", roleName)
	}
	if *g == nil {
		*g = groupRoles{}
	}
	if prev, dup := (*g)[name]; dup && prev != role {
		return fmt.Errorf("group %q is given two roles, %s and %s", name, prev, role)
	}
	(*g)[name] = role
	return nil
}

// roleRules decide an imported user's role: override (--role) for everyone, else the
// most privileged role of the user's groups in byGroup, else Django's flags. Django
// grants the union of a user's groups' permissions, so the strongest role is the one
// that matches what the user could do there.
type roleRules struct {
	override ciphemic.Role
	byGroup  groupRoles
	// groups are the dump's auth.group records, pk → name.
	groups map[int64]string
}

// roleRank orders roles by privilege.
var roleRank = []ciphemic.Role{ciphemic.RoleStudent, ciphemic.RoleTeacher, ciphemic.RoleAdmin}

// role returns the role of a user with these flags and memberships (group pks or
// natural keys, as dumpdata wrote them).
func (rr roleRules) role(superuser, staff bool, memberships []json.RawMessage) (ciphemic.Role, error) {
	if rr.override != "" {
		return rr.override, nil
	}
	var best ciphemic.Role
	for _, m := range memberships {
		name, err := rr.groupName(m)
		if err != nil {
			return "", err
		}
		if r, ok := rr.byGroup[name]; ok && slices.Index(roleRank, r) > slices.Index(roleRank, best) {
			best = r
		}
	}
	if best != "" {
		return best, nil
	}
	return djangoRole(superuser, staff, ""), nil
}

// groupName reads one element of a user's "groups": a group pk, or its natural key
// ["name"] when dumped with --natural-foreign.
func (rr roleRules) groupName(m json.RawMessage) (string, error) {
	var pk int64
	if err := json.Unmarshal(m, &pk); err == nil {
		name, ok := rr.groups[pk]
		if !ok && len(rr.byGroup) > 0 {
			return "", fmt.Errorf("groups: group pk %d is not in the dump (dump with `manage.py dumpdata auth.group auth.user`)", pk)
		}
		return name, nil
	}
	var natural []string
	if err := json.Unmarshal(m, &natural); err == nil && len(natural) == 1 {
		return natural[0], nil
	}
	return "", fmt.Errorf("groups: want group pks or natural keys")
}

// djangoGroupFields are the fields of auth.group that matter here.
type djangoGroupFields struct {
	Name *string `json:"name"`
}

// readDjangoGroups collects the auth.group records of records, pk → name, and returns the
// others, the users, in their order with their indexes in the dump.
func readDjangoGroups(records []json.RawMessage) (map[int64]string, []indexedRecord, error) {
	groups := map[int64]string{}
	var users []indexedRecord
	for i, raw := range records {
		var head struct {
			Model  string             `json:"model"`
			PK     *int64             `json:"pk"`
			Fields *djangoGroupFields `json:"fields"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.Model != "auth.group" {
			users = append(users, indexedRecord{i, raw})
			continue
		}
		switch {
		case head.PK == nil:
			return nil, nil, fmt.Errorf("group record [%d]: missing pk", i)
		case head.Fields == nil || head.Fields.Name == nil || *head.Fields.Name == "":
			return nil, nil, fmt.Errorf("group record [%d] (pk %d): missing name", i, *head.PK)
		}
		groups[*head.PK] = *head.Fields.Name
	}
	return groups, users, nil
}

// indexedRecord is a record and its index in the dump, which errors name.
type indexedRecord struct {
	index int
	raw   json.RawMessage
}

// checkGroupNames refuses a --role-from-group name that no group of the dump has: a typo
// would otherwise silently leave its members with the fallback role.
func (rr roleRules) checkGroupNames() error {
	have := map[string]bool{}
	for _, name := range rr.groups {
		have[name] = true
	}
	var unknown []string
	for name := range rr.byGroup {
		if !have[name] {
			unknown = append(unknown, fmt.Sprintf("%q", name))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return invalid("role-from-group", "no group named %s in the dump (dump with `manage.py dumpdata auth.group auth.user`)",
		strings.Join(unknown, ", "))
}
