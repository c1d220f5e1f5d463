package engine

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/vitc-dev/vitc/asm"
)

// Run is one forward pass over a batch: the weights, the input, and the activations. A Run
// is used by one goroutine at a time; the weights are shared read-only between Runs.
type Run struct {
	Arch   *Arch
	W      *Weights // the weights; generated code names them by their float32-layout offsets
	Batch  int
	Rows   int       // Batch × Tokens
	Images []float32 // input, Batch×3×Image×Image

	// The activations: Rows rows each, of w floats rowStride(w) apart (see Run.rowStride).
	X    []float32 // residual stream, w = Embed
	H    []float32 // normalised stream, w = Embed
	QKV  []float32 // w = 3·Embed
	A    []float32 // attention output, w = Embed
	M    []float32 // MLP hidden, w = MLP
	Cols []float32 // flattened patches, Batch·Grid²×3·Patch²
	Out  []float32 // class token after the final norm, Batch×Embed

	// LastAttention, when non-nil (Batch×Heads×Tokens floats), receives the last block's
	// attention probabilities from the class token to every token.
	LastAttention []float32
	// Profile, when non-nil, collects the time of each step of the passes (see Profile).
	Profile *Profile
	block   int
	// classOnly: the steps run over each image's class token alone (see ClassTokens).
	classOnly bool
	rowAlign  int                             // rowAlign when the Run was made
	busy      atomic.Int64                    // a profiled product's task time, in ns
	parts     [][attentionParts]time.Duration // per worker: a profiled attention's parts

	scores [][]float32    // per worker: a block of attention scores, queryBlock×Tokens
	keys   []float32      // per image and head (or per worker): kᵀ packed in panels of 16 tokens (see Attention)
	values []float32      // per image and head (or per worker): v packed in panels of 16 of its columns
	fetch  [][2]asm.Fetch // per worker: the next head's keys and values, fetched into L2 (nextKV)

	// The steps that parallel shares out read their arguments from step, and are method
	// values made once in NewRun: closures made per call would escape to the heap (into the
	// helpers' job), and a forward pass allocates nothing.
	step                          stepArgs
	lowpCols                      LowpMatrix // LinearCols' columns of a low-precision matrix (a field: no allocation)
	patchTask, normTask, headTask func(worker, task int)
	packTask, queryTask           func(worker, task int)
}

// stepArgs are the arguments of the step that parallel is running.
type stepArgs struct {
	dst, src, w, b []float32 // LayerNorm: dst = LayerNorm(src)·w + b; Attention: dst and qkv (src)
	kSize, vSize   int       // Attention: the floats of one head's packed keys and values
	kRows          int       // Attention: rows of a panel of packed keys (asm.PanelRows(head width))
	blocks         int       // Attention: query blocks per head
	queries        int       // Attention: queries per image (Tokens, or 1 for the class token alone)
	last           bool      // Attention: keep the class token's probabilities
	rows, every    int       // LayerNorm: rows i·every for i < rows
}

// queryBlock is the number of queries whose scores are held at once: a block of queryBlock ×
// Tokens scores stays in L2 even for 1157 tokens (vith14@476). It is a multiple of every
// kernel's tile rows (8, 6 and the low-precision kernels' 12 and 4), so that only a sequence's last block has a partial tile: with
// 64, each block of 64 queries ran as six 12-row tiles, 72 rows, and vits14's 257 queries as
// 25 tiles rather than 22.
const queryBlock = 72

// rowAlign: activations whose rows are a multiple of rowAlign floats wide get 16 more floats
// of stride (see Run.rowStride). Tests lower it to pad the small models' rows.
var rowAlign = 1024

