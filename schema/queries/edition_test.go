package queries

import (
	"reflect"
	"testing"
)

func TestEditionUpdate(t *testing.T) {
	t.Parallel()
	var u EditionUpdate
	if !u.Empty() {
		t.Fatal("a new EditionUpdate is not empty")
	}
	u.Set("edition_title", "Renamed")
	u.Set("date_published", int64(2020))
	u.SetJSONB("info", `{"a":1}`)
	if u.Empty() {
		t.Fatal("EditionUpdate with three columns is empty")
	}
	sql, args := u.SQL(7)
	wantSQL := "UPDATE public.editions SET edition_title = $1, date_published = $2, info = $3::jsonb WHERE id = $4"
	if sql != wantSQL {
		t.Errorf("SQL:\n got %s\nwant %s", sql, wantSQL)
	}
	if want := []any{"Renamed", int64(2020), `{"a":1}`, int32(7)}; !reflect.DeepEqual(args, want) {
		t.Errorf("args: got %#v, want %#v", args, want)
	}
}
