package engine

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vitc-dev/vitc/asm"
)

// MatMul computes dst (rows×n) = epi(src (rows×k) · packed w + bias) on all cores.
//
// The product is cut into a grid of rectangular tasks, whole register tiles of the active
// kernel each (see split), which the calling goroutine and up to GOMAXPROCS-1 long-lived
// helpers take in turn; each task is one asm.Sgemm, which blocks for the caches itself. After
// the first call for a shape nothing is allocated.
func MatMul(dst, src, w, bias []float32, rows, n, k int, epi asm.Epilogue) {
	matmul(dst, src, w, nil, bias, rows, n, k, epi)
}

// MatMulLowp is MatMul with the weights in a low precision (bfloat16 or int8): the same
// split, each task one asm.GemmBF16 or asm.GemmInt8.
func MatMulLowp(dst, src []float32, w *LowpMatrix, bias []float32, rows, n, k int, epi asm.Epilogue) {
	matmul(dst, src, nil, w, bias, rows, n, k, epi)
}

func matmul(dst, src, w []float32, lw *LowpMatrix, bias []float32, rows, n, k int, epi asm.Epilogue) {
	if rows <= 0 || n <= 0 {
		return
	}
	workers := runtime.GOMAXPROCS(0)
	g := planFor(rows, n, k, workers, lw != nil)
	var j *matmulJob
	select {
	case j = <-freeJobs:
	default:
		j = new(matmulJob)
	}
	j.dst, j.src, j.w, j.lw, j.bias = dst, src, w, lw, bias
	j.rows, j.n, j.k, j.epi, j.grid = rows, n, k, epi, g
	j.next.Store(0)
	helpers := min(workers, g.tasks()) - 1
	if helpers > 0 {
		startHelpers(helpers)
		j.done.Add(helpers)
		for range helpers {
			queue <- j
		}
	}
	j.work()
	j.done.Wait()
	j.dst, j.src, j.w, j.lw, j.bias = nil, nil, nil, nil, nil
	select {
	case freeJobs <- j:
	default:
	}
}

// grid is a split of a product into rowChunks × colChunks tasks: row chunk i covers the
// register tiles [i·rowTiles/rowChunks, (i+1)·rowTiles/rowChunks) of tileRows rows each, and
// column chunk j likewise the units of unitPanels panels.
type grid struct {
	rowChunks, colChunks int
	rowTiles, tileRows   int
	colUnits, unitPanels int
}

func (g grid) tasks() int { return g.rowChunks * g.colChunks }

// Costs of the split model, in multiply-adds: a task packs its rows of src once per call
// (packCost per element of src it reads), streams its columns of w from the shared cache once
// (streamCost per element of w), and costs taskCost to hand out.
const (
	packCost   = 16
	streamCost = 8
	taskCost   = 200_000
)

// split chooses the grid that minimises the modelled time on workers cores: the tasks run in
// ceil(tasks/workers) rounds, each as long as the largest task.
func split(rows, n, k, workers, tileRows, tileCols int) grid {
	panels := (n + asm.PanelWidth - 1) / asm.PanelWidth
	g := grid{rowChunks: 1, colChunks: 1, tileRows: tileRows, unitPanels: max(2, tileCols/asm.PanelWidth)}
	g.rowTiles = (rows + tileRows - 1) / tileRows
	g.colUnits = (panels + g.unitPanels - 1) / g.unitPanels
	if workers <= 1 {
		return g
	}
	best := -1.0
	for r := 1; r <= min(g.rowTiles, 8*workers); r++ {
		tr := float64(((g.rowTiles + r - 1) / r) * tileRows)
		for c := 1; c <= min(g.colUnits, 8*workers); c++ {
			tc := float64(((g.colUnits + c - 1) / c) * g.unitPanels * asm.PanelWidth)
			rounds := float64((r*c + workers - 1) / workers)
			task := tr*tc*float64(k) + packCost*tr*float64(k) + streamCost*tc*float64(k) + taskCost
			if t := rounds * task; best < 0 || t < best*0.999 {
				best, g.rowChunks, g.colChunks = t, r, c
			}
		}
	}
	return g
}

type planKey struct{ rows, n, k, workers, tileRows, tileCols int }

var plans struct {
	sync.RWMutex
	m map[planKey]grid
}

// planFor is split, remembered per shape.
func planFor(rows, n, k, workers int, lowp bool) grid {
	tr, tc := asm.Tile()
	if lowp {
		tr = asm.LowpTile()
	}
	key := planKey{rows, n, k, workers, tr, tc}
	plans.RLock()
	g, ok := plans.m[key]
	plans.RUnlock()
	if ok {
		return g
	}
	g = split(rows, n, k, workers, tr, tc)
	plans.Lock()
	if plans.m == nil {
		plans.m = map[planKey]grid{}
	}
	plans.m[key] = g
	plans.Unlock()
	return g
}

