package engine_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/vitc-dev/vitc/asm"
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
				// Helpers left polling by an earlier GOMAXPROCS park within a millisecond
				// (spinFor), and parking may allocate: on one thread it did in the window
				// below now and then, when the test ran right after another.
				time.Sleep(10 * time.Millisecond)
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

// TestPaddedRows runs the tiny models with their activations' rows padded (rowAlign lowered
// so that every width is padded, as vitl14's 1024 and 4096 are) and checks that they give
// the unpadded runs' bits, the class token's attention included, at batch 1 and 3 (attention
// by query blocks and by whole heads) on one thread and two.
func TestPaddedRows(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, name := range []string{"tiny", "odd"} {
		r := rand.New(rand.NewPCG(5, 6))
		a, w := randomWeights(t, name, r)
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			for _, batch := range []int{1, 3} {
				dense := randomRun(a, w, batch, r)
				restore := engine.SetRowAlign(8)
				padded := engine.NewRun(a, w, batch)
				restore()
				padded.Images = dense.Images
				for _, run := range []*engine.Run{dense, padded} {
					run.LastAttention = make([]float32, batch*a.Heads*a.Tokens())
					run.Forward()
				}
				for _, width := range []int{a.Embed, 3 * a.Embed, a.MLP} {
					if got := padded.RowStride(width); got != width+16 {
						t.Fatalf("%s: rows of %d padded to %d, want %d", name, width, got, width+16)
					}
					if got := dense.RowStride(width); got != width {
						t.Fatalf("%s: rows of %d padded to %d without rowAlign lowered", name, width, got)
					}
				}
				if len(padded.X) != padded.Rows*(a.Embed+16) || len(padded.M) != padded.Rows*(a.MLP+16) {
					t.Fatalf("%s: X and M hold %d and %d floats for %d rows", name, len(padded.X), len(padded.M), padded.Rows)
				}
				for i := range dense.Out {
					if dense.Out[i] != padded.Out[i] {
						t.Fatalf("%s, batch %d, GOMAXPROCS %d: output %d = %g with padded rows, %g without", name, batch, procs, i, padded.Out[i], dense.Out[i])
					}
				}
				for i := range dense.LastAttention {
					if dense.LastAttention[i] != padded.LastAttention[i] {
						t.Fatalf("%s, batch %d: attention %d = %g with padded rows, %g without", name, batch, i, padded.LastAttention[i], dense.LastAttention[i])
					}
				}
			}
		}
	}
}

// TestClassTokens: the generated forward pass, whose last block runs on the class tokens
// alone past its keys and values, gives to the bit what every row's last block gives (the
// reference below, the engine's steps over all rows, names the weights by their tensors'
// offsets), the class token's attention included: tiny and odd (whose width, 24, splits the
// queries from the keys inside a panel), at batch 1 and 3, on one thread and two.
func TestClassTokens(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, name := range []string{"tiny", "odd"} {
		r := rand.New(rand.NewPCG(7, 8))
		a, w := randomWeights(t, name, r)
		off := map[string]int{}
		for _, ts := range a.Tensors {
			off[ts.Name] = int(ts.Begin / 4)
		}
		d := a.Embed
		reference := func(run *engine.Run) {
			run.PatchEmbed(off["patch_embed.proj.weight"], off["patch_embed.proj.bias"], off["cls_token"], off["pos_embed"])
			for i := range a.Depth {
				p := func(s string) int { return off[fmt.Sprintf("blocks.%d.%s", i, s)] }
				run.LayerNorm(run.H, run.X, p("norm1.weight"), p("norm1.bias"))
				run.Linear(run.QKV, run.H, p("attn.qkv.weight"), p("attn.qkv.bias"), 3*d, d, asm.Store)
				run.Attention(run.A, run.QKV)
				run.Linear(run.X, run.A, p("attn.proj.weight"), p("attn.proj.bias"), d, d, asm.Accumulate)
				run.LayerNorm(run.H, run.X, p("norm2.weight"), p("norm2.bias"))
				run.Linear(run.M, run.H, p("mlp.fc1.weight"), p("mlp.fc1.bias"), a.MLP, d, asm.GELU)
				run.Linear(run.X, run.M, p("mlp.fc2.weight"), p("mlp.fc2.bias"), d, a.MLP, asm.Accumulate)
			}
			run.FinalNorm(off["norm.weight"], off["norm.bias"])
		}
		full := *a
		full.Forward = reference
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			for _, batch := range []int{1, 3} {
				got := randomRun(a, w, batch, r)
				want := engine.NewRun(&full, w, batch)
				want.Images = got.Images
				for _, run := range []*engine.Run{got, want} {
					run.LastAttention = make([]float32, batch*a.Heads*a.Tokens())
					run.Forward()
				}
				for i := range want.Out {
					if math.Float32bits(got.Out[i]) != math.Float32bits(want.Out[i]) {
						t.Fatalf("%s, batch %d, GOMAXPROCS %d: output %d = %g, every row's last block gives %g", name, batch, procs, i, got.Out[i], want.Out[i])
					}
				}
				for i := range want.LastAttention {
					if math.Float32bits(got.LastAttention[i]) != math.Float32bits(want.LastAttention[i]) {
						t.Fatalf("%s, batch %d: attention %d = %g, every row's last block gives %g", name, batch, i, got.LastAttention[i], want.LastAttention[i])
					}
				}
				// The pass did take the short way: the last block left the other rows' MLP
				// hidden values as the block before wrote them.
				if same := slicesEqual(got.M, want.M); same {
					t.Errorf("%s, batch %d: the last block's MLP ran over every row", name, batch)
				}
			}
		}
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