// rowStride is the distance in floats between the rows of an activation w floats wide: w, but
// w + 16 where w floats are a multiple of 4 KiB. Rows a multiple of 4 KiB apart share their
// L1 set and the low 12 bits of their addresses, on which the CPU first matches loads with
// earlier stores: the 8 rows of A that a kernel tile reads (and of C that it writes) all
// collided, and attention's rows of q, k and v. Paired passes, padded over dense: vitl14
// (widths 1024, 3072 and 4096) 0.9845 ± 0.0063 (40 pairs), 0.9926 ± 0.0097 (30) and
// 0.9815 ± 0.0065 (16, profiled: qkv 1.3% faster, attention 6.6%, proj 2.9%, fc1 1.8%, fc2
// 1.5%); vitb14 (only the MLP's 3072) 0.9922 ± 0.0050 (60).
func (r *Run) rowStride(w int) int {
	if w%r.rowAlign == 0 {
		return w + asm.PanelWidth
	}
	return w
}

// NewRun allocates the activations for a batch.
func NewRun(a *Arch, w *Weights, batch int) *Run {
	t, d := a.Tokens(), a.Embed
	rows := batch * t
	g := a.Grid()
	r := &Run{
		Arch: a, W: w, Batch: batch, Rows: rows, rowAlign: rowAlign,
		Cols: make([]float32, batch*g*g*3*a.Patch*a.Patch),
		Out:  make([]float32, batch*d),
	}
	activation := func(w int) []float32 { return make([]float32, rows*r.rowStride(w)) }
	r.X, r.H, r.QKV, r.A, r.M = activation(d), activation(d), activation(3*d), activation(d), activation(a.MLP)
	r.scores = make([][]float32, workers())
	for i := range r.scores {
		r.scores[i] = make([]float32, queryBlock*t)
	}
	r.parts = make([][attentionParts]time.Duration, len(r.scores))
	r.fetch = make([][2]asm.Fetch, len(r.scores))
	hd := a.HeadDim()
	r.keys = make([]float32, batch*a.Heads*panels(t)*asm.PanelWidth*asm.PanelRows(hd))
	r.values = make([]float32, batch*a.Heads*panels(hd)*asm.PanelWidth*t)
	r.patchTask, r.normTask, r.headTask = r.patchRow, r.normRows, r.attendHead
	r.packTask, r.queryTask = r.packHead, r.attendBlock
	return r
}

func workers() int { return runtime.GOMAXPROCS(0) }

// parallel runs fn(worker, task) for every task in [0, n) on up to GOMAXPROCS goroutines:
// the caller (worker 0) and the helpers that MatMul uses (workers 1..), which are already
// running, rather than new goroutines per call.
func parallel(n int, fn func(worker, task int)) { parallelUpTo(workers(), n, fn) }

// parallelUpTo is parallel on at most w goroutines: worker < w.
func parallelUpTo(w, n int, fn func(worker, task int)) {
	w = min(w, n)
	if w <= 1 {
		for t := 0; t < n; t++ {
			fn(0, t)
		}
		return
	}
	runParallel(n, w, fn)
}

// Forward runs the architecture's encoder over r.Images, leaving the result in r.Out.
func (r *Run) Forward() {
	r.block, r.classOnly = 0, false
	if p := r.Profile; p != nil {
		start := time.Now()
		r.Arch.Forward(r)
		p.Total += time.Since(start)
		p.Passes++
		p.Workers = len(r.scores)
		return
	}
	r.Arch.Forward(r)
}

// vec returns the n floats of the weights at element offset off.
func (r *Run) vec(off, n int) []float32 {
	o := r.W.offset(off)
	return r.W.F32[o : o+n]
}

// packed returns the float32 packed matrix with n outputs and k inputs at element offset off
// (panels of asm.PanelRows(k) rows, see gen/layout).
func (r *Run) packed(off, n, k int) []float32 {
	o := r.W.offset(off)
	return r.W.F32[o : o+(n+asm.PanelWidth-1)/asm.PanelWidth*asm.PanelWidth*asm.PanelRows(k)]
}

