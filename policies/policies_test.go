package policies

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/tester"
)

// minCoverage is the Rego line coverage the production policies must reach under their tests.
const minCoverage = 90.0

// TestRego runs every *_test.rego through OPA's tester and checks the production policies'
// line coverage.
func TestRego(t *testing.T) {
	ctx := context.Background()
	srcs, err := embeddedSources(true)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := parseModules(srcs)
	if err != nil {
		t.Fatal(err)
	}
	cov := cover.New()
	ch, err := tester.NewRunner().SetModules(mods).SetCoverageQueryTracer(cov).RunTests(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	perFile := map[string]int{}
	total := 0
	for r := range ch {
		total++
		perFile[r.Location.File]++
		if !r.Pass() {
			t.Errorf("%s: %s", r.Location, r.String())
		}
	}
	for _, name := range []string{"authz_test.rego", "booklist_test.rego", "booklists_test.rego", "catalogue_test.rego", "class_test.rego", "collection_test.rego", "collection_item_test.rego", "classes_test.rego", "decisions_test.rego", "event_test.rego", "events_test.rego", "school_test.rego",
		"schools_test.rego", "service_accounts_test.rego", "user_test.rego", "users_test.rego"} {
		if perFile[name] == 0 {
			t.Errorf("%s: no tests ran", name)
		}
	}

	rep := cov.Report(mods)
	covered, notCovered := 0, 0
	for _, name := range slices.Sorted(maps.Keys(mods)) {
		if strings.HasSuffix(name, "_test.rego") {
			continue
		}
		fr := rep.Files[name]
		if fr == nil {
			t.Errorf("%s: no coverage recorded", name)
			continue
		}
		covered += fr.CoveredLines
		notCovered += fr.NotCoveredLines
		for _, r := range fr.NotCovered {
			t.Logf("%s: lines %d-%d not covered", name, r.Start.Row, r.End.Row)
		}
	}
	pct := 0.0
	if covered+notCovered > 0 {
		pct = 100 * float64(covered) / float64(covered+notCovered)
	}
	t.Logf("%d Rego tests %v; production coverage %.1f%% (%d/%d lines)", total, perFile, pct, covered, covered+notCovered)
	if pct < minCoverage {
		t.Errorf("Rego coverage %.1f%% < %.0f%%", pct, minCoverage)
	}
}

func TestProductionSourcesExcludeTests(t *testing.T) {
	srcs, err := productionSources()
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(srcs))
	want := []string{"authz.rego", "booklist.rego", "booklists.rego", "class.rego", "classes.rego", "collection.rego", "collection_item.rego", "decisions.rego", "editions.rego", "event.rego", "events.rego", "labelsets.rego", "school.rego", "schools.rego",
		"service_accounts.rego", "user.rego", "users.rego", "works.rego"}
	if !slices.Equal(got, want) {
		t.Fatalf("production sources = %v, want %v", got, want)
	}
}

