package queries

import (
	"reflect"
	"testing"
)

func TestFilterPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		note     string
		build    func(f *Filter)
		wantSQL  string
		wantArgs []any
	}{
		{
			note:     "no condition",
			build:    func(*Filter) {},
			wantSQL:  "SELECT 1 FROM t\nORDER BY t.id OFFSET $1 LIMIT $2",
			wantArgs: []any{5, 10},
		},
		{
			note: "numbered in order, a parameter used twice, a condition without one",
			build: func(f *Filter) {
				f.Add("t.a = $?", "x")
				f.AddSQL("t.b IS NULL")
				f.Add("(t.c ILIKE $? OR t.d ILIKE $?)", "%y%")
				f.AddIf(false, "t.e = $?", 1)
				f.AddIf(true, "t.f = $?", 2)
			},
			wantSQL: "SELECT 1 FROM t\nWHERE t.a = $1 AND t.b IS NULL AND (t.c ILIKE $2 OR t.d ILIKE $2) AND t.f = $3" +
				"\nORDER BY t.id OFFSET $4 LIMIT $5",
			wantArgs: []any{"x", "%y%", 2, 5, 10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			t.Parallel()
			var f Filter
			tt.build(&f)
			sql, args := f.Page("SELECT 1 FROM t;\n", "t.id", 5, 10)
			if sql != tt.wantSQL {
				t.Errorf("sql:\n%s\nwant:\n%s", sql, tt.wantSQL)
			}
			if !reflect.DeepEqual(args, tt.wantArgs) {
				t.Errorf("args %v, want %v", args, tt.wantArgs)
			}
		})
	}
}

// Page leaves the filter's own arguments alone, so a filter can page twice.
func TestFilterPageTwice(t *testing.T) {
	t.Parallel()
	var f Filter
	f.Add("t.a = $?", 1)
	_, first := f.Page("SELECT 1 FROM t", "t.id", 0, 10)
	_, second := f.Page("SELECT 1 FROM t", "t.id", 10, 10)
	if !reflect.DeepEqual(f.Args(), []any{1}) || !reflect.DeepEqual(first, []any{1, 0, 10}) ||
		!reflect.DeepEqual(second, []any{1, 10, 10}) {
		t.Errorf("args %v, first %v, second %v", f.Args(), first, second)
	}
}