// PatchEmbed fills X with [cls_token; proj(patches)] + pos_embed for every image.
func (r *Run) PatchEmbed(weight, bias, clsToken, posEmbed int) {
	a := r.Arch
	g, p, d, t := a.Grid(), a.Patch, a.Embed, a.Tokens()
	k := 3 * p * p
	patches := r.Batch * g * g
	st := r.begin("patch_embed", patches, d, k, 2*float64(patches)*float64(d)*float64(k))
	defer st.end()
	parallel(r.Batch*g, r.patchTask)
	ld := r.rowStride(d)
	matmul(r.H, r.Cols, r.packed(weight, d, k), nil, r.vec(bias, d), patches, d, k, k, ld, asm.Store, st.tasks())
	cls, pos := r.vec(clsToken, d), r.vec(posEmbed, t*d)
	for b := 0; b < r.Batch; b++ {
		x := r.X[b*t*ld:]
		for j := 0; j < d; j++ {
			x[j] = cls[j] + pos[j]
		}
		for i := 1; i < t; i++ {
			h, xi, pi := r.H[(b*(t-1)+i-1)*ld:][:d], x[i*ld:][:d], pos[i*d:][:d]
			for j, v := range h {
				xi[j] = v + pi[j]
			}
		}
	}
}

// patchRow flattens one row of patches of one image (task = image·Grid + row) into Cols:
// row (b, gy, gx) of Cols holds the patch as the Conv2d weight is laid out, (c, ky, kx).
func (r *Run) patchRow(_, task int) {
	a := r.Arch
	g, p, s := a.Grid(), a.Patch, a.Image
	k := 3 * p * p
	b, gy := task/g, task%g
	img := r.Images[b*3*s*s : (b+1)*3*s*s]
	for gx := 0; gx < g; gx++ {
		row := r.Cols[((b*g+gy)*g+gx)*k:][:k]
		for c := 0; c < 3; c++ {
			for ky := 0; ky < p; ky++ {
				src := img[c*s*s+(gy*p+ky)*s+gx*p:][:p]
				copy(row[(c*p+ky)*p:], src)
			}
		}
	}
}

// ClassTokens makes the steps after it (LayerNorm, Linear, LinearCols, Attention) run over
// each image's class token alone, the row that the output, norm(x)[:, 0], reads: the generated
// code calls it in the last block once the keys and values of every token are computed. The
// class tokens' results are those of the whole step, to the bit (each row of a product, of a
// LayerNorm and of attention is computed alone), so a vitl14 pass skips 10/12 of its last
// block's products (3.5% of the pass's FLOPs; vitb14 and vits14 6.9%, vith14 2.6%).
func (r *Run) ClassTokens() { r.classOnly = true }

// rowSet returns the rows the steps run over, i·every for i < rows: every row, or after
// ClassTokens each image's class token.
func (r *Run) rowSet() (rows, every int) {
	if r.classOnly {
		return r.Batch, r.Arch.Tokens()
	}
	return r.Rows, 1
}

// normRowsPerTask is the rows of one LayerNorm task.
const normRowsPerTask = 16

// LayerNorm writes LayerNorm(src) with the weights at w and b into dst, row by row.
func (r *Run) LayerNorm(dst, src []float32, w, b int) {
	d := r.Arch.Embed
	rows, every := r.rowSet()
	st := r.begin("norm", rows, d, 0, 0)
	r.step = stepArgs{dst: dst, src: src, w: r.vec(w, d), b: r.vec(b, d), rows: rows, every: every}
	parallel((rows+normRowsPerTask-1)/normRowsPerTask, r.normTask)
	r.step = stepArgs{}
	st.end()
}

// normRows is LayerNorm's task: rows [task·normRowsPerTask, …) of r.step.src.
func (r *Run) normRows(_, task int) {
	d, st := r.Arch.Embed, &r.step
	ld := r.rowStride(d) * st.every
	for i := task * normRowsPerTask; i < min(st.rows, (task+1)*normRowsPerTask); i++ {
		asm.LayerNorm(st.dst[i*ld:i*ld+d], st.src[i*ld:i*ld+d], st.w, st.b, LayerNormEps)
	}
}