func newTestEngine(t testing.TB, cacheSize int) *Engine {
	t.Helper()
	srcs, err := productionSources()
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEngine(context.Background(), srcs, cacheSize)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Principal sets per account kind (spec/access.md §4 with F2/F5 fixed).
var (
	pAdmin       = []string{"system:everyone", "system:authenticated", "user:a0", "role:admin"}
	pSchoolAdmin = []string{"system:everyone", "system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"}
	pEducator    = []string{"system:everyone", "system:authenticated", "user:e17", "role:educator", "educator:17"}
	pStudent     = []string{"system:everyone", "system:authenticated", "user:s17", "role:reader", "role:student", "student:17", "child:p1"}
	pReader      = []string{"system:everyone", "system:authenticated", "user:r1", "role:reader", "child:p1"}
	pParent      = []string{"system:everyone", "system:authenticated", "user:p1", "parent:s17", "parent:r1"}
	pSupporter   = []string{"system:everyone", "system:authenticated", "user:sp1"}
	pLMS         = []string{"system:everyone", "system:authenticated", "role:lms", "school:17"}
	pKiosk       = []string{"system:everyone", "system:authenticated", "role:kiosk"}
	pAnonymous   = []string{"system:everyone"}
)

func school(id string) Resource { return Resource{Type: "school", ID: id} }

func schools() Resource { return Resource{Type: "schools"} }

func user(id, typ, schoolID, parentID string) Resource {
	return Resource{Type: "user", ID: id, Attrs: map[string]string{"type": typ, "school_id": schoolID, "parent_id": parentID}}
}

type allowCase struct {
	name   string
	ps     []string
	action string
	res    Resource
	want   bool
}

var allowCases = []allowCase{
	// school
	{"admin deletes school", pAdmin, "delete", school("17"), true},
	{"F18 school admin deletes own school", pSchoolAdmin, "delete", school("17"), false},
	{"school admin reads own school", pSchoolAdmin, "read", school("17"), true},
	{"school admin reads other school", pSchoolAdmin, "read", school("18"), false},
	{"F2 lms updates linked school", pLMS, "update", school("17"), true},
	{"F2 lms reads unlinked school", pLMS, "read", school("18"), false},
	{"F6 educator reads own school", pEducator, "read", school("17"), true},
	{"educator updates own school", pEducator, "update", school("17"), false},
	{"F6 student reads own school", pStudent, "read", school("17"), true},
	{"student updates own school", pStudent, "update", school("17"), false},
	{"reader reads school", pReader, "read", school("17"), false},
	// schools
	{"F4 lms creates school", pLMS, "create", schools(), false},
	{"reader creates school", pReader, "create", schools(), true},
	{"kiosk lists schools", pKiosk, "read", schools(), true},
	{"anonymous lists schools", pAnonymous, "read", schools(), false},
	{"admin batch schools", pAdmin, "batch", schools(), true},
	{"lms batch schools", pLMS, "batch", schools(), false},
	{"F2 lms details schools", pLMS, "details", schools(), false},
	// user
	{"self updates self", pReader, "update", user("r1", "public", "", "p1"), true},
	{"F1 self change-privileged", pReader, "change-privileged", user("r1", "public", "", "p1"), false},
	{"school admin change-privileged educator", pSchoolAdmin, "change-privileged", user("e17", "educator", "17", ""), true},
	{"school admin change-privileged other school", pSchoolAdmin, "change-privileged", user("e18", "educator", "18", ""), false},
	{"F10 parent magic-link child", pParent, "magic-link", user("s17", "student", "17", "p1"), false},
	{"self magic-link", pStudent, "magic-link", user("s17", "student", "17", "p1"), true},
	{"parent updates child", pParent, "update", user("s17", "student", "17", "p1"), true},
	{"F7 educator reads student", pEducator, "read", user("s17", "student", "17", "p1"), true},
	{"educator updates student", pEducator, "update", user("s17", "student", "17", "p1"), false},
	{"child reads parent", pReader, "read", user("p1", "parent", "", ""), true},
	{"F20 supporter reads self", pSupporter, "read", user("sp1", "supporter", "", ""), true},
	{"supporter reads reader", pSupporter, "read", user("r1", "public", "", "p1"), false},
	// unknown types
	{"admin reads unknown type", pAdmin, "read", Resource{Type: "booklist", ID: "1"}, false},
	{"admin reads empty type", pAdmin, "read", Resource{}, false},
}

func TestAllow(t *testing.T) {
	e, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range allowCases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Principals: NewPrincipals(tc.ps), Action: tc.action, Resource: tc.res}
			for i := range 2 { // the second call is answered by the cache
				got, err := e.Allow(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("call %d: Allow = %v, want %v", i, got, tc.want)
				}
			}
		})
	}
}

func TestZeroPrincipalsDenied(t *testing.T) {
	e := newTestEngine(t, 0)
	got, err := e.Allow(context.Background(), Input{Action: "read", Resource: schools()})
	if err != nil || got {
		t.Fatalf("Allow(zero principals) = %v, %v; want false, nil", got, err)
	}
	// system:everyone is implied, so the F18 deny applies to a set that left it out.
	in := Input{Principals: NewPrincipals([]string{"schooladmin:17"}), Action: "delete", Resource: school("17")}
	if got, err := e.Allow(context.Background(), in); err != nil || got {
		t.Fatalf("Allow(schooladmin delete without system:everyone) = %v, %v; want false, nil", got, err)
	}
}

func TestPrincipals(t *testing.T) {
	p := NewPrincipals([]string{"user:u1", "role:admin", "user:u1", "educator:17"})
	want := []string{"educator:17", "role:admin", "system:everyone", "user:u1"}
	if got := p.List(); !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	p.List()[0] = "mutated"
	if got := p.List(); !slices.Equal(got, want) {
		t.Errorf("List after mutating a returned slice = %v, want %v", got, want)
	}
	for _, s := range want {
		if !p.Has(s) {
			t.Errorf("Has(%q) = false", s)
		}
	}
	if p.Has("role:educator") || p.Has("") {
		t.Error("Has reports a principal not in the set")
	}
	var zero Principals
	if got := zero.List(); !slices.Equal(got, []string{"system:everyone"}) {
		t.Errorf("zero List = %v", got)
	}
	if !zero.Has("system:everyone") || zero.Has("role:admin") {
		t.Error("zero Has wrong")
	}
}

