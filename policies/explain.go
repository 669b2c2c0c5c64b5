package policies

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// An Entry is one entry of a resource's ordered ACL: one branch of the `decision := … else := …`
// chain of package huey.resource.<type>, named by the comment that opens it ("# 3. Allow
// schooladmin:{id} All.").
type Entry struct {
	Package string `json:"package"`           // "huey.resource.school"
	File    string `json:"file"`              // "school.rego"
	Line    int    `json:"line"`              // the line of the branch's head in File
	N       string `json:"n"`                 // the entry's number as its comment writes it ("3", "2b"); "default" for the final else; "none" when the type has no ACL
	Effect  string `json:"effect"`            // "allow" or "deny"
	Comment string `json:"comment,omitempty"` // the entry's comment, its lines joined by a space, without "# "
}

// String names e for logs and tables: "school.rego#3 allow".
func (e Entry) String() string {
	if e.File == "" {
		return e.N + " " + e.Effect
	}
	return e.File + "#" + e.N + " " + e.Effect
}

// A Decision is an answer with the ACL entry that gave it.
type Decision struct {
	Allowed bool  `json:"allowed"`
	Entry   Entry `json:"entry"`
}

// noACL is the entry of a resource type that has no package: authz.rego's default deny.
var noACL = Entry{Package: "huey.authz", File: "authz.rego", N: "none", Effect: "deny",
	Comment: "no ACL for this resource type: authz.rego's default deny"}

// explainer answers which entry of a resource's chain matches. It evaluates, in the resource's own
// package, a rule `entry` generated from the production chain `decision`: the same bodies in the
// same order, each yielding its index. So the entry cannot disagree with the decision (Explain
// checks it anyway), and the policies carry no second, hand-written copy of their entries.
type explainer struct {
	pq       rego.PreparedEvalQuery
	entries  map[string][]Entry // by resource type, in chain order
	problems []error            // chains not written as the convention says (TestEntries: none in production)
}

// The heads of a decision chain, as every production file writes them (TestEntries checks that
// each branch of each chain was found).
var (
	chainHead = regexp.MustCompile(`^(decision|\} else) := "(allow|deny)"`)
	entryNum  = regexp.MustCompile(`^(\d+[a-z]?)\.\s`)
)

// explainQuery is the question an explanation asks: the index of the matching entry.
const explainQuery = "data.huey.resource[input.resource.type].entry"

// newExplainer derives the entries of every decision chain in srcs and compiles their `entry` rules.
func newExplainer(ctx context.Context, srcs map[string]string) (*explainer, error) {
	mods, err := parseModules(srcs)
	if err != nil {
		return nil, err
	}
	x := &explainer{entries: map[string][]Entry{}}
	generated := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(mods)) {
		m := mods[name]
		typ, ok := resourceType(m)
		if !ok {
			continue
		}
		entries, src, err := chainEntries(name, srcs[name], m)
		if err != nil {
			// still decided by Allow; Explain names no entry for it
			x.problems = append(x.problems, err)
			continue
		}
		if entries == nil {
			continue
		}
		x.entries[typ] = entries
		generated["explain_"+name] = src
	}
	all := maps.Clone(srcs)
	maps.Copy(all, generated)
	allMods, err := parseModules(all)
	if err != nil {
		return nil, fmt.Errorf("policies: generated entry rules: %w", err)
	}
	x.pq, err = prepare(ctx, explainQuery, allMods)
	if err != nil {
		return nil, fmt.Errorf("policies: compiling entry rules: %w", err)
	}
	return x, nil
}

// resourceType returns <type> of a module in package huey.resource.<type>.
func resourceType(m *ast.Module) (string, bool) {
	p := m.Package.Path.String() // data.huey.resource.school
	const prefix = "data.huey.resource."
	if !strings.HasPrefix(p, prefix) {
		return "", false
	}
	return strings.TrimPrefix(p, prefix), true
}