// Linear computes dst = epi(src·Wᵀ + bias) over all rows (or the class tokens', see
// ClassTokens), for the packed weight at w (n outputs, k inputs) and the bias at b.
//
// With a Profile, the step is named after the module (linearName).
func (r *Run) Linear(dst, src []float32, w, b, n, k int, epi asm.Epilogue) {
	r.LinearCols(dst, src, w, b, n, k, 0, n, epi)
}

// LinearCols is Linear for the outputs [c0, c1) alone (rounded out to whole panels of
// asm.PanelWidth, whose other outputs are computed too): the last block's keys and values
// for every token, and its queries for the class tokens alone.
// (Profiled, it counts the FLOPs of [c0, c1), as gen/arch's Config.FLOPs does.)
func (r *Run) LinearCols(dst, src []float32, w, b, n, k, c0, c1 int, epi asm.Epilogue) {
	rows, every := r.rowSet()
	flops := 2 * float64(rows) * float64(c1-c0) * float64(k)
	c0 = c0 / asm.PanelWidth * asm.PanelWidth
	c1 = min(n, panels(c1)*asm.PanelWidth)
	cols := c1 - c0
	st := r.begin(r.linearName(n, k, epi), rows, cols, k, flops)
	lda, ldc := every*r.rowStride(k), every*r.rowStride(n)
	bias := r.vec(b, n)[c0:c1]
	if lw := r.W.lowp[w]; lw != nil {
		r.lowpCols = lw.cols(c0, k)
		matmul(dst[c0:], src, nil, &r.lowpCols, bias, rows, cols, k, lda, ldc, epi, st.tasks())
	} else {
		matmul(dst[c0:], src, r.packed(w, n, k)[c0*asm.PanelRows(k):], nil, bias, rows, cols, k, lda, ldc, epi, st.tasks())
	}
	st.end()
}

func panels(n int) int { return (n + asm.PanelWidth - 1) / asm.PanelWidth }

// Attention writes softmax(q·kᵀ/√headDim)·v for every image and head into dst, reading q, k
// and v from qkv (each row: q | k | v, each of them head after head); after ClassTokens, for
// the class token's query alone (against every token's key and value). Both products run on
// the matrix kernels: kᵀ and v are packed into 16-wide panels once per image and head, then
// each block of queryBlock queries computes its scores (queryBlock × Tokens, in cache), their
// softmax, and its share of the output.
func (r *Run) Attention(dst, qkv []float32) {
	a := r.Arch
	t, hd := a.Tokens(), a.HeadDim()
	// Keys in panels of asm.PanelRows(hd) rows, as compiled weights: 64 rows would put the
	// panels 4 KiB apart (profile of vitb14 passes: q·kᵀ 8.67 rather than 8.84 ms, both threads).
	kRows := asm.PanelRows(hd)
	kSize := panels(t) * asm.PanelWidth * kRows
	vSize := panels(hd) * asm.PanelWidth * t
	r.block++
	queries := t
	if r.classOnly {
		queries = 1
	}
	st := r.begin("attention", r.Batch*queries, a.Embed, 0, 4*float64(r.Batch)*float64(queries)*float64(t)*float64(a.Embed))
	defer r.endAttention(st)
	n, blocks := r.Batch*a.Heads, (queries+queryBlock-1)/queryBlock
	r.step = stepArgs{dst: dst, src: qkv, kSize: kSize, kRows: kRows, vSize: vSize, blocks: blocks, queries: queries,
		last: r.LastAttention != nil && r.block == a.Depth}
	defer func() { r.step = stepArgs{} }()
	// The per-worker buffers were made for GOMAXPROCS at NewRun; it may have grown since.
	w := len(r.scores)
	if n >= 2*w {
		// Heads enough for every core: a task packs one image and head's keys and values into
		// its worker's buffers and runs all its query blocks, so that they read them from the
		// core's own cache (vitb14 and vits14 at batch 1: passes 1-1.5% faster).
		parallelUpTo(w, n, r.headTask)
		return
	}
	// Few heads for the cores: pack every head first, then share out the query blocks.
	parallelUpTo(w, n, r.packTask)
	parallelUpTo(w, n*blocks, r.queryTask)
}

