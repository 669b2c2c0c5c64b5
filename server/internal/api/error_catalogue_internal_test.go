package api

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The error catalogue (error_catalogue.go): every code is snake_case and
// names one detail, every detail has one code, and no handler answers a
// refusal with a message written in place.
func TestErrorCatalogue(t *testing.T) {
	t.Parallel()
	fset := gotoken.NewFileSet()
	f, err := parser.ParseFile(fset, "error_catalogue.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	codes, details := map[string]string{}, map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok || len(lit.Elts) != 2 {
			return true
		}
		if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "refusal" {
			return true
		}
		c, ok1 := lit.Elts[0].(*ast.BasicLit)
		d, ok2 := lit.Elts[1].(*ast.BasicLit)
		if !ok1 || !ok2 { // refusal.format builds one from fields
			return true
		}
		code, err1 := strconv.Unquote(c.Value)
		detail, err2 := strconv.Unquote(d.Value)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: entry not two string literals", fset.Position(lit.Pos()))
		}
		if !snake.MatchString(code) {
			t.Errorf("code %q is not snake_case", code)
		}
		if prev, dup := codes[code]; dup {
			t.Errorf("code %q names %q and %q", code, prev, detail)
		}
		if prev, dup := details[detail]; dup {
			t.Errorf("detail %q has codes %q and %q", detail, prev, code)
		}
		codes[code], details[detail] = detail, code
		return true
	})
	if len(codes) < 80 {
		t.Fatalf("%d entries parsed; the catalogue has more", len(codes))
	}
	// a message given to httpError in place, not from the catalogue
	inPlace := regexp.MustCompile(`httpError\(http\.\w+,\s*(fmt\.Sprintf\()?"`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if loc := inPlace.FindIndex(b); loc != nil {
			t.Errorf("%s: %s: a refusal's message belongs in error_catalogue.go", name, b[loc[0]:loc[1]])
		}
	}
}

// format fills a detail without touching its code; httpError answers the
// detail and logs the code.
func TestRefusalFormat(t *testing.T) {
	t.Parallel()
	e := httpError(404, msgSchoolNotFound.format("abc"))
	if e.Detail != "School with wriveted_id abc not found." || e.Code != "school_not_found" {
		t.Fatalf("got %q %q", e.Detail, e.Code)
	}
	if got := refusalCode(e, 404); got != "school_not_found" {
		t.Fatalf("refusalCode = %q", got)
	}
	if got := refusalCode(httpError(409, map[string]any{"msg": "x"}), 409); got != "http_409" {
		t.Fatalf("refusalCode of an uncatalogued body = %q", got)
	}
}
