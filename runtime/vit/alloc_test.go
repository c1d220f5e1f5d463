package vit_test

import (
	"path/filepath"
	"testing"

	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/runtime/npy"
	"github.com/vitc-dev/vitc/runtime/vit"
)

// TestForwardAllocatesOnlyTheResult: once a batch size has run, Logits, Embeddings and
// Forward allocate the slice they return and nothing else (runtime/engine's
// TestForwardAllocatesNothing covers the pass itself on several threads).
func TestForwardAllocatesOnlyTheResult(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop Runs")
	}
	const fixtures = "../../gen/testdata/fixtures"
	w := filepath.Join(t.TempDir(), "tiny.safetensors")
	if _, err := compile.File(filepath.Join(fixtures, "tiny_finetuned_zip_f32.pth"), w, compile.Options{Heads: 2, Name: "tiny"}); err != nil {
		t.Fatal(err)
	}
	m, err := vit.Open(w)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x, err := npy.ReadFile(filepath.Join(fixtures, "tiny_input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	batch := x.Shape[0]
	for _, c := range []struct {
		name string
		fn   func([]float32, int) ([]float32, error)
	}{{"Logits", m.Logits}, {"Embeddings", m.Embeddings}, {"Forward", m.Forward}} {
		if _, err := c.fn(x.Data, batch); err != nil {
			t.Fatal(err)
		}
		// AllocsPerRun runs on one thread; a sync.Pool keeps the Run in that P's slot.
		if n := testing.AllocsPerRun(20, func() { _, _ = c.fn(x.Data, batch) }); n != 1 {
			t.Errorf("%s allocates %.1f times a call after the first, want 1 (its result)", c.name, n)
		}
	}
}
