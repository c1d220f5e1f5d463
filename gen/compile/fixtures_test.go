package compile

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	_ "github.com/vitc-dev/vitc/compiled/testarch/all"
	"github.com/vitc-dev/vitc/runtime/npy"
)

// fixtures is gen/testdata/fixtures: small checkpoints in the hub's layouts written by
// make_fixtures.py with our reference ViT, and PyTorch's outputs for them.
const fixtures = "../testdata/fixtures"

// Tolerance is the project's bar: max|vitc − torch| ≤ 2e-5 · max|torch|.
const Tolerance = 2e-5

type fixture struct {
	File   string `json:"file"`
	Config struct {
		Name    string `json:"name"`
		Embed   int    `json:"embed"`
		Depth   int    `json:"depth"`
		Heads   int    `json:"heads"`
		Image   int    `json:"image"`
		Classes int    `json:"classes"`
	} `json:"config"`
	Kind     string `json:"kind"`
	Format   string `json:"format"`
	DType    string `json:"dtype"`
	Bare     bool   `json:"bare"`
	Input    string `json:"input"`
	Expected string `json:"expected"`
	Resized  []struct {
		Image    int    `json:"image"`
		Input    string `json:"input"`
		Expected string `json:"expected"`
	} `json:"resized"`
}

func loadManifest(t testing.TB) []fixture {
	b, err := os.ReadFile(filepath.Join(fixtures, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fs []fixture
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("empty manifest")
	}
	return fs
}

// maxRelDiff returns max|got−want| / max|want|.
func maxRelDiff(t testing.TB, got, want []float32) (float64, float64) {
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	var diff, scale float64
	for i := range got {
		diff = max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	return diff, diff / scale
}

// TestFixturesMatchPyTorch compiles every fixture checkpoint (zip and legacy, float32,
// float16 and bfloat16, pretrained and finetuned, a bare state dict of views) and compares
// the outputs with PyTorch's.
func TestFixturesMatchPyTorch(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	for _, f := range loadManifest(t) {
		runs := []struct {
			name            string
			image           int
			input, expected string
		}{{f.Config.Name, 0, f.Input, f.Expected}}
		for _, r := range f.Resized {
			runs = append(runs, struct {
				name            string
				image           int
				input, expected string
			}{fmt.Sprintf("%s@%d", f.Config.Name, r.Image), r.Image, r.Input, r.Expected})
		}
		for _, r := range runs {
			t.Run(fmt.Sprintf("%s@%d", f.File, r.image), func(t *testing.T) {
				m, err := Load(context.Background(), filepath.Join(fixtures, f.File), Options{Heads: f.Config.Heads, Name: r.name, Image: r.image})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if m.Finetuned() != (f.Kind == "finetuned") || (m.Finetuned() && m.Classes() != f.Config.Classes) {
					t.Fatalf("%s: finetuned=%v classes=%d", m, m.Finetuned(), m.Classes())
				}
				x, err := npy.ReadFile(filepath.Join(fixtures, r.input))
				if err != nil {
					t.Fatal(err)
				}
				want, err := npy.ReadFile(filepath.Join(fixtures, r.expected))
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.Forward(x.Data, x.Shape[0])
				if err != nil {
					t.Fatal(err)
				}
				diff, rel := maxRelDiff(t, got, want.Data)
				if rel > Tolerance {
					t.Fatalf("max diff %.3g = %.3g × max|output|, over %g", diff, rel, Tolerance)
				}
				t.Logf("TENSOR OK %s %s %s bare=%v %s: maxdiff %.3g = %.3g × max|output|", f.Kind, f.Format, f.DType, f.Bare, r.name, diff, rel)
			})
		}
	}
}

// TestConcurrentUse: one Model serves many goroutines at once, with different batch sizes,
// and each gets exactly what it would get alone.
func TestConcurrentUse(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	m, err := Load(context.Background(), filepath.Join(fixtures, "odd_finetuned_zip_f32.pth"), Options{Heads: 3, Name: "odd"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x, err := npy.ReadFile(filepath.Join(fixtures, "odd_input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	per := len(x.Data) / x.Shape[0]
	alone := make([][]float32, 3) // image 0, image 1, both
	for i, in := range [][]float32{x.Data[:per], x.Data[per:], x.Data} {
		if alone[i], err = m.Forward(in, len(in)/per); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 24)
	for g := 0; g < 24; g++ {
		go func(g int) {
			i := g % 3
			in := [][]float32{x.Data[:per], x.Data[per:], x.Data}[i]
			for rep := 0; rep < 5; rep++ {
				got, err := m.Forward(in, len(in)/per)
				if err != nil {
					errs <- err
					return
				}
				for j := range got {
					if got[j] != alone[i][j] {
						errs <- fmt.Errorf("goroutine %d: output %d = %g, alone %g", g, j, got[j], alone[i][j])
						return
					}
				}
			}
			errs <- nil
		}(g)
	}
	for g := 0; g < 24; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAttentionSchedules runs a fixture with one, two and eight workers, so that attention
// takes both of its schedules (a task per image and head when there are at least twice as
// many heads as workers, else packing first and sharing out query blocks), at batch 1 and 2,
// and with GOMAXPROCS raised after the model's first pass (its buffers were made for fewer
// workers). Every output must match PyTorch's.
func TestAttentionSchedules(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	x, err := npy.ReadFile(filepath.Join(fixtures, "odd_input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := npy.ReadFile(filepath.Join(fixtures, "odd_finetuned_zip_f32.expected.npy"))
	if err != nil {
		t.Fatal(err)
	}
	per, classes := len(x.Data)/x.Shape[0], len(want.Data)/want.Shape[0]
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range [][2]int{{1, 1}, {2, 2}, {8, 8}, {1, 8}} {
		runtime.GOMAXPROCS(procs[0])
		m, err := Load(context.Background(), filepath.Join(fixtures, "odd_finetuned_zip_f32.pth"), Options{Heads: 3, Name: "odd"})
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 2} {
			if _, err := m.Forward(x.Data[:batch*per], batch); err != nil { // the Runs for this batch
				t.Fatal(err)
			}
			runtime.GOMAXPROCS(procs[1])
			got, err := m.Forward(x.Data[:batch*per], batch)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GOMAXPROCS(procs[0])
			diff, rel := maxRelDiff(t, got, want.Data[:batch*classes])
			if rel > Tolerance {
				t.Fatalf("GOMAXPROCS %d then %d, batch %d: max diff %.3g = %.3g × max|output|", procs[0], procs[1], batch, diff, rel)
			}
			t.Logf("GOMAXPROCS %d then %d, batch %d: maxdiff %.3g = %.3g × max|output|", procs[0], procs[1], batch, diff, rel)
		}
		m.Close()
	}
}
