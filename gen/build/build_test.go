package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	for _, c := range []struct{ in, os, arch, err string }{
		{"linux/arm64", "linux", "arm64", ""},
		{"darwin/arm64", "darwin", "arm64", ""},
		{"linux", "", "", "GOOS/GOARCH"},
		{"linux/arm64/v8", "", "", "GOOS/GOARCH"},
		{"/amd64", "", "", "GOOS/GOARCH"},
	} {
		goos, goarch, err := Options{Target: c.in}.target()
		if goos != c.os || goarch != c.arch || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%q: %q %q %v", c.in, goos, goarch, err)
		}
	}
}

// TestFindSource: VITC_SRC wins and must be vitc's tree; else the module above the current
// directory (the tests run inside the repository).
func TestFindSource(t *testing.T) {
	t.Setenv("VITC_SRC", "")
	dir, err := FindSource("go")
	if err != nil || !isSource(dir) {
		t.Fatalf("from the repository: %q %v", dir, err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644)
	t.Setenv("VITC_SRC", other)
	if _, err := FindSource("go"); err == nil || !strings.Contains(err.Error(), "VITC_SRC="+other) {
		t.Errorf("VITC_SRC of another module: %v", err)
	}
	t.Setenv("VITC_SRC", dir)
	if got, err := FindSource("go"); got != dir || err != nil {
		t.Errorf("VITC_SRC=%s: %q %v", dir, got, err)
	}
	// A failing go build is reported with its output.
	err = Program(context.Background(), Module+"/cmd/nonexistent", filepath.Join(t.TempDir(), "x"), Options{Src: dir})
	if err == nil || !strings.Contains(err.Error(), "cmd/nonexistent") {
		t.Errorf("building a missing package: %v", err)
	}
	if err := Program(context.Background(), Module+"/cmd/vits14", "x", Options{Src: other}); err == nil || !strings.Contains(err.Error(), "not vitc's source tree") {
		t.Errorf("--src of another module: %v", err)
	}
}
