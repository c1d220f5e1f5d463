package engine_test

import (
	"math/rand/v2"
	"runtime"
	"testing"

	_ "github.com/vitc-dev/vitc/compiled/testarch/all"
	"github.com/vitc-dev/vitc/runtime/engine"
)

// TestForwardAllocatesNothing: after its first passes, a Run's forward pass allocates
// nothing, both where attention gives each core whole heads (batch 3) and where it shares out
// query blocks (batch 1), counting the helpers' allocations too.
//
// On one thread that is exact. On several, a helper that parks on the job queue may cost the Go
// runtime an allocation of its own (a sudog, 112 bytes, when its caches run dry): 0.1 a pass
// was seen with these tiny models, whose helpers mostly wait, and 0.5 with other tests running
// beside. So two a pass are allowed there: a closure made per parallel step, or a job or
// buffer per product, costs seven or more a pass (tiny has two blocks), and fails the test; on
// one thread any allocation does.
func TestForwardAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, name := range []string{"tiny", "odd"} {
		r := rand.New(rand.NewPCG(3, 4))
		a, w := randomWeights(t, name, r)
		for _, procs := range []int{1, 2, 4} {
			runtime.GOMAXPROCS(procs)
			for _, batch := range []int{1, 3} {
				run := randomRun(a, w, batch, r)
				// The first passes start the helpers, plan the products, and fill the free
				// lists of jobs and tail buffers (and the Go runtime's own caches).
				for range 5 {
					run.Forward()
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				const passes = 100
				for range passes {
					run.Forward()
				}
				runtime.ReadMemStats(&after)
				allowed := uint64(0)
				if procs > 1 {
					allowed = 2 * passes
				}
				if n := after.Mallocs - before.Mallocs; n > allowed {
					t.Errorf("%s, batch %d, GOMAXPROCS %d: %d allocations in %d passes (%d bytes), want at most %d",
						name, batch, procs, n, passes, after.TotalAlloc-before.TotalAlloc, allowed)
				}
			}
		}
	}
}

// randomWeights returns the registered architecture name and float32 weights for it drawn
// from r.
func randomWeights(t *testing.T, name string, r *rand.Rand) (*engine.Arch, *engine.Weights) {
	t.Helper()
	a, ok := engine.Lookup(name)
	if !ok {
		t.Fatalf("architecture %s is not registered", name)
	}
	size := int64(0)
	for _, ts := range a.Tensors {
		size = max(size, ts.End)
	}
	w := make([]float32, size/4)
	for i := range w {
		w[i] = float32(r.NormFloat64()) * 0.1
	}
	return a, engine.F32Weights(w)
}

// randomRun is a Run of a over w with a batch of images drawn from r.
func randomRun(a *engine.Arch, w *engine.Weights, batch int, r *rand.Rand) *engine.Run {
	run := engine.NewRun(a, w, batch)
	run.Images = make([]float32, batch*3*a.Image*a.Image)
	for i := range run.Images {
		run.Images[i] = float32(r.NormFloat64())
	}
	return run
}
