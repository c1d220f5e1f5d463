package vit_test

import "testing"

// TestForwardAllocatesOnlyTheResult: once a batch size has run, Logits, Embeddings and
// Forward allocate the slice they return and nothing else (runtime/engine's
// TestForwardAllocatesNothing covers the pass itself on several threads).
func TestForwardAllocatesOnlyTheResult(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop Runs")
	}
	m, x := openTiny(t)
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
