package staff

import (
	"bytes"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	var w bytes.Buffer
	b := newProgress(&w, "rows")
	b.Update(0, 4)
	b.Update(2, 4)
	b.Update(4, 4)
	b.Finish()
	want := "\r[>                             ] 0/4 rows" +
		"\r[===============>              ] 2/4 rows" +
		"\r[==============================] 4/4 rows\n"
	if w.String() != want {
		t.Errorf("%q", w.String())
	}
	var nilBar *Progress
	nilBar.Update(1, 2)
	nilBar.Finish()
	if IsTerminal(&w) || NewProgress(&w, "rows") != nil {
		t.Error("a buffer is a terminal")
	}
}

func TestActor(t *testing.T) {
	t.Parallel()
	a, err := Actor(func(k string) string { return map[string]string{"STAFF_ACTOR": " ana "}[k] })
	if err != nil || a != "ana" {
		t.Errorf("%q %v", a, err)
	}
	if a, err := Actor(func(string) string { return "" }); err != nil || a == "" {
		t.Errorf("no OS user: %q %v", a, err)
	}
}

func TestMessageIsOneLine(t *testing.T) {
	t.Parallel()
	err := &pgconn.PgError{Code: "42501", Message: "permission denied for table users"}
	if got := Message(errors.Join(errors.New("x"), err)); got != "refused by the database: permission denied for table users" {
		t.Errorf("%q", got)
	}
	if got := Message(errors.New("a\nb")); got != "a b" {
		t.Errorf("%q", got)
	}
}

func TestFlagsRefuseArguments(t *testing.T) {
	t.Parallel()
	f := NewFlags("x", &bytes.Buffer{})
	if err := f.Parse([]string{"-dry-run", "extra"}); err == nil {
		t.Error("accepted a positional argument")
	}
	f = NewFlags("x", &bytes.Buffer{})
	if err := f.Parse([]string{"-dry-run"}); err != nil || !*f.DryRun {
		t.Errorf("%v %v", err, *f.DryRun)
	}
}