// endAttention ends a profiled attention step: its workers' parts are its busy time.
func (r *Run) endAttention(st stepTimer) {
	if st.s == nil {
		return
	}
	st.s.Busy += r.collectParts()
	st.end()
}

// attendHead is Attention's task with heads enough for every core: image and head task,
// packed into worker's buffers, and all its query blocks.
func (r *Run) attendHead(worker, task int) {
	st := &r.step
	keys, values := r.keys[worker*st.kSize:][:st.kSize], r.values[worker*st.vSize:][:st.vSize]
	start := r.clock()
	r.packKV(keys, values, st.src, task)
	r.lap(worker, partPack, start)
	fetch := r.nextKV(worker, task)
	for qb := range st.blocks {
		r.attend(st.dst, st.src, keys, values, worker, task, qb, st.last, fetch)
	}
}

// nextKV returns the keys and values of the head that worker is likely to pack next (the
// caller takes heads from the first on, the helpers from the last back, see parallelJob),
// for this head's q·kᵀ products to fetch into L2 while they run, or nil.
//
// Packing a head's keys and values waited on its rows of qkv, which lie in L3 or in the other
// core's cache after the qkv product: packing them twice took no longer than once. Fetched
// ahead, and with each worker on the heads whose keys the same goroutine computed in qkv's
// column split (the caller the first half, the helper the second), vitb14 at batch 1 packed
// in 1.58 rather than 2.90 ms a pass (both threads) and attention took 10.00 rather than
// 10.80 ms; paired passes against heads handed out in order of asking and no fetching:
// vitb14 1.0027 ± 0.0039 (60 pairs), vits14 1.0086 ± 0.0040 (150).
func (r *Run) nextKV(worker, bh int) *[2]asm.Fetch {
	next := bh + 1
	if worker > 0 {
		next = bh - 1
	}
	if next < 0 || next >= r.Batch*r.Arch.Heads {
		return nil
	}
	a := r.Arch
	t, d, hd := a.Tokens(), a.Embed, a.HeadDim()
	b, h := next/a.Heads, next%a.Heads
	ld := r.rowStride(3 * d)
	base := b*t*ld + h*hd
	lines := (hd + asm.PanelWidth - 1) / asm.PanelWidth
	f := &r.fetch[worker]
	f[0] = asm.Fetch{Base: r.step.src[base+d:], Runs: t, Lines: lines, Stride: ld}
	f[1] = asm.Fetch{Base: r.step.src[base+2*d:], Runs: t, Lines: lines, Stride: ld}
	return f
}

// packHead packs image and head task's keys and values into their own buffers.
func (r *Run) packHead(worker, task int) {
	st := &r.step
	start := r.clock()
	r.packKV(r.keys[task*st.kSize:][:st.kSize], r.values[task*st.vSize:][:st.vSize], st.src, task)
	r.lap(worker, partPack, start)
}

// attendBlock is one query block (task = head·blocks + block) of the packed heads.
func (r *Run) attendBlock(worker, task int) {
	st := &r.step
	bh := task / st.blocks
	r.attend(st.dst, st.src, r.keys[bh*st.kSize:][:st.kSize], r.values[bh*st.vSize:][:st.vSize], worker, bh, task%st.blocks, st.last, nil)
}

