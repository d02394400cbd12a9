package hookd_test

import (
	"go/build"
	"testing"
)

// TestImportsOnlyStandardLibrary holds the root package to what its doc
// comment promises: the domain depends on the standard library alone, so
// that every other package can import it and it imports none of theirs.
func TestImportsOnlyStandardLibrary(t *testing.T) {
	t.Parallel()
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatalf("read the root package: %v", err)
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("the root package lists no imports; the test reads the wrong directory")
	}
	for _, path := range pkg.Imports {
		dep, err := build.Import(path, pkg.Dir, build.FindOnly)
		if err != nil {
			t.Errorf("find %s: %v", path, err)
			continue
		}
		if !dep.Goroot {
			t.Errorf("the root package imports %s, which is not in the standard library", path)
		}
	}
}
