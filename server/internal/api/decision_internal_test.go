package api

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// policyDir is policies/ from this package's directory.
const policyDir = "../../../policies"

// regoPackage is one huey.resource.<type> package: its ACL's entries and
// every action its ACL or its tests name.
type regoPackage struct {
	entries []regoEntry
	named   map[string]bool
}

// regoEntry is one ACL entry: allow or deny, for the actions it names (nil:
// All).
type regoEntry struct {
	allow   bool
	actions []string
}

var (
	regoPackageRe = regexp.MustCompile(`(?m)^package huey\.resource\.(\w+)\s*$`)
	regoEntryRe   = regexp.MustCompile(`(?:decision :=|\} else :=) "(allow|deny)"`)
	regoActionRe  = regexp.MustCompile(`input\.action == "([a-z-]+)"|input\.action in \{([^}]*)\}`)
	regoQuotedRe  = regexp.MustCompile(`"([a-z-]+)"`)
	regoCommentRe = regexp.MustCompile(`(?m)#.*$`)
)

// readRegoPackages parses policies/*.rego: the resource packages by type.
func readRegoPackages(t *testing.T) map[string]*regoPackage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(policyDir, "*.rego"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Rego files under %s: %v", policyDir, err)
	}
	pkgs := map[string]*regoPackage{}
	var tests []string // the _test.rego sources
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if strings.HasSuffix(f, "_test.rego") {
			tests = append(tests, src)
			continue
		}
		m := regoPackageRe.FindStringSubmatch(src)
		if m == nil {
			continue // huey.authz, the entrypoint
		}
		p := &regoPackage{named: map[string]bool{}}
		code := regoCommentRe.ReplaceAllString(src, "")
		heads := regoEntryRe.FindAllStringSubmatchIndex(code, -1)
		for i, h := range heads {
			end := len(code)
			if i+1 < len(heads) {
				end = heads[i+1][0]
			}
			e := regoEntry{allow: code[h[2]:h[3]] == "allow"}
			for _, am := range regoActionRe.FindAllStringSubmatch(code[h[1]:end], -1) {
				if am[1] != "" {
					e.actions = append(e.actions, am[1])
				}
				for _, q := range regoQuotedRe.FindAllStringSubmatch(am[2], -1) {
					e.actions = append(e.actions, q[1])
				}
			}
			for _, a := range e.actions {
				p.named[a] = true
			}
			p.entries = append(p.entries, e)
		}
		if len(p.entries) == 0 {
			t.Fatalf("%s: package huey.resource.%s has no ACL entries the test can read", f, m[1])
		}
		pkgs[m[1]] = p
	}
	// An action a package's tests prove someone is allowed is one it knows,
	// e.g. the school's `bind`, allowed by an All entry: `test_… if
	// allowed(ps, "bind", …)` in huey.resource.school_test, or
	// `allowed("works", ps, "generate-labels")` in the catalogue's tests.
	for _, src := range tests {
		m := regexp.MustCompile(`(?m)^package huey\.resource\.(\w+)_test\s*$`).FindStringSubmatch(src)
		if m == nil {
			continue
		}
		for _, call := range regexp.MustCompile(`(?m)^test_\w+ if allowed\(([^)]*)\)`).FindAllStringSubmatch(src, -1) {
			var quoted []string
			for _, q := range regoQuotedRe.FindAllStringSubmatch(call[1], -1) {
				quoted = append(quoted, q[1])
			}
			typ := m[1]
			if len(quoted) >= 2 && pkgs[quoted[0]] != nil {
				typ, quoted = quoted[0], quoted[1:]
			}
			if p := pkgs[typ]; p != nil && len(quoted) > 0 {
				p.named[quoted[0]] = true
			}
		}
	}
	return pkgs
}

// allows reports whether some entry of p allows action (named or All).
func (p *regoPackage) allows(action string) bool {
	for _, e := range p.entries {
		if e.allow && (e.actions == nil || slices.Contains(e.actions, action)) {
			return true
		}
	}
	return false
}

// Every route declares exactly one decision in the route table (issue 15):
// the table registers a route only with one, and no route is registered
// around it. Every declared resource type is a Rego package and every
// declared action one the package knows and can allow.
func TestRouteDecisions(t *testing.T) {
	s, e := newServer(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	pkgs := readRegoPackages(t)

	routes := e.Routes()
	seen := map[string]bool{}
	var listing []string
	kinds := map[string]int{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if seen[key] {
			t.Errorf("%s is registered twice", key)
		}
		seen[key] = true
		d, ok := s.decisions[key]
		if !ok {
			t.Errorf("%s declares no decision in the route table", key)
			continue
		}
		listing = append(listing, key+"  →  "+d.String())
		switch {
		case d.kind == decideNone && d.self:
			kinds["self-only"]++
		case d.kind == decideNone:
			kinds["public"]++
		case d.kind == decideType:
			kinds["route-level"]++
		case d.kind == decideNamed:
			kinds["instance when named"]++
		case d.route != nil:
			kinds["route-level then instance"]++
		default:
			kinds["instance"]++
		}
		if d.kind == decideNone {
			if strings.TrimSpace(d.reason) == "" {
				t.Errorf("%s: a public or self-only route must say why", key)
			}
			if len(d.checks()) > 0 {
				t.Errorf("%s: a public or self-only route declares a policy", key)
			}
			continue
		}
		if len(d.checks()) == 0 {
			t.Errorf("%s: declares a policy decision without a question", key)
		}
		for _, ck := range d.checks() {
			p := pkgs[ck.typ]
			switch {
			case p == nil:
				t.Errorf("%s: resource type %q is no Rego package huey.resource.%s", key, ck.typ, ck.typ)
			case !p.named[ck.action]:
				t.Errorf("%s: action %q is named neither by huey.resource.%s nor by its tests", key, ck.action, ck.typ)
			case !p.allows(ck.action):
				t.Errorf("%s: huey.resource.%s never allows %q", key, ck.typ, ck.action)
			}
		}
	}
	for key := range s.decisions {
		if !seen[key] {
			t.Errorf("decision of %s declared for no route", key)
		}
	}
	if len(routes) < 80 {
		t.Errorf("the walk saw %d routes; the table has more than 80", len(routes))
	}
	sort.Strings(listing)
	t.Logf("%d routes: %v\n%s", len(routes), kinds, strings.Join(listing, "\n"))

	// The resource-type constants are the Rego packages, both ways.
	var rego []string
	for typ := range pkgs {
		rego = append(rego, typ)
	}
	sort.Strings(rego)
	consts := slices.Clone(resourceTypes)
	sort.Strings(consts)
	if !slices.Equal(rego, consts) {
		t.Errorf("resource-type constants %v, Rego packages huey.resource.* %v", consts, rego)
	}
}
