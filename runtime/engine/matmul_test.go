package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vitc-dev/vitc/asm"
)

// packPanels lays out a row-major n×k matrix in 16-wide panels (the layout of gen/layout).
func packPanels(w []float32, n, k int) []float32 {
	panels, rows := (n+asm.PanelWidth-1)/asm.PanelWidth, asm.PanelRows(k)
	out := make([]float32, panels*rows*asm.PanelWidth)
	for j := 0; j < n; j++ {
		for kk := 0; kk < k; kk++ {
			out[(j/asm.PanelWidth)*rows*asm.PanelWidth+kk*asm.PanelWidth+j%asm.PanelWidth] = w[j*k+kk]
		}
	}
	return out
}

func randFloats(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestMatMul checks that the split product equals one single-threaded asm.Sgemm of the whole,
// for every variant, on shapes that cut tiles and panels, at several thread counts.
func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func() { _ = asm.Use(asm.Available()[len(asm.Available())-1]) }()
	active := asm.Active()
	defer func() { _ = asm.Use(active) }()
	shapes := []struct{ rows, n, k int }{{1, 1, 1}, {7, 40, 9}, {37, 100, 33}, {257, 384, 64}, {130, 1000, 70}, {2, 1000, 24}}
	for _, name := range asm.Available() {
		if err := asm.Use(name); err != nil {
			t.Fatal(err)
		}
		for _, procs := range []int{1, 2, 3, 16} {
			runtime.GOMAXPROCS(procs)
			for _, s := range shapes {
				for _, epi := range []asm.Epilogue{asm.Store, asm.Accumulate, asm.GELU} {
					src := randFloats(r, s.rows*s.k)
					w := packPanels(randFloats(r, s.n*s.k), s.n, s.k)
					bias := randFloats(r, s.n)
					want := randFloats(r, s.rows*s.n)
					got := append([]float32(nil), want...)
					asm.SgemmPanels(s.rows, s.n, s.k, src, s.k, w, asm.PanelRows(s.k), want, s.n, bias, epi)
					MatMul(got, src, w, bias, s.rows, s.n, s.k, epi)
					for i := range got {
						if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
							t.Fatalf("%s GOMAXPROCS=%d %dx%dx%d epi=%d: element %d = %g, want %g", name, procs, s.rows, s.n, s.k, epi, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestMatMulAllocs checks that a MatMul allocates nothing once its shape has been seen.
func TestMatMulAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const rows, n, k = 257, 384, 64
	src, w, bias := randFloats(r, rows*k), packPanels(randFloats(r, n*k), n, k), randFloats(r, n)
	dst := make([]float32, rows*n)
	MatMul(dst, src, w, bias, rows, n, k, asm.GELU)
	if a := testing.AllocsPerRun(20, func() { MatMul(dst, src, w, bias, rows, n, k, asm.GELU) }); a != 0 {
		t.Errorf("MatMul allocates %v times per call", a)
	}
}

// TestSplit checks that the grid covers the product with whole tiles and balances the work.
func TestSplit(t *testing.T) {
	for _, c := range []struct{ rows, n, k, workers, tileRows, tileCols int }{
		{257, 768, 768, 2, 12, 32}, {257, 3072, 768, 2, 12, 32}, {2056, 768, 3072, 2, 12, 32},
		{257, 768, 768, 16, 12, 32}, {1157, 5120, 1280, 16, 12, 32}, {8, 1000, 768, 2, 12, 32},
		{257, 768, 768, 2, 6, 16}, {257, 768, 768, 2, 4, 16},
	} {
		g := split(c.rows, c.n, c.k, c.workers, c.tileRows, c.tileCols)
		if g.rowChunks < 1 || g.rowChunks > g.rowTiles || g.colChunks < 1 || g.colChunks > g.colUnits {
			t.Errorf("%+v: grid %+v out of range", c, g)
		}
		// The largest task times the rounds, over the ideal share of one worker.
		maxRows := (g.rowTiles + g.rowChunks - 1) / g.rowChunks * g.tileRows
		maxCols := (g.colUnits + g.colChunks - 1) / g.colChunks * g.unitPanels * asm.PanelWidth
		rounds := (g.tasks() + c.workers - 1) / c.workers
		ideal := float64(c.rows) * float64(c.n) / float64(c.workers)
		eff := ideal / float64(rounds*maxRows*min(maxCols, c.n))
		t.Logf("%+v: %d×%d tasks of ≤%d×%d, efficiency %.2f", c, g.rowChunks, g.colChunks, maxRows, maxCols, eff)
		if c.rows*c.n*c.k > 50e6 && eff < 0.85 {
			t.Errorf("%+v: split %+v balances only %.2f of the work", c, g, eff)
		}
	}
}

// BenchmarkMatMul runs the ViT matmul shapes through the work split with each variant, on one
// thread and on GOMAXPROCS threads. (The thread count is set here rather than with -cpu: a
// b.Loop benchmark's first run keeps the GOMAXPROCS that the previous one left.)
func BenchmarkMatMul(b *testing.B) {
	shapes := []struct{ m, n, k int }{
		{257, 1152, 384}, {257, 1536, 384}, {257, 384, 1536}, // vits14 qkv, fc1, fc2
		{257, 2304, 768}, {257, 768, 768}, {257, 3072, 768}, {257, 768, 3072}, // vitb14 qkv, proj, fc1, fc2
		{2056, 2304, 768}, {2056, 3072, 768}, {2056, 768, 3072}, // vitb14, batch 8
		{257, 3072, 1024}, {257, 4096, 1024}, {257, 1024, 4096}, // vitl14
		{1157, 3840, 1280}, {1157, 5120, 1280}, {1157, 1280, 5120}, // vith14 at 476 px
		{2048, 2048, 2048},
	}
	r := rand.New(rand.NewPCG(7, 8))
	active := asm.Active()
	defer func() { _ = asm.Use(active) }()
	threads := []int{1}
	if p := runtime.GOMAXPROCS(0); p > 1 {
		threads = append(threads, p)
	}
	for _, name := range asm.Available() {
		for _, s := range shapes {
			for _, th := range threads {
				b.Run(fmt.Sprintf("%s/threads=%d/M=%d,N=%d,K=%d", name, th, s.m, s.n, s.k), func(b *testing.B) {
					if err := asm.Use(name); err != nil {
						b.Skip(err)
					}
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(th))
					src := randFloats(r, s.m*s.k)
					w := packPanels(randFloats(r, s.n*s.k), s.n, s.k)
					dst := make([]float32, s.m*s.n)
					MatMul(dst, src, w, nil, s.m, s.n, s.k, asm.Store)
					b.ResetTimer()
					for b.Loop() {
						MatMul(dst, src, w, nil, s.m, s.n, s.k, asm.Store)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestParallel checks that parallel, on MatMul's helpers, runs every task once with worker
// ids below GOMAXPROCS, also while other goroutines run MatMul and parallel on the same helpers.
func TestParallel(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("procs=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			done := make(chan string, 3)
			for g := range 3 {
				go func() {
					r := rand.New(rand.NewPCG(uint64(g), 1))
					src, w := randFloats(r, 30*40), packPanels(randFloats(r, 50*40), 50, 40)
					dst := make([]float32, 30*50)
					for _, n := range []int{0, 1, 2, 3, 17, 100} {
						runs := make([]int32, n)
						var bad atomic.Bool
						parallel(n, func(worker, task int) {
							if worker < 0 || worker >= procs {
								bad.Store(true)
							}
							runs[task]++
						})
						MatMul(dst, src, w, nil, 30, 50, 40, asm.Store)
						for task, c := range runs {
							if c != 1 {
								done <- fmt.Sprintf("n=%d: task %d ran %d times", n, task, c)
								return
							}
						}
						if bad.Load() {
							done <- fmt.Sprintf("n=%d: a worker id outside [0, %d)", n, procs)
							return
						}
					}
					done <- ""
				}()
			}
			for range 3 {
				if msg := <-done; msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

// TestParallelOrder checks the order in which parallel hands out tasks: the caller (worker
// 0) in increasing order from the first, the helpers in decreasing order from the last (so
// that Attention can tell which head a worker takes next), and each task once.
func TestParallelOrder(t *testing.T) {
	var j parallelJob
	j.ends.Store(5 << 32)
	var got []int
	for i := 0; ; i++ {
		task := j.take(i%2 == 1)
		if task < 0 {
			break
		}
		got = append(got, task)
	}
	if fmt.Sprint(got) != "[0 4 1 3 2]" {
		t.Fatalf("take alternating front and back: %v, want [0 4 1 3 2]", got)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	const n = 200
	seen := make([][]int, 3)
	parallel(n, func(worker, task int) {
		seen[worker] = append(seen[worker], task)
		time.Sleep(10 * time.Microsecond)
	})
	count := 0
	for w, tasks := range seen {
		count += len(tasks)
		for i := 1; i < len(tasks); i++ {
			if (w == 0) != (tasks[i] > tasks[i-1]) {
				t.Fatalf("worker %d took %v", w, tasks)
			}
		}
	}
	if count != n || len(seen[0]) == 0 || seen[0][0] != 0 {
		t.Fatalf("tasks %d of %d, the caller's %v", count, n, seen[0])
	}
}
