package codegen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vitc-dev/vitc/gen/arch"
)

var update = flag.Bool("update", false, "rewrite the generated packages under compiled/ instead of comparing")

// generateDirs are the directories whose generate.go lists architectures for vitcgen.
var generateDirs = []string{"../../compiled", "../../compiled/testarch"}

// specs reads the architectures and the -cmd directory (relative to dir, "" if none) from a
// directory's //go:generate line.
func specs(t *testing.T, dir string) (list []string, cmdDir string) {
	src, err := os.ReadFile(filepath.Join(dir, "generate.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "//go:generate "); ok {
			f := strings.Fields(rest)
			for i, w := range f {
				if w == "-cmd" && i+1 < len(f) {
					cmdDir = filepath.Join(dir, f[i+1])
				}
				if w == "-o" && i+2 < len(f) {
					return f[i+2:], cmdDir
				}
			}
		}
	}
	t.Fatalf("%s/generate.go has no //go:generate line with -o", dir)
	return nil, ""
}

// TestGoldenPackages is the golden-file test: every committed generated package, the tiny
// test architectures included, is exactly what the generator makes now. Run with -update
// (or go generate ./...) after changing the generator.
func TestGoldenPackages(t *testing.T) {
	for _, dir := range generateDirs {
		list, cmdDir := specs(t, dir)
		if *update {
			if err := WriteAll(dir, cmdDir, list); err != nil {
				t.Fatal(err)
			}
			continue
		}
		base, err := importPath(dir)
		if err != nil {
			t.Fatal(err)
		}
		var pkgs []string
		for _, s := range list {
			c, err := arch.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			pkgs = append(pkgs, c.Package())
			program := ""
			if cmdDir != "" {
				cmdBase, err := importPath(cmdDir)
				if err != nil {
					t.Fatal(err)
				}
				program = cmdBase + "/" + c.Package()
				main, err := ProgramFile(c, base+"/"+c.Package())
				if err != nil {
					t.Fatal(err)
				}
				compare(t, filepath.Join(cmdDir, c.Package(), "main.go"), main)
			}
			files, err := Generate(c, program)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range files {
				compare(t, filepath.Join(dir, c.Package(), name), want)
			}
		}
		sort.Strings(pkgs)
		all, err := AllFile(base, pkgs)
		if err != nil {
			t.Fatal(err)
		}
		compare(t, filepath.Join(dir, "all", "all.go"), all)
	}
}

func compare(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (run go generate ./...)", err)
		return
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Errorf("%s is stale at line %d:\n have %q\n want %q\nrun go generate ./...", path, i+1, gl[i], wl[i])
				return
			}
		}
		t.Errorf("%s is stale (%d lines, generator makes %d); run go generate ./...", path, len(gl), len(wl))
	}
}

// TestDeterministic: generating twice gives the same bytes.
func TestDeterministic(t *testing.T) {
	c, _ := arch.Parse("vith14@476")
	a, err := Generate(c, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(c, "")
	for n := range a {
		if !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs between two runs", n)
		}
	}
}

// TestFunctionSize keeps every generated function small enough for the Go compiler to be
// quick (STYLE.md: under ~1k statements).
func TestFunctionSize(t *testing.T) {
	c, _ := arch.Parse("vith14@476")
	files, _ := Generate(c, "")
	for name, src := range files {
		n := 0
		for _, line := range strings.Split(string(src), "\n") {
			switch {
			case strings.HasPrefix(line, "func "):
				n = 0
			case line == "}":
				if n > 1000 {
					t.Errorf("%s: a function of %d lines", name, n)
				}
			default:
				n++
			}
		}
	}
}

func TestIdent(t *testing.T) {
	for in, want := range map[string]string{
		"blocks.3.attn.qkv.weight": "b3AttnQkvWeight",
		"patch_embed.proj.bias":    "patchEmbedProjBias",
		"cls_token":                "clsToken",
		"norm.weight":              "normWeight",
	} {
		if got := ident(in); got != want {
			t.Errorf("ident(%q) = %q, want %q", in, got, want)
		}
	}
}
