package hookd_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// clocked are the packages (and those below them) that read the time only
// through the clock they are given (a Config's Now), so that a test can
// set it and every part of one process agrees on it.
var clocked = []string{"store", "deliver", "service", "receive"}

// unclocked are the files (or, ending in /, directories) of those
// packages allowed to read the wall clock, and why.
var unclocked = map[string]string{
	// How long a migration took, for the progress log: an elapsed time,
	// not a time any row or decision depends on.
	"store/internal/migration/migration.go": "elapsed time of a migration",
	// The conformance suite is a test: its fixtures and deadlines are
	// its own, and it gives each store under test its clock.
	"store/storetest/": "the conformance suite",
}

// TestClockIsInjected fails when a clocked package calls time.Now,
// time.Since or time.Until outside its files' allowances. Passing time.Now
// as a value (the default of a Config's Now) is the clock's definition
// and is allowed.
func TestClockIsInjected(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	for _, root := range clocked {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			if allowed(filepath.ToSlash(path)) {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			// The local name of package time in this file, if imported.
			name := ""
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "time" {
					name = "time"
					if imp.Name != nil {
						name = imp.Name.Name
					}
				}
			}
			if name == "" {
				return nil
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == name {
					switch sel.Sel.Name {
					case "Now", "Since", "Until":
						t.Errorf("%s: time.%s reads the wall clock; use the injected clock (Config.Now)", fset.Position(call.Pos()), sel.Sel.Name)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// allowed reports whether path is in unclocked.
func allowed(path string) bool {
	for p := range unclocked {
		if path == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(path, p)) {
			return true
		}
	}
	return false
}