// matmulJob is one MatMul in flight, shared by the goroutines that work on it.
type matmulJob struct {
	dst, src, w, bias []float32
	lw                *LowpMatrix // the weights when they are not float32 (w is nil)
	rows, n, k        int
	epi               asm.Epilogue
	grid
	next atomic.Int64   // the next task to take
	done sync.WaitGroup // the helpers that were handed the job
}

func (j *matmulJob) help() {
	j.work()
	j.done.Done()
}

// work runs tasks until none is left.
func (j *matmulJob) work() {
	g := j.grid
	for {
		t := int(j.next.Add(1) - 1)
		if t >= g.tasks() {
			return
		}
		ri, ci := t/g.colChunks, t%g.colChunks
		i0 := ri * g.rowTiles / g.rowChunks * g.tileRows
		i1 := min(j.rows, (ri+1)*g.rowTiles/g.rowChunks*g.tileRows)
		p0 := ci * g.colUnits / g.colChunks * g.unitPanels
		j0 := p0 * asm.PanelWidth
		j1 := min(j.n, (ci+1)*g.colUnits/g.colChunks*g.unitPanels*asm.PanelWidth)
		var bias []float32
		if j.bias != nil {
			bias = j.bias[j0:j1]
		}
		m, n, a, c := i1-i0, j1-j0, j.src[i0*j.k:], j.dst[i0*j.n+j0:]
		switch lw := j.lw; {
		case lw == nil:
			asm.Sgemm(m, n, j.k, a, j.k, j.w[p0*j.k*asm.PanelWidth:], c, j.n, bias, j.epi)
		case lw.BF16 != nil:
			asm.GemmBF16(m, n, j.k, a, j.k, lw.BF16[p0*asm.BF16Len(asm.PanelWidth, j.k):], c, j.n, bias, j.epi)
		default:
			asm.GemmInt8(m, n, j.k, a, j.k, lw.I8[p0*asm.Int8Len(asm.PanelWidth, j.k):], lw.Scales[j0:], lw.Sums[j0:], c, j.n, bias, j.epi)
		}
	}
}

var (
	freeJobs = make(chan *matmulJob, 64) // jobs to reuse (a sync.Pool would drop them at GC)
	queue    = make(chan helperJob, 256)
	helping  struct {
		sync.Mutex
		n int
	}
)

// helperJob is work handed to the helpers: help takes part in it and signals when done.
type helperJob interface{ help() }

// parallelJob is one call of parallel in flight.
type parallelJob struct {
	n       int
	fn      func(worker, task int)
	next    atomic.Int64 // the next task to take
	workers atomic.Int64 // the next worker id to hand out; the caller is 0
	done    sync.WaitGroup
}

var freeParallelJobs = make(chan *parallelJob, 64)

func (j *parallelJob) help() {
	j.work(int(j.workers.Add(1)))
	j.done.Done()
}

func (j *parallelJob) work(worker int) {
	for {
		t := int(j.next.Add(1) - 1)
		if t >= j.n {
			return
		}
		j.fn(worker, t)
	}
}

// runParallel runs fn(worker, task) for every task in [0, n) on the calling goroutine (worker
// 0) and w-1 of the long-lived helpers that MatMul uses (workers 1..w-1).
func runParallel(n, w int, fn func(worker, task int)) {
	var j *parallelJob
	select {
	case j = <-freeParallelJobs:
	default:
		j = new(parallelJob)
	}
	j.n, j.fn = n, fn
	j.next.Store(0)
	j.workers.Store(0)
	helpers := w - 1
	startHelpers(helpers)
	j.done.Add(helpers)
	for range helpers {
		queue <- j
	}
	j.work(0)
	j.done.Wait()
	j.fn = nil
	select {
	case freeParallelJobs <- j:
	default:
	}
}

// startHelpers makes sure that at least n helper goroutines wait on the queue.
//
// A parked helper starts 100-150 µs after the job is queued on a 2-vCPU VM (the idle vCPU has
// to wake), a sixth of a vits14 product. Helpers that polled the queue between jobs with
// runtime.Gosched cut that to ~20 µs for back-to-back products but made it 1 ms when the
// caller was rescheduled onto the polling helper's P, and whole-model time did not change: so
// they block.
func startHelpers(n int) {
	helping.Lock()
	for ; helping.n < n; helping.n++ {
		go func() {
			for j := range queue {
				j.help()
			}
		}()
	}
	helping.Unlock()
}
