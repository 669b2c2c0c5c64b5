// Package policies decides whether a caller's principals may perform an action on a resource.
//
// The rules are Rego (OPA) policies embedded in the binary: authz.rego is the single entrypoint
// (default deny, dispatch on the resource type) and each resource has its own ordered ACL file
// beside its _test.rego. This package is the only Go in the module that knows Rego exists, and it
// imports nothing else from this module. See README.md for a reviewer's overview.
//
// An Engine compiles the policies once ([New]) and answers [Engine.Allow]. Row visibility is not
// decided here: Postgres row-level security decides which rows a caller sees.
package policies

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// query is the one question every decision asks.
const query = "data.huey.authz.allow"

// everyone is the principal every request holds (spec/access.md §4).
const everyone = "system:everyone"

// defaultCacheSize bounds the decision cache of an Engine made by New.
const defaultCacheSize = 10_000

//go:embed *.rego
var files embed.FS

// ErrUnexpectedResult reports a policy result that is not a single boolean; it is never an allow.
var ErrUnexpectedResult = errors.New("policies: unexpected policy result")

// Principals is a caller's principal set, prepared once per account (sorted, deduplicated,
// converted to the Rego input form) so each decision only adds the action and resource.
//
// The set always holds system:everyone, which every request holds by definition, so an ACL entry
// that denies everyone cannot be skipped by a set that forgot it. The zero value is the set
// {system:everyone}. A Principals is immutable and safe for concurrent use.
type Principals struct {
	list []string   // sorted, deduplicated
	key  string     // unambiguous encoding of list, for the decision cache
	obj  ast.Object // {"<principal>": true, ...}, shared read-only by every evaluation
}

// NewPrincipals prepares ps (in any order, duplicates allowed) for decisions.
func NewPrincipals(ps []string) Principals {
	list := make([]string, 0, len(ps)+1)
	list = append(list, ps...)
	list = append(list, everyone)
	slices.Sort(list)
	list = slices.Compact(list)

	var b strings.Builder
	obj := ast.NewObjectWithCapacity(len(list))
	for _, p := range list {
		writeField(&b, p)
		obj.Insert(ast.StringTerm(p), ast.InternedBooleanTrue)
	}
	return Principals{list: list, key: b.String(), obj: obj}
}

// List returns the principals, sorted. The caller may modify the returned slice.
func (p Principals) List() []string {
	if p.list == nil {
		return []string{everyone}
	}
	return slices.Clone(p.list)
}

// Has reports whether s is in the set.
func (p Principals) Has(s string) bool {
	if p.list == nil {
		return s == everyone
	}
	_, found := slices.BinarySearch(p.list, s)
	return found
}

// prepared returns p, or the prepared empty set for the zero value.
func (p Principals) prepared() Principals {
	if p.obj == nil {
		return NewPrincipals(nil)
	}
	return p
}

// Resource is what an action is performed on.
type Resource struct {
	Type  string            // one instance: "school", "user", "class"; route-level: "schools", "users", "classes", "service_accounts"
	ID    string            // the instance id as a string: a school's integer id ("17"), a user's or class's uuid; "" for route-level types
	Attrs map[string]string // extra attributes; for "user": "type" (educator|school_admin|student|public|parent|wriveted|supporter), "school_id" (integer school id or ""), "parent_id" (uuid or ""); for "class": "school_id"
}

// Input is one decision's question, and the schema of the Rego input document (documented atop
// authz.rego):
//
//	{"principals": {"<principal>": true, ...}, "action": "read",
//	 "resource": {"type": "school", "id": "17", "attrs": {...}}}
type Input struct {
	Principals Principals // the caller's principals
	Action     string     // a permission name: read, update, delete, details, create, batch, bind, read-collection, change-privileged, magic-link
	Resource   Resource   // what the action is performed on
}

// Engine answers policy decisions. It is compiled once and safe for concurrent use.
type Engine struct {
	pq      rego.PreparedEvalQuery
	cache   *decisionCache // nil: every decision is evaluated
	explain *explainer     // which entry decided (Explain); never on Allow's path
}

// New compiles the embedded policies (without their tests) once, for the life of the process.
func New(ctx context.Context) (*Engine, error) {
	srcs, err := productionSources()
	if err != nil {
		return nil, err
	}
	return newEngine(ctx, srcs, defaultCacheSize)
}

// productionSources returns the embedded policies, *_test.rego excluded, by file name.
func productionSources() (map[string]string, error) {
	return embeddedSources(false)
}

// embeddedSources returns the embedded .rego files by name, with the tests when withTests is set.
func embeddedSources(withTests bool) (map[string]string, error) {
	names, err := fs.Glob(files, "*.rego")
	if err != nil {
		return nil, fmt.Errorf("policies: listing embedded policies: %w", err)
	}
	srcs := make(map[string]string, len(names))
	for _, name := range names {
		if !withTests && strings.HasSuffix(name, "_test.rego") {
			continue
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("policies: reading %s: %w", name, err)
		}
		srcs[name] = string(b)
	}
	return srcs, nil
}

// parseModules parses Rego v1 sources by file name.
func parseModules(srcs map[string]string) (map[string]*ast.Module, error) {
	mods := make(map[string]*ast.Module, len(srcs))
	for name, src := range srcs {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("policies: parsing %s: %w", name, err)
		}
		mods[name] = m
	}
	return mods, nil
}

// capabilities are this OPA's, minus http.send and every net.* builtin: a policy that reaches
// for the network does not compile. AllowNet is empty, so no host may be contacted either.
func capabilities() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.Builtins = slices.DeleteFunc(c.Builtins, func(b *ast.Builtin) bool {
		return b.Name == "http.send" || strings.HasPrefix(b.Name, "net.")
	})
	c.AllowNet = []string{}
	return c
}

