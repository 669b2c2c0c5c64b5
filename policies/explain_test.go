package policies

import (
	"context"
	"strings"
	"testing"
)

// TestEntries: every production ACL is an else chain whose branches each open with a numbered
// comment ("# 3. Allow …"), numbers unique per package, ending with a bare default.
func TestEntries(t *testing.T) {
	e := newTestEngine(t, 0)
	for _, err := range e.explain.problems {
		t.Error(err)
	}
	srcs, err := productionSources()
	if err != nil {
		t.Fatal(err)
	}
	entries := e.Entries()
	for name := range srcs {
		if name == "authz.rego" {
			continue
		}
		typ := strings.TrimSuffix(name, ".rego")
		if typ == "booklist" || typ == "booklists" {
			// files are named after the resource; the package may differ (book_list)
			typ = map[string]string{"booklist": "book_list", "booklists": "book_lists"}[typ]
		}
		es := entries[typ]
		if len(es) < 2 {
			t.Errorf("%s: %d entries for type %q", name, len(es), typ)
			continue
		}
		seen := map[string]bool{}
		for i, en := range es {
			if en.File != name || en.Line == 0 || en.Comment == "" || (en.Effect != "allow" && en.Effect != "deny") {
				t.Errorf("%s: entry %d incomplete: %+v", name, i, en)
			}
			if seen[en.N] {
				t.Errorf("%s: entry number %s twice", name, en.N)
			}
			seen[en.N] = true
			if last := i == len(es)-1; last != (en.N == "default") {
				t.Errorf("%s: entry %d is %q", name, i, en.N)
			}
		}
	}
}

// TestExplainNamesTheEntry: the entry Explain names decided as Allow did, over every input of
// the cache tests, and names the expected entry in a few cases a reviewer can check by eye.
func TestExplainNamesTheEntry(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, defaultCacheSize)
	for _, in := range allInputs() {
		d, err := e.Explain(ctx, in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		ok, err := e.Allow(ctx, in)
		if err != nil || ok != d.Allowed {
			t.Fatalf("%+v: Explain %v, Allow %v %v", in, d.Allowed, ok, err)
		}
	}
	cases := []struct {
		ps     []string
		action string
		res    Resource
		want   string
	}{
		{pSchoolAdmin, "read", school("17"), "school.rego#3 allow"},
		{pSchoolAdmin, "delete", school("17"), "school.rego#2 deny"},
		{pSchoolAdmin, "update-state", school("17"), "school.rego#2b deny"},
		{pStudent, "read", school("17"), "school.rego#7 allow"},
		{pReader, "read", school("17"), "school.rego#default deny"},
		{pAdmin, "read", school("17"), "school.rego#1 allow"},
		{pEducator, "change-privileged", user("s17", "student", "17", ""), "user.rego#2b deny"},
		{pAdmin, "read", Resource{Type: "nope"}, "authz.rego#none deny"},
	}
	for _, c := range cases {
		d, err := e.Explain(ctx, Input{Principals: NewPrincipals(c.ps), Action: c.action, Resource: c.res})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Entry.String(); got != c.want {
			t.Errorf("%v %s %+v: entry %s, want %s", c.ps, c.action, c.res, got, c.want)
		}
	}
	d, _ := e.Explain(ctx, Input{Principals: NewPrincipals(pSchoolAdmin), Action: "read", Resource: school("17")})
	if d.Entry.Package != "huey.resource.school" || !strings.HasPrefix(d.Entry.Comment, "3. Allow schooladmin:{id} All.") || d.Entry.Line != 20 {
		t.Errorf("entry = %+v", d.Entry)
	}
}

// TestExplainUnnamedChains: a policy outside the convention is still decided, and Explain says
// it cannot name the entry rather than failing.
func TestExplainUnnamedChains(t *testing.T) {
	ctx := context.Background()
	e, err := newEngine(ctx, boomSources(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.explain.problems) != 2 {
		t.Errorf("problems = %v, want the two unnamed test chains", e.explain.problems)
	}
	d, err := e.Explain(ctx, Input{Principals: NewPrincipals(pAdmin), Action: "read", Resource: Resource{Type: "boom", ID: "5"}})
	if err != nil || !d.Allowed || d.Entry.N != "unnamed" {
		t.Errorf("boom 5: %+v %v", d, err)
	}
	if _, err := e.Explain(ctx, Input{Principals: NewPrincipals(pAdmin), Action: "read", Resource: Resource{Type: "boom", ID: "0"}}); err == nil {
		t.Error("boom 0: no error")
	}
}

// BenchmarkExplainRefusal measures what a refusal costs to explain (the server's 403 path):
// a cached Allow plus one evaluation of the generated entry rule.
func BenchmarkExplainRefusal(b *testing.B) {
	e := benchEngine(b, defaultCacheSize)
	in := Input{Principals: NewPrincipals(pReader), Action: "read", Resource: school("17")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.Explain(ctx, in)
		if err != nil || d.Allowed || d.Entry.N != "default" {
			b.Fatalf("Explain = %+v, %v", d, err)
		}
	}
}
