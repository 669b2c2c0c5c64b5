package queries

import (
	"strconv"
	"strings"
)

// EditionUpdate builds PATCH /edition's UPDATE of public.editions, naming
// only the columns the patch sets. sqlc cannot express it as one static
// statement: a catch-all that names every column (col = coalesce(@col, col))
// would fire update_edition_title_trigger (AFTER UPDATE OF edition_title,
// work_id) on every patch, one more UPDATE recomputing editions.title (and
// edition_title_to_items after it); and a patch that sets no column sends
// no UPDATE at all. See README "SQL beside its resource".
//
// Columns are names written in this module, never caller input: only values
// travel as parameters.
type EditionUpdate struct {
	sets []string
	args []any
}

// Set adds "col = $n" with v as its parameter.
func (u *EditionUpdate) Set(col string, v any) { u.set(col, "", v) }

// SetJSONB adds "col = $n::jsonb" with the JSON text v.
func (u *EditionUpdate) SetJSONB(col string, v string) { u.set(col, "::jsonb", v) }

func (u *EditionUpdate) set(col, cast string, v any) {
	u.args = append(u.args, v)
	u.sets = append(u.sets, col+" = $"+strconv.Itoa(len(u.args))+cast)
}

// Empty reports whether no column is set.
func (u *EditionUpdate) Empty() bool { return len(u.sets) == 0 }

// SQL returns the UPDATE of edition id and its parameters.
func (u *EditionUpdate) SQL(id int32) (string, []any) {
	args := append(append([]any{}, u.args...), id)
	return "UPDATE public.editions SET " + strings.Join(u.sets, ", ") + " WHERE id = $" + strconv.Itoa(len(args)), args
}
