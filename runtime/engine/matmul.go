package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vitc-dev/vitc/asm"
)

// MatMul computes dst (rows×n) = epi(src (rows×k) · packed w + bias) on all cores, w packed
// as compiled weights are: panels of asm.PanelRows(k) rows (see gen/layout).
//
// The product is cut into a grid of rectangular tasks, whole register tiles of the active
// kernel each (see split), which the calling goroutine and up to GOMAXPROCS-1 long-lived
// helpers take in turn; each task is one asm.Sgemm, which blocks for the caches itself. After
// the first call for a shape nothing is allocated.
func MatMul(dst, src, w, bias []float32, rows, n, k int, epi asm.Epilogue) {
	matmul(dst, src, w, nil, bias, rows, n, k, k, n, epi, nil)
}

// MatMulLowp is MatMul with the weights in a low precision (bfloat16 or int8): the same
// split, each task one asm.GemmBF16 or asm.GemmInt8.
func MatMulLowp(dst, src []float32, w *LowpMatrix, bias []float32, rows, n, k int, epi asm.Epilogue) {
	matmul(dst, src, nil, w, bias, rows, n, k, k, n, epi, nil)
}

// matmul is MatMul or MatMulLowp with src's rows lda floats apart and dst's ldc; with busy
// non-nil, each task adds its time (ns) to it.
func matmul(dst, src, w []float32, lw *LowpMatrix, bias []float32, rows, n, k, lda, ldc int, epi asm.Epilogue, busy *atomic.Int64) {
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
	j.rows, j.n, j.k, j.lda, j.ldc, j.epi, j.grid, j.busy = rows, n, k, lda, ldc, epi, g, busy
	j.next.Store(0)
	helpers := min(workers, g.tasks()) - 1
	if helpers > 0 {
		startHelpers(helpers)
		j.begin(helpers)
		for range helpers {
			queue <- j
		}
	}
	j.work()
	if helpers > 0 {
		j.wait()
	}
	j.dst, j.src, j.w, j.lw, j.bias, j.busy = nil, nil, nil, nil, nil, nil
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

// Costs of the split model, in multiply-adds: a task reads its rows of src into its core's
// cache (readCost per element of src: tuned when the kernels still copied A, and kept),
// streams its columns of w from the shared cache once (streamCost per element of w), and
// costs taskCost to hand out.
const (
	readCost   = 16
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
			task := tr*tc*float64(k) + readCost*tr*float64(k) + streamCost*tc*float64(k) + taskCost
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
	lda, ldc          int // the row strides of src and dst
	epi               asm.Epilogue
	busy              *atomic.Int64 // a profiled product's task time (ns), or nil
	grid
	next    atomic.Int64 // the next task to take
	handoff              // the helpers that were handed the job
}

func (j *matmulJob) help() {
	j.join()
	j.work()
	j.leave()
}

// work runs tasks until none is left.
func (j *matmulJob) work() {
	g := j.grid
	for {
		t := int(j.next.Add(1) - 1)
		if t >= g.tasks() {
			return
		}
		var start time.Time
		if j.busy != nil {
			start = time.Now()
		}
		j.task(t)
		if j.busy != nil {
			j.busy.Add(int64(time.Since(start)))
		}
	}
}

// task runs task t of the grid.
func (j *matmulJob) task(t int) {
	g := j.grid
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
	m, n, a, c := i1-i0, j1-j0, j.src[i0*j.lda:], j.dst[i0*j.ldc+j0:]
	switch lw := j.lw; {
	case lw == nil:
		bk := asm.PanelRows(j.k)
		asm.SgemmPanels(m, n, j.k, a, j.lda, j.w[p0*bk*asm.PanelWidth:], bk, c, j.ldc, bias, j.epi)
	case lw.BF16 != nil:
		asm.GemmBF16(m, n, j.k, a, j.lda, lw.BF16[p0*asm.BF16Len(asm.PanelWidth, j.k):], c, j.ldc, bias, j.epi)
	default:
		asm.GemmInt8(m, n, j.k, a, j.lda, lw.I8[p0*asm.Int8Len(asm.PanelWidth, j.k):], lw.Scales[j0:], lw.Sums[j0:], c, j.ldc, bias, j.epi)
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
	ends    atomic.Int64 // the tasks not yet taken: [low 32 bits, high 32 bits)
	workers atomic.Int64 // the next worker id to hand out; the caller is 0
	handoff
}

var freeParallelJobs = make(chan *parallelJob, 64)

func (j *parallelJob) help() {
	j.join()
	j.work(int(j.workers.Add(1)))
	j.leave()
}

func (j *parallelJob) work(worker int) {
	for {
		t := j.take(worker > 0)
		if t < 0 {
			return
		}
		j.fn(worker, t)
	}
}

// take takes the first task left, or with last the last one; -1 when none is left. The caller
// goes through the tasks in order and the helpers back from the end, so that each can tell
// which task it will most likely take next (Attention fetches that head's keys and values).
func (j *parallelJob) take(last bool) int {
	for {
		v := j.ends.Load()
		lo, hi := v&0xffffffff, v>>32
		if lo >= hi {
			return -1
		}
		nv, t := hi<<32|(lo+1), lo
		if last {
			nv, t = (hi-1)<<32|lo, hi-1
		}
		if j.ends.CompareAndSwap(v, nv) {
			return int(t)
		}
	}
}

// runParallel runs fn(worker, task) for every task in [0, n) on the calling goroutine (worker
// 0) and w-1 of the long-lived helpers that MatMul uses (workers 1..w-1); the caller takes
// the tasks from the first up, the helpers from the last down (see take).
func runParallel(n, w int, fn func(worker, task int)) {
	var j *parallelJob
	select {
	case j = <-freeParallelJobs:
	default:
		j = new(parallelJob)
	}
	j.n, j.fn = n, fn
	j.ends.Store(int64(n) << 32)
	j.workers.Store(0)
	helpers := w - 1
	startHelpers(helpers)
	j.begin(helpers)
	for range helpers {
		queue <- j
	}
	j.work(0)
	j.wait()
	j.fn = nil
	select {
	case freeParallelJobs <- j:
	default:
	}
}

// spinFor is how long a helper polls the queue after a job, and a caller polls for its
// helpers to finish, before blocking.
//
// A goroutine that blocks lets its vCPU go idle, and waking an idle vCPU of a 2-vCPU VM takes
// 100-150 µs, a sixth of a vits14 product. A vits14 forward pass hands work to the helpers
// ~100 times (each MatMul, Attention and LayerNorm); when both sides blocked, its two cores
// were idle 15% of the time, and polling made it 13% faster (50 to 43 ms; under 1% of its
// waits still block). The gaps between the steps of a forward pass are
// microseconds, and a millisecond bounds the CPU burnt after the last one.
//
// A poller must not hold a P that the goroutine it waits for needs (earlier, helpers that
// polled with runtime.Gosched while callers blocked made a hand-off 1 ms when the caller was
// readied onto the polling helper's P). So a caller polls only while every helper it handed
// the job to has started it, and blocks otherwise, giving its P to a helper yet to start; a
// polling helper yields its P every yieldEvery polls (a few µs), where another caller blocked
// in wait (e.g. several Runs at once) may have been readied; and no more helpers poll than
// there are other CPUs (see helper).
const (
	spinFor    = time.Millisecond
	yieldEvery = 1 << 10
)

// handoff counts the helpers handed one job: begin before handing it, join and leave in
// each helper around its part, wait in the caller after its own part.
type handoff struct {
	done    sync.WaitGroup
	handed  int64
	started atomic.Int64 // helpers that have joined
	left    atomic.Int64 // helpers that have not left
}

func (h *handoff) begin(helpers int) {
	h.handed = int64(helpers)
	h.started.Store(0)
	h.left.Store(int64(helpers))
	h.done.Add(helpers)
}

func (h *handoff) join() { h.started.Add(1) }

func (h *handoff) leave() {
	h.done.Done()
	h.left.Add(-1) // the helper's last access to the job
}

// wait returns after the last helper's last access to the job, so that it can be reused.
func (h *handoff) wait() {
	if spin(0, func() bool { return h.left.Load() == 0 || h.started.Load() < h.handed }) && h.left.Load() == 0 {
		return
	}
	h.done.Wait()
	for h.left.Load() != 0 { // a helper is between Done and its last Add
		runtime.Gosched()
	}
}

// spin polls ready until it is true (and returns true) or spinFor has passed (false). With
// yield > 0 it calls runtime.Gosched every yield polls.
func spin(yield int, ready func() bool) bool {
	var start time.Time
	for i := 0; ; i++ {
		if ready() {
			return true
		}
		if i&63 == 0 {
			if i == 0 {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				return false
			}
		}
		if yield > 0 && i%yield == yield-1 {
			runtime.Gosched()
		}
	}
}

// startHelpers makes sure that at least n helper goroutines wait on the queue.
func startHelpers(n int) {
	helping.Lock()
	for ; helping.n < n; helping.n++ {
		go helper()
	}
	helping.Unlock()
}

// spinning counts the helpers polling the queue. At most one fewer than the CPUs poll (the
// caller has one): with GOMAXPROCS=8 on 2 CPUs, seven polling helpers took the CPUs from the
// goroutines doing the work (vits14 25% slower than blocking; with the limit, as fast).
var spinning atomic.Int64

// helper runs the jobs of the queue: it polls it for spinFor after each job, then blocks.
func helper() {
	maxSpinning := int64(runtime.NumCPU() - 1)
	for {
		var j helperJob
		got := false
		if spinning.Add(1) <= maxSpinning {
			got = spin(yieldEvery, func() bool {
				select {
				case j = <-queue:
					return true
				default:
					return false
				}
			})
		}
		spinning.Add(-1)
		if !got {
			j = <-queue
		}
		j.help()
	}
}