// allInputs enumerates principal sets × actions × resources for consistency checks.
func allInputs() []Input {
	sets := [][]string{pAdmin, pSchoolAdmin, pEducator, pStudent, pReader, pParent, pSupporter, pLMS, pKiosk, pAnonymous}
	actions := []string{"read", "update", "delete", "details", "create", "batch", "bind", "read-collection", "change-privileged", "magic-link"}
	resources := []Resource{
		school("17"), school("18"), schools(),
		user("s17", "student", "17", "p1"), user("e17", "educator", "17", ""), user("sa17", "school_admin", "17", ""),
		user("r1", "public", "", "p1"), user("p1", "parent", "", ""), user("sp1", "supporter", "", ""),
		user("e18", "educator", "18", ""), user("w1", "wriveted", "", ""), {Type: "booklist", ID: "3"},
	}
	var ins []Input
	for _, ps := range sets {
		p := NewPrincipals(ps)
		for _, a := range actions {
			for _, r := range resources {
				ins = append(ins, Input{Principals: p, Action: a, Resource: r})
			}
		}
	}
	return ins
}

func TestCacheConsistency(t *testing.T) {
	ctx := context.Background()
	cached := newTestEngine(t, defaultCacheSize)
	uncached := newTestEngine(t, 0)
	ins := allInputs()
	allows := 0
	for _, in := range ins {
		want, err := uncached.eval(ctx, in.normalised())
		if err != nil {
			t.Fatal(err)
		}
		if want {
			allows++
		}
		for i := range 2 { // miss, then hit
			got, err := cached.Allow(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("call %d: cached Allow(%+v) = %v, uncached %v", i, in, got, want)
			}
		}
		if got, err := uncached.Allow(ctx, in); err != nil || got != want {
			t.Fatalf("uncached Allow(%+v) = %v, %v; want %v", in, got, err, want)
		}
	}
	if n := cached.cache.len(); n != len(ins) {
		t.Errorf("cache holds %d decisions, want %d", n, len(ins))
	}
	if allows == 0 || allows == len(ins) {
		t.Errorf("%d of %d inputs allowed: the matrix does not exercise both outcomes", allows, len(ins))
	}
}

// normalised returns in with its principals prepared, as Allow does before evaluating.
func (in Input) normalised() Input {
	in.Principals = in.Principals.prepared()
	return in
}

func TestCacheKeyDistinguishesInputs(t *testing.T) {
	base := Input{Principals: NewPrincipals([]string{"a", "b"}), Action: "read", Resource: user("u1", "student", "17", "")}
	variants := []Input{
		{Principals: NewPrincipals([]string{"a,b"}), Action: "read", Resource: base.Resource},
		{Principals: NewPrincipals([]string{"a", "b", "c"}), Action: "read", Resource: base.Resource},
		{Principals: base.Principals, Action: "update", Resource: base.Resource},
		{Principals: base.Principals, Action: "read", Resource: Resource{Type: "school", ID: "u1", Attrs: base.Resource.Attrs}},
		{Principals: base.Principals, Action: "read", Resource: user("u2", "student", "17", "")},
		{Principals: base.Principals, Action: "read", Resource: user("u1", "educator", "17", "")},
		{Principals: base.Principals, Action: "read", Resource: user("u1", "student", "18", "")},
		{Principals: base.Principals, Action: "read", Resource: user("u1", "student", "17", "p1")},
		{Principals: base.Principals, Action: "read", Resource: Resource{Type: "user", ID: "u1", Attrs: map[string]string{"type": "student", "school_id": "17"}}},
		{Principals: base.Principals, Action: "read", Resource: Resource{Type: "user", ID: "u1", Attrs: map[string]string{"type": "17", "school_id": "student", "parent_id": ""}}},
		{Principals: base.Principals, Action: "rea", Resource: Resource{Type: "duser", ID: "u1", Attrs: base.Resource.Attrs}},
	}
	seen := map[string]int{cacheKey(base.normalised()): -1}
	for i, v := range variants {
		k := cacheKey(v.normalised())
		if j, dup := seen[k]; dup {
			t.Errorf("variant %d has the same cache key as %d: %q", i, j, k)
		}
		seen[k] = i
	}
	// Equal inputs built differently share a key.
	same := Input{Principals: NewPrincipals([]string{"b", "a", "a", "system:everyone"}), Action: "read",
		Resource: Resource{Type: "user", ID: "u1", Attrs: map[string]string{"parent_id": "", "school_id": "17", "type": "student"}}}
	if cacheKey(same.normalised()) != cacheKey(base.normalised()) {
		t.Error("equal inputs have different cache keys")
	}
}