// chainEntries reads the decision chain of module m (file name, source src): its entries, and the
// source of a module in the same package whose rule `entry` has the same bodies, each yielding
// its index. A module without a decision chain yields nil.
func chainEntries(name, src string, m *ast.Module) ([]Entry, string, error) {
	var chain *ast.Rule
	for _, r := range m.Rules {
		if r.Head.Name.String() == "decision" || r.Head.Ref().String() == "decision" {
			if chain != nil {
				return nil, "", fmt.Errorf("policies: %s: more than one decision rule", name)
			}
			chain = r
		}
	}
	if chain == nil {
		return nil, "", nil
	}
	lines := strings.Split(src, "\n")
	pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
	var entries []Entry
	var rows []int
	for r := chain; r != nil; r = r.Else {
		rows = append(rows, r.Location.Row)
	}
	for i, r := 0, chain; r != nil; i, r = i+1, r.Else {
		effect, ok := r.Head.Value.Value.(ast.String)
		if !ok {
			return nil, "", fmt.Errorf("policies: %s:%d: a decision is not a string", name, r.Location.Row)
		}
		e := Entry{Package: pkg, File: name, Line: r.Location.Row, Effect: string(effect)}
		end := len(lines) + 1
		if i+1 < len(rows) {
			end = rows[i+1]
		}
		var text []string
		for _, c := range m.Comments {
			// the comment block that opens the branch's body, on the lines after its head
			if c.Location.Row == r.Location.Row+1+len(text) && c.Location.Row < end {
				text = append(text, strings.TrimSpace(string(c.Text)))
			}
		}
		e.Comment = strings.Join(text, " ")
		switch {
		case r.Else == nil:
			if len(r.Body) != 1 || r.Body[0].String() != "true" {
				return nil, "", fmt.Errorf("policies: %s:%d: a decision chain must end with a bare `else := \"deny\"`", name, r.Location.Row)
			}
			e.N = "default"
			if e.Comment == "" {
				e.Comment = "no entry matched: " + string(effect)
			}
		default:
			mm := entryNum.FindStringSubmatch(e.Comment)
			if mm == nil {
				return nil, "", fmt.Errorf("policies: %s:%d: the entry's comment does not start with its number (\"# 3. Allow …\"): %q", name, r.Location.Row, e.Comment)
			}
			e.N = mm[1]
		}
		entries = append(entries, e)
		// rewrite the head of this branch to yield the index instead of the effect
		ln := lines[r.Location.Row-1]
		loc := chainHead.FindStringSubmatchIndex(ln)
		if loc == nil {
			return nil, "", fmt.Errorf("policies: %s:%d: unexpected head of a decision branch: %q", name, r.Location.Row, ln)
		}
		lead := "entry"
		if ln[loc[2]:loc[3]] != "decision" {
			lead = "} else"
		}
		lines[r.Location.Row-1] = lead + " := " + strconv.Itoa(i) + ln[loc[1]:]
	}
	first, last := rows[0], rows[len(rows)-1]
	var b strings.Builder
	b.WriteString("package " + pkg + "\n\n")
	// keep line numbers of the original file, for errors that name them
	b.WriteString(strings.Repeat("\n", max(0, first-3)))
	b.WriteString(strings.Join(lines[first-1:last], "\n"))
	b.WriteString("\n")
	return entries, b.String(), nil
}

// Entries returns every resource type's ACL entries, in chain order.
func (e *Engine) Entries() map[string][]Entry {
	out := make(map[string][]Entry, len(e.explain.entries))
	for k, v := range e.explain.entries {
		out[k] = slices.Clone(v)
	}
	return out
}

// Explain decides in as Allow does, and names the ACL entry that decided. It is not cached and costs
// about two evaluations: the server calls it for refusals and for support's questions, never for
// every allowed request.
func (e *Engine) Explain(ctx context.Context, in Input) (Decision, error) {
	allowed, err := e.Allow(ctx, in)
	if err != nil {
		return Decision{}, err
	}
	in.Principals = in.Principals.prepared()
	rs, err := e.explain.pq.Eval(ctx, rego.EvalParsedInput(inputValue(in)))
	if err != nil {
		return Decision{}, fmt.Errorf("policies: explaining %q on %s %q: %w", in.Action, in.Resource.Type, in.Resource.ID, err)
	}
	entries, named := e.explain.entries[in.Resource.Type]
	d := Decision{Allowed: allowed, Entry: noACL}
	if !named && allowed {
		d.Entry = Entry{Package: "huey.resource." + in.Resource.Type, N: "unnamed", Effect: "allow",
			Comment: "this ACL does not name its entries"}
		return d, nil
	}
	if len(rs) == 1 && len(rs[0].Expressions) == 1 {
		n, err := strconv.Atoi(fmt.Sprint(rs[0].Expressions[0].Value))
		if err != nil || n < 0 || n >= len(entries) {
			return Decision{}, fmt.Errorf("%w: entry %v of %s", ErrUnexpectedResult, rs[0].Expressions[0].Value, in.Resource.Type)
		}
		d.Entry = entries[n]
	} else if len(rs) != 0 {
		return Decision{}, fmt.Errorf("%w: %d entry results", ErrUnexpectedResult, len(rs))
	}
	if (d.Entry.Effect == "allow") != allowed {
		return Decision{}, fmt.Errorf("%w: entry %s disagrees with the decision %v", ErrUnexpectedResult, d.Entry, allowed)
	}
	return d, nil
}
