package queries

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The generated code must match the query files. `make sqlc-check` proves it
// with sqlc itself (a cgo build of several minutes); this test is the cheap
// guard that runs with every `go test`: each named query in a .sql file has
// a constant of the same name in the generated .sql.go with the same SQL,
// up to sqlc's renumbering of parameters, comments and white space.
func TestGeneratedMatchesQueryFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no query files: %v", err)
	}
	got := generatedConstants(t)
	want := map[string]string{}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		named := namedQueries(string(src))
		if len(named) == 0 {
			t.Errorf("%s: no named query", file)
		}
		for name, sql := range named {
			want[name] = sql
			g, ok := got[name]
			switch {
			case !ok:
				t.Errorf("%s: %s has no generated constant: run make sqlc", file, name)
			case normalise(g) != normalise(sql):
				t.Errorf("%s: %s differs from its generated constant: run make sqlc\nfile: %s\ngenerated: %s",
					file, name, normalise(sql), normalise(g))
			}
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("generated constant %s has no query in a .sql file: run make sqlc", name)
		}
	}
}

var nameLine = regexp.MustCompile(`(?m)^-- name: (\w+) :\w+\s*$`)

// namedQueries splits a query file at its "-- name:" lines.
func namedQueries(src string) map[string]string {
	out := map[string]string{}
	locs := nameLine.FindAllStringSubmatchIndex(src, -1)
	for i, l := range locs {
		end := len(src)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		out[src[l[2]:l[3]]] = src[l[1]:end]
	}
	return out
}

// generatedConstants reads the string constants of the generated files
// that hold a named query.
func generatedConstants(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, path := range paths {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if ast.IsGenerated(f) {
			addConstants(out, f)
		}
	}
	return out
}

func addConstants(out map[string]string, f *ast.File) {
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.HasPrefix(s, "-- name: ") {
				continue
			}
			out[vs.Names[0].Name] = nameLine.ReplaceAllString(s, "")
		}
	}
}

var (
	comment = regexp.MustCompile(`(?m)--.*$`)
	param   = regexp.MustCompile(`sqlc\.n?arg\(\w+\)|@\w+|\$\d+`)
	space   = regexp.MustCompile(`\s+`)
)

func normalise(sql string) string {
	sql = comment.ReplaceAllString(sql, "")
	sql = param.ReplaceAllString(sql, "$")
	sql = space.ReplaceAllString(sql, " ")
	return strings.TrimSuffix(strings.TrimSpace(sql), ";")
}
