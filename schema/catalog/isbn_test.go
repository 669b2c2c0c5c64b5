package catalog_test

import (
	"errors"
	"testing"

	"github.com/wriveted/huey-api/schema/catalog"
)

func TestNormalizeISBN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string // want "" = invalid
	}{
		{"ISBN-13 as is", "9780143782797", "9780143782797"},
		{"ISBN-13 with hyphens", "978-0-306-40615-7", "9780306406157"},
		{"ISBN-13 with spaces and text", "ISBN 978 0 306 40615 7", "9780306406157"},
		{"979 prefix", "979-10-90636-07-1", "9791090636071"},
		{"ISBN-10 to 13", "0007453574", "9780007453573"},
		{"ISBN-10 with hyphens", "0-306-40615-2", "9780306406157"},
		{"ISBN-10 check digit X", "0-8044-2957-X", "9780804429573"},
		{"ISBN-10 lower-case x", "080442957x", "9780804429573"},
		{"left-padded to ten", "306406152", "9780306406157"},
		{"all zeros pads to a valid ISBN-10", "0", "9780000000002"},
		{"empty", "", ""},
		{"no digits", "not-an-isbn", ""},
		{"X not last", "08044X2957", ""},
		{"two X", "080442957XX", ""},
		{"ISBN-10 bad check", "0306406153", ""},
		{"ISBN-13 bad check", "9780306406158", ""},
		{"ISBN-13 ending X", "978030640615X", ""},
		{"eleven digits", "03064061521", ""},
		{"twelve digits", "978030640615", ""},
		{"fourteen digits", "97803064061570", ""},
		{"padding cannot fix a bad check", "1", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := catalog.NormalizeISBN(c.in)
			if c.want == "" {
				if !errors.Is(err, catalog.ErrInvalidISBN) {
					t.Fatalf("NormalizeISBN(%q) = %q, %v; want ErrInvalidISBN", c.in, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("NormalizeISBN(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

// validISBN13 reports whether s is 13 digits with a valid check digit.
func validISBN13(s string) bool {
	if len(s) != 13 {
		return false
	}
	sum := 0
	for i := range 13 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += w * int(s[i]-'0')
	}
	return sum%10 == 0
}

// NormalizeISBN never panics; what it accepts becomes a valid ISBN-13 that
// normalises to itself.
func FuzzNormalizeISBN(f *testing.F) {
	for _, s := range []string{"9780143782797", "0-8044-2957-X", "080442957x", "0", "", "X", "978030640615X",
		"ISBN 978 0 306 40615 7", "９７８０３０６４０６１５７", "0000000000000", "ＸＸ", "x1x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := catalog.NormalizeISBN(in)
		if err != nil {
			if !errors.Is(err, catalog.ErrInvalidISBN) {
				t.Fatalf("NormalizeISBN(%q): error %v does not wrap ErrInvalidISBN", in, err)
			}
			return
		}
		if !validISBN13(out) {
			t.Fatalf("NormalizeISBN(%q) = %q, not a valid ISBN-13", in, out)
		}
		again, err := catalog.NormalizeISBN(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeISBN(%q) = %q, %v; want it idempotent (%q)", out, again, err, out)
		}
	})
}