// packKV packs image and head bh's keys into keys, as a (hd × t) matrix whose columns are
// tokens, and its values into values, as (t × hd), both in panels of 16 columns (the keys'
// of r.step.kRows rows, hd of them written).
func (r *Run) packKV(keys, values, qkv []float32, bh int) {
	a := r.Arch
	t, d, hd := a.Tokens(), a.Embed, a.HeadDim()
	b, h := bh/a.Heads, bh%a.Heads
	ld, kRows := r.rowStride(3*d), r.step.kRows
	base := b * t * ld
	clear(keys[(t/asm.PanelWidth)*asm.PanelWidth*kRows:]) // zero padding of the last panel
	clear(values[(hd/asm.PanelWidth)*asm.PanelWidth*t:])
	// Keys a panel of 16 tokens at a time: asm.Transpose16 for whole panels, a loop for the
	// last. (In registers with AVX-512 the transpose is 3x faster than in Go, but a pass only
	// 0.5% faster: packing a head's keys and values mostly waits for its rows of qkv, half of
	// which the other core wrote.)
	for j0 := 0; j0 < t; j0 += asm.PanelWidth {
		kp := keys[(j0/asm.PanelWidth)*asm.PanelWidth*kRows:][:asm.PanelWidth*hd]
		src := qkv[base+j0*ld+d+h*hd:]
		n := min(asm.PanelWidth, t-j0)
		if n == asm.PanelWidth {
			asm.Transpose16(kp, src, ld, hd)
			continue
		}
		for c := 0; c < hd; c++ {
			col := kp[c*asm.PanelWidth:][:asm.PanelWidth]
			for jj := range n {
				col[jj] = src[jj*ld+c]
			}
		}
	}
	// Values a row at a time, in whole runs of 16 columns where it has them.
	whole := hd / asm.PanelWidth * asm.PanelWidth
	for j := 0; j < t; j++ {
		v := qkv[base+j*ld+2*d+h*hd:][:hd]
		for c := 0; c < whole; c += asm.PanelWidth {
			*(*[asm.PanelWidth]float32)(values[c*t+j*asm.PanelWidth:]) = *(*[asm.PanelWidth]float32)(v[c:])
		}
		for c := whole; c < hd; c++ {
			values[whole*t+j*asm.PanelWidth+c-whole] = v[c]
		}
	}
}

// attend computes query block qb of image and head bh on worker's scores: its scores against
// the packed keys, their softmax (the class token's row kept when last), and its share of
// the output from the packed values.
func (r *Run) attend(dst, qkv, keys, values []float32, worker, bh, qb int, last bool, fetch *[2]asm.Fetch) {
	a := r.Arch
	t, d, hd, heads := a.Tokens(), a.Embed, a.HeadDim(), a.Heads
	b, h := bh/heads, bh%heads
	i0 := qb * queryBlock
	rows := min(queryBlock, r.step.queries-i0)
	scores := r.scores[worker][:rows*t]
	ldq, ldo := r.rowStride(3*d), r.rowStride(d)
	q := qkv[(b*t+i0)*ldq+h*hd:]
	start := r.clock()
	var f *asm.Fetch
	if fetch != nil {
		f = &fetch[0]
		if f.Done >= f.Runs*f.Lines {
			f = &fetch[1]
		}
	}
	asm.SgemmFetch(rows, t, hd, q, ldq, keys, r.step.kRows, scores, t, nil, asm.Store, f)
	start = r.lap(worker, partScores, start)
	scale := float32(1 / math.Sqrt(float64(hd)))
	asm.SoftmaxRows(scores, rows, t, t, scale)
	if last && i0 == 0 {
		copy(r.LastAttention[bh*t:(bh+1)*t], scores[:t])
	}
	start = r.lap(worker, partSoftmax, start)
	asm.Sgemm(rows, hd, t, scores, t, values, dst[(b*t+i0)*ldo+h*hd:], ldo, nil, asm.Store)
	r.lap(worker, partOutput, start)
}

// FinalNorm writes the final LayerNorm of each image's class token into Out.
func (r *Run) FinalNorm(w, b int) {
	d, t := r.Arch.Embed, r.Arch.Tokens()
	st := r.begin("final norm", r.Batch, d, 0, 0)
	defer st.end()
	wv, bv := r.vec(w, d), r.vec(b, d)
	for i := 0; i < r.Batch; i++ {
		x := r.X[i*t*r.rowStride(d):][:d]
		asm.LayerNorm(r.Out[i*d:(i+1)*d], x, wv, bv, LayerNormEps)
	}
}