func TestCacheBounded(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, 64)
	p := NewPrincipals(pAdmin)
	for i := range 1000 {
		if _, err := e.Allow(ctx, Input{Principals: p, Action: "read", Resource: school(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.cache.len(); n > 64 {
		t.Fatalf("cache holds %d decisions, bound is 64", n)
	}
	// The most recent decision is still cached; the oldest was evicted.
	if _, ok := e.cache.get(cacheKey(Input{Principals: p, Action: "read", Resource: school("999")})); !ok {
		t.Error("most recent decision evicted")
	}
	if _, ok := e.cache.get(cacheKey(Input{Principals: p, Action: "read", Resource: school("0")})); ok {
		t.Error("oldest decision still cached")
	}
}

func TestCacheLRU(t *testing.T) {
	c := newDecisionCache(cacheShards) // one entry per shard
	c.put("a", true)
	if got, ok := c.get("a"); !ok || !got {
		t.Fatalf("get(a) = %v, %v", got, ok)
	}
	c.put("a", false) // overwrite in place
	if got, ok := c.get("a"); !ok || got {
		t.Fatalf("get(a) after overwrite = %v, %v", got, ok)
	}
	if n := c.len(); n != 1 {
		t.Fatalf("len = %d, want 1", n)
	}
}

// boomSources are the production entrypoint plus resource modules that fail at evaluation.
func boomSources(t *testing.T) map[string]string {
	t.Helper()
	srcs, err := productionSources()
	if err != nil {
		t.Fatal(err)
	}
	srcs["boom.rego"] = `package huey.resource.boom

# Divides by the resource id: "0" is a division by zero.
decision := "allow" if {
	10 / to_number(input.resource.id) > 0
}
`
	srcs["badtype.rego"] = `package huey.resource.badtype

# Calls abs on a string attribute: a type error under strict builtin errors.
decision := "allow" if {
	abs(input.resource.attrs.n) > 0
}
`
	return srcs
}

func TestEvaluationErrorIsNeverAllow(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{0, defaultCacheSize} {
		e, err := newEngine(ctx, boomSources(t), size)
		if err != nil {
			t.Fatal(err)
		}
		admin := NewPrincipals(pAdmin)
		// The modules work on good input, so the errors below are the evaluation's.
		if ok, err := e.Allow(ctx, Input{Principals: admin, Action: "read", Resource: Resource{Type: "boom", ID: "5"}}); err != nil || !ok {
			t.Fatalf("boom id 5: Allow = %v, %v; want true, nil", ok, err)
		}
		if ok, err := e.Allow(ctx, Input{Principals: admin, Action: "read", Resource: Resource{Type: "badtype", Attrs: map[string]string{}}}); err != nil || ok {
			t.Fatalf("badtype without attr: Allow = %v, %v; want false, nil", ok, err)
		}
		bad := []Input{
			{Principals: admin, Action: "read", Resource: Resource{Type: "boom", ID: "0"}},
			{Principals: admin, Action: "read", Resource: Resource{Type: "boom", ID: "seventeen"}},
			{Principals: admin, Action: "read", Resource: Resource{Type: "badtype", Attrs: map[string]string{"n": "x"}}},
		}
		for _, in := range bad {
			for i := range 2 { // an error is never cached: the second call fails too
				ok, err := e.Allow(ctx, in)
				if err == nil {
					t.Errorf("cache %d, %+v, call %d: no error", size, in.Resource, i)
				}
				if ok {
					t.Errorf("cache %d, %+v, call %d: allowed on error", size, in.Resource, i)
				}
			}
		}
		if e.cache != nil {
			if n := e.cache.len(); n != 2 {
				t.Errorf("cache holds %d decisions, want 2 (errors are not cached)", n)
			}
		}
	}
}

func TestNetworkBuiltinsRefused(t *testing.T) {
	ctx := context.Background()
	bodies := map[string]string{
		"http.send":          `http.send({"method": "GET", "url": "http://example.com"}).status_code == 200`,
		"net.lookup_ip_addr": `count(net.lookup_ip_addr("example.com")) > 0`,
		"net.cidr_contains":  `net.cidr_contains("10.0.0.0/8", "10.1.2.3")`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			srcs, err := productionSources()
			if err != nil {
				t.Fatal(err)
			}
			srcs["net.rego"] = "package huey.resource.net\n\ndecision := \"allow\" if {\n\t" + body + "\n}\n"
			_, err = newEngine(ctx, srcs, 0)
			if err == nil {
				t.Fatal("compiled a policy that calls " + name)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error does not name %s: %v", name, err)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	ins := allInputs()
	reference := newTestEngine(t, 0)
	want := make([]bool, len(ins))
	for i, in := range ins {
		ok, err := reference.Allow(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = ok
	}
	for _, size := range []int{0, 256, defaultCacheSize} { // 256 forces evictions
		e := newTestEngine(t, size)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for j := range len(ins) {
					i := (j*7 + g*131) % len(ins)
					got, err := e.Allow(ctx, ins[i])
					if err != nil {
						t.Error(err)
						return
					}
					if got != want[i] {
						t.Errorf("cache %d: Allow(%+v) = %v, want %v", size, ins[i], got, want[i])
						return
					}
				}
			})
		}
		wg.Wait()
	}
}
