package queries

import (
	"strconv"
	"strings"
)

// Filter builds the dynamic tail of a list query: a WHERE clause of ANDed
// conditions with numbered parameters, then ORDER BY and a page. It is the
// one filter builder; sqlc cannot express optional filters without a
// catch-all query (see README "SQL beside its resource").
//
// A condition names its parameter $?; Add numbers it after those before it.
// Conditions are SQL written in this module, never caller input: only
// values travel as parameters.
type Filter struct {
	conds []string
	args  []any
}

// Add appends cond with v as its parameter; every $? in cond is v.
func (f *Filter) Add(cond string, v any) {
	f.args = append(f.args, v)
	f.conds = append(f.conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(f.args))))
}

// AddIf appends cond with v when ok.
func (f *Filter) AddIf(ok bool, cond string, v any) {
	if ok {
		f.Add(cond, v)
	}
}

// AddSQL appends a condition that takes no parameter.
func (f *Filter) AddSQL(cond string) {
	f.conds = append(f.conds, cond)
}

// Where returns " WHERE c1 AND c2 …" or "" when there is no condition.
func (f *Filter) Where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return "\nWHERE " + strings.Join(f.conds, " AND ")
}

// Args returns the parameters of the conditions added so far.
func (f *Filter) Args() []any { return f.args }

// Page returns base, the WHERE clause, "ORDER BY orderBy" and an OFFSET and
// LIMIT of skip and limit, and the parameters in order. base must end where
// a WHERE clause may start (no trailing semicolon).
func (f *Filter) Page(base, orderBy string, skip, limit int) (string, []any) {
	base = strings.TrimRight(strings.TrimSpace(base), ";")
	args := append(append([]any{}, f.args...), skip, limit)
	n := len(args)
	return base + f.Where() + "\nORDER BY " + orderBy +
		" OFFSET $" + strconv.Itoa(n-1) + " LIMIT $" + strconv.Itoa(n), args
}
