package hydrate

import (
	"strings"
	"testing"
)

// Both age rule lists read the same sources, so Estimate never finds a single
// bound; the ±4 rule is tested here directly.
func TestFillBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		lo, hi         *int
		wantLo, wantHi any
	}{
		{"min only", ptr(6), nil, 6, 10},
		{"max only", nil, ptr(9), 5, 9},
		{"zero min is not extended", ptr(0), nil, 0, nil},
		{"both kept", ptr(3), ptr(5), 3, 5},
		{"neither", nil, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lo, hi := fillBounds(tc.lo, tc.hi)
			if val(lo) != tc.wantLo || val(hi) != tc.wantHi {
				t.Errorf("fillBounds = %v, %v; want %v, %v", val(lo), val(hi), tc.wantLo, tc.wantHi)
			}
		})
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"fits, whitespace collapsed", "a  b\u00a0 c", "a b c"},
		{"cut on a word boundary", "one two three four", "one two..."},
		{"one long word is cut", strings.Repeat("x", 20), strings.Repeat("x", 10) + "..."},
		{"counts characters, not bytes", "ééééé ééééé ééééé", "ééééé..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := shorten(tc.in, 13); got != tc.want {
				t.Errorf("shorten(%q, 13) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCleanSummary(t *testing.T) {
	t.Parallel()
	in := "&lt;p&gt;Line one&lt;/p&gt;\r\n\t<br/>5 < 6 &amp;amp; nbsp;done  "
	if got := cleanSummary(&in); got == nil || *got != "Line one5 < 6 & done" {
		t.Errorf("cleanSummary = %v", val(got))
	}
	if blank := " <p></p> "; cleanSummary(&blank) != nil {
		t.Error("a summary that cleans to nothing should be absent")
	}
}

func val[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
