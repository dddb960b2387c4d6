package lint

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// maxFuncLines is the project's limit on a function's length, counted from
// the line of `func` to the line of its closing brace (the figure issue 15
// quotes: "report.WriteMarkdown 228").
const maxFuncLines = 100

// longFuncs lists every function or method (and function literal) in the Go
// files under root that spans more than limit lines, as "file:line name N".
// Directories named testdata or starting with "." are skipped, as the go
// tool does.
func longFuncs(root string, limit int) ([]string, error) {
	var long []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parsing %s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		long = append(long, longIn(fset, f, rel, limit)...)
		return nil
	})
	sort.Strings(long)
	return long, err
}

// longIn returns the functions of one parsed file longer than limit lines.
func longIn(fset *token.FileSet, f *ast.File, rel string, limit int) []string {
	var long []string
	ast.Inspect(f, func(n ast.Node) bool {
		var name string
		var body *ast.BlockStmt
		switch fn := n.(type) {
		case *ast.FuncDecl:
			name, body = funcName(fn), fn.Body
		case *ast.FuncLit:
			name, body = "func literal", fn.Body
		default:
			return true
		}
		if body == nil {
			return true
		}
		start := fset.Position(n.Pos()).Line
		lines := fset.Position(body.Rbrace).Line - start + 1
		if lines > limit {
			long = append(long, fmt.Sprintf("%s:%d %s %d lines", rel, start, name, lines))
		}
		return true
	})
	return long
}

// funcName is "Recv.Name" for a method, "Name" for a function.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok { // generic receiver T[K]
		t = ix.X
	}
	if ix, ok := t.(*ast.IndexListExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// TestNoLongFunctions keeps every function in the module, tests included,
// at most maxFuncLines long (issue 15, item 6).
func TestNoLongFunctions(t *testing.T) {
	long, err := longFuncs("../..", maxFuncLines)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range long {
		t.Errorf("over %d lines: %s", maxFuncLines, l)
	}
}

// TestLongFuncsFindsLongFunction checks the checker itself: a generated
// function one line over the limit is reported, one at the limit is not.
func TestLongFuncsFindsLongFunction(t *testing.T) {
	cases := []struct {
		name      string
		bodyLines int // lines between the braces
		want      int // functions reported
	}{
		{"at the limit", maxFuncLines - 2, 0},
		{"one over", maxFuncLines - 1, 1},
		{"far over", 3 * maxFuncLines, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "package p\n\nfunc (s *S) F() {\n" + strings.Repeat("\t_ = 1\n", c.bodyLines) + "}\n"
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "p.go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := longIn(fset, f, "p.go", maxFuncLines)
			if len(got) != c.want {
				t.Fatalf("reported %v, want %d", got, c.want)
			}
			if c.want == 1 && !strings.Contains(got[0], "S.F") {
				t.Errorf("report %q does not name S.F", got[0])
			}
		})
	}
}
