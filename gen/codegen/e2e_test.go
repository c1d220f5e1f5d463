package codegen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitc-dev/vitc/gen/arch"
)

// e2eMain is a program that links one freshly generated package, compiles a fixture
// checkpoint for it, runs it and compares with PyTorch's output.
const e2eMain = `package main

import (
	"context"
	"fmt"
	"math"
	"os"

	_ "IMPORT"
	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/runtime/npy"
)

func main() {
	m, err := compile.Load(context.Background(), os.Args[1], compile.Options{Heads: HEADS, Name: "NAME"})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	x, err := npy.ReadFile(os.Args[2])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	want, err := npy.ReadFile(os.Args[3])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	got, err := m.Forward(x.Data, x.Shape[0])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var diff, scale float64
	for i := range got {
		diff = math.Max(diff, math.Abs(float64(got[i]-want.Data[i])))
		scale = math.Max(scale, math.Abs(float64(want.Data[i])))
	}
	fmt.Printf("maxdiff %.3g = %.3g x max|output|\n", diff, diff/scale)
	if len(got) != len(want.Data) || diff > 2e-5*scale {
		os.Exit(1)
	}
}
`

// TestEndToEnd generates a package from scratch, builds a program with it and runs it on a
// fixture checkpoint.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	// Inside the module, so that the program can import the engine; testdata keeps it out of ./...
	if err := os.MkdirAll("testdata", 0o777); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "e2e-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := arch.Parse("name=tiny,embed=32,depth=2,heads=2,image=42")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(c, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFiles(filepath.Join(dir, c.Package()), files); err != nil {
		t.Fatal(err)
	}
	base, err := importPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer("IMPORT", base+"/"+c.Package(), "HEADS", "2", "NAME", c.Name).Replace(e2eMain)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o666); err != nil {
		t.Fatal(err)
	}
	fx, _ := filepath.Abs("../testdata/fixtures")
	cmd := exec.Command("go", "run", "./"+filepath.ToSlash(dir),
		filepath.Join(fx, "tiny_finetuned_zip_f32.pth"), filepath.Join(fx, "tiny_input.npy"), filepath.Join(fx, "tiny_finetuned_zip_f32.expected.npy"))
	cmd.Env = append(os.Environ(), "VITC_CACHE="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("generated program failed: %v", err)
	}
}