// prepare compiles query over mods: no data, strict built-in errors, the
// pinned capabilities, modules in name order.
func prepare(ctx context.Context, q string, mods map[string]*ast.Module) (rego.PreparedEvalQuery, error) {
	opts := []func(*rego.Rego){
		rego.Query(q),
		rego.Store(inmem.NewFromObject(map[string]any{})),
		rego.StrictBuiltinErrors(true),
		rego.Capabilities(capabilities()),
	}
	for _, name := range slices.Sorted(maps.Keys(mods)) {
		opts = append(opts, rego.ParsedModule(mods[name]))
	}
	return rego.New(opts...).PrepareForEval(ctx)
}

// newEngine compiles srcs (Rego v1, by file name) into an Engine whose decision cache holds up to
// cacheSize entries; cacheSize <= 0 disables the cache.
func newEngine(ctx context.Context, srcs map[string]string, cacheSize int) (*Engine, error) {
	mods, err := parseModules(srcs)
	if err != nil {
		return nil, err
	}
	pq, err := prepare(ctx, query, mods)
	if err != nil {
		return nil, fmt.Errorf("policies: compiling: %w", err)
	}
	x, err := newExplainer(ctx, srcs)
	if err != nil {
		return nil, err
	}
	e := &Engine{pq: pq, explain: x}
	if cacheSize > 0 {
		e.cache = newDecisionCache(cacheSize)
	}
	return e, nil
}

// Allow reports whether in.Principals may perform in.Action on in.Resource. An evaluation
// error is returned as an error with false, never as an allow.
func (e *Engine) Allow(ctx context.Context, in Input) (bool, error) {
	in.Principals = in.Principals.prepared()
	var key string
	if e.cache != nil {
		key = cacheKey(in)
		if allowed, ok := e.cache.get(key); ok {
			return allowed, nil
		}
	}
	allowed, err := e.eval(ctx, in)
	if err != nil {
		return false, err
	}
	if e.cache != nil {
		e.cache.put(key, allowed)
	}
	return allowed, nil
}

// eval runs the prepared query on in, bypassing the cache.
func (e *Engine) eval(ctx context.Context, in Input) (bool, error) {
	rs, err := e.pq.Eval(ctx, rego.EvalParsedInput(inputValue(in)))
	if err != nil {
		return false, fmt.Errorf("policies: evaluating %q on %s %q: %w", in.Action, in.Resource.Type, in.Resource.ID, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return false, fmt.Errorf("%w: %d results", ErrUnexpectedResult, len(rs))
	}
	allowed, ok := rs[0].Expressions[0].Value.(bool)
	if !ok {
		return false, fmt.Errorf("%w: %T", ErrUnexpectedResult, rs[0].Expressions[0].Value)
	}
	return allowed, nil
}

// Interned keys of the input document.
var (
	keyPrincipals = ast.InternedTerm("principals")
	keyAction     = ast.InternedTerm("action")
	keyResource   = ast.InternedTerm("resource")
	keyType       = ast.InternedTerm("type")
	keyID         = ast.InternedTerm("id")
	keyAttrs      = ast.InternedTerm("attrs")
)

// inputValue builds the Rego input document of in; in.Principals must be prepared.
func inputValue(in Input) ast.Value {
	attrs := ast.InternedEmptyObject
	if len(in.Resource.Attrs) > 0 {
		o := ast.NewObjectWithCapacity(len(in.Resource.Attrs))
		for k, v := range in.Resource.Attrs {
			o.Insert(ast.InternedTerm(k), ast.InternedTerm(v))
		}
		attrs = ast.NewTerm(o)
	}
	resource := ast.NewObject(
		[2]*ast.Term{keyType, ast.InternedTerm(in.Resource.Type)},
		[2]*ast.Term{keyID, ast.InternedTerm(in.Resource.ID)},
		[2]*ast.Term{keyAttrs, attrs},
	)
	return ast.NewObject(
		[2]*ast.Term{keyPrincipals, ast.NewTerm(in.Principals.obj)},
		[2]*ast.Term{keyAction, ast.InternedTerm(in.Action)},
		[2]*ast.Term{keyResource, ast.NewTerm(resource)},
	)
}

// cacheKey encodes everything a decision depends on (principal set, action, resource type, id
// and attributes) unambiguously: every field is length-prefixed and attributes are sorted.
func cacheKey(in Input) string {
	var b strings.Builder
	b.Grow(len(in.Principals.key) + len(in.Action) + len(in.Resource.Type) + len(in.Resource.ID) + 32*(len(in.Resource.Attrs)+1))
	b.WriteString(in.Principals.key)
	b.WriteByte('|')
	writeField(&b, in.Action)
	writeField(&b, in.Resource.Type)
	writeField(&b, in.Resource.ID)
	switch len(in.Resource.Attrs) {
	case 0:
	case 1:
		for k, v := range in.Resource.Attrs {
			writeField(&b, k)
			writeField(&b, v)
		}
	default:
		keys := make([]string, 0, len(in.Resource.Attrs))
		for k := range in.Resource.Attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			writeField(&b, k)
			writeField(&b, in.Resource.Attrs[k])
		}
	}
	return b.String()
}

// writeField appends s to b as "<len>:<s>".
func writeField(b *strings.Builder, s string) {
	var n [20]byte
	b.Write(strconv.AppendInt(n[:0], int64(len(s)), 10))
	b.WriteByte(':')
	b.WriteString(s)
}
