//go:build !purego

package asm

import (
	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// sgemm8x48AVX512 computes a strip of 8×48 tiles over one block of k:
//
//	c[r*ldc + 16p + j] = a·b + bias[16p+j]         (flags&1 == 0)
//	c[r*ldc + 16p + j] += a·b + bias[16p+j]        (flags&1 == 1)
//	a·b = Σ_{kk<kc} a[r*lda + kk] · b[p*pstride + 16kk + j]
//
// for rows r < rows (1 ≤ rows ≤ 8, or 9 where panels ≠ 1), panels p < panels (≥ 0) and
// columns j < 16, except that in the last panel only the columns whose bit is set in
// lastMask (a 16-bit mask, low bits first) are read from bias and c or written. a must hold
// max(8, rows) rows of kc floats at stride lda (rows ≥ rows are read too and must be
// finite); bias may be nil. kc ≥ 0. With flags&2 (flagPrefetchB) its tiles of three panels
// also prefetch their panels into L1 32 k steps ahead of their use (even past kc: a prefetch
// does not fault); the result is the same. It also fetches into L2 (for the next block of
// B), one line every four k steps of its tiles of three panels, lines of 64 bytes from pf on
// up to pfLines of them, then pfRuns - 1 more runs: each starts pfGap bytes after the end of
// the one before and ends pfStride bytes after it (runs of pfStride = the panel stride apart,
// of pfStride - pfGap bytes but for the first); pf may be nil when pfLines or pfRuns is 0.
// No alignment is required. Go assembly is not preemptible: the driver gives one call at
// most 9 rows × nc panels × kc, about 10⁶ multiply-adds (9 × 336 columns × 384 on a 2 MiB
// L2), some 5 µs.
//
//go:noescape
func sgemm8x48AVX512(a *float32, lda int, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int, pf *float32, pfLines int, pfRuns int, pfGap int, pfStride int)

// sgemm6x16AVX2 is sgemm8x48AVX512 for 6×16 tiles with AVX2 and FMA: 6 rows of a,
// 1 ≤ rows ≤ 6, and lastCols (1..16) the number of columns of the last panel; it ignores
// flagPrefetchB, and fetches one line into L2 every four k steps of each panel.
//
//go:noescape
func sgemm6x16AVX2(a *float32, lda int, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, lastCols int, bias *float32, flags int, pf *float32, pfLines int, pfRuns int, pfGap int, pfStride int)

// microKernel is the signature shared by the kernels above; last is lastMask or lastCols.
type microKernel func(a *float32, lda int, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, last int, bias *float32, flags int, pf *float32, pfLines int, pfRuns int, pfGap int, pfStride int)

// flagAccumulate makes a kernel add its result to c; flagPrefetchB makes sgemm8x48AVX512
// prefetch its panels of B into L1 ahead of their use (the AVX2 kernel ignores it).
const (
	flagAccumulate = 1
	flagPrefetchB  = 2
)

// blocked drives a micro-kernel over a whole Sgemm with cache blocking: a block of k (kc),
// nc panels of B (kc×16·nc floats) that stay in L2 while the tiles of a block of mc rows
// reuse them.
//
// The kernels read A where it lies. Copying ("packing") A into a tile-friendly layout, as
// BLIS does, cost 3-5% of a batch-1 ViT here (more when two threads split a product by
// columns and each copied all of A) and gained nothing measurable: even rows 12 KiB apart,
// which share an L1 set, ran as fast as packed ones, the L1 being refilled from L2 either way.
// Only a last tile of fewer rows than the kernel's is copied, padded with zero rows.
type blocked struct {
	mr         int // rows of a tile
	tp         int // panels of a tile
	kc, mc, nc int // k block, rows per block of A (a multiple of mr), panels per B block (at most)
	mcWhole    int // up to this many rows (a multiple of mr) are one block
	kernel     microKernel
	nine       bool              // kernel takes a tile of mr + 1 rows of two or more panels
	lastMask   bool              // kernel takes the last panel's columns as a bit mask
	gelu       func(x []float32) // the GELU epilogue, in place
	tails      chan []float32    // free buffers of mr×tailStride floats for a short tile
}

// tailStride is the row stride of a copied short tile.
func (bl *blocked) tailStride() int { return bl.kc + PanelWidth }

func newBlocked(mr, tilePanels int, kernel microKernel, lastMask bool, gelu func([]float32)) *blocked {
	l1, l2 := cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 1 << 20
	}
	bl := &blocked{mr: mr, tp: tilePanels, kernel: kernel, lastMask: lastMask, gelu: gelu}
	// Measured on a 48 KiB L1, 2 MiB L2 (Sapphire Rapids): the tile's rows of A take a
	// quarter of L1 (kc = 384 for 8×48 tiles; 128-512 were no faster); a block of B, a quarter
	// of L2; the block of A, a tenth. Twice as much of either cache was 10% slower (12×32
	// tiles). But a product of few rows (the 257 of a batch-1 ViT) is one block, in up to a
	// quarter of L2: then each block of B comes from L3 once rather than once per block of
	// rows (vitb14 at batch 1: 3% faster).
	bl.kc = max(64, l1/(4*4*mr)) &^ 7
	bl.nc = max(tilePanels, (l2/4/(4*PanelWidth*bl.kc))/tilePanels*tilePanels)
	bl.mc = max(mr, (l2/10/(4*bl.kc))/mr*mr)
	bl.mcWhole = max(bl.mc, (l2/4/(4*bl.kc))/mr*mr)
	bl.tails = make(chan []float32, 64)
	return bl
}

func (bl *blocked) sgemm(m, n, k int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, epi Epilogue) {
	bl.sgemmPanels(m, n, k, a, lda, b, k, c, ldc, bias, epi)
}

// sgemmPanels is sgemm over panels of bk rows (see SgemmPanels).
func (bl *blocked) sgemmPanels(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue) {
	bl.drive(m, n, k, a, lda, b, bk, c, ldc, bias, epi, nil)
}

// sgemmFetch is sgemm that, given f, fetches f's lines rather than the next block of B: a
// product whose B is small and already in cache, such as attention's, has no next block to
// fetch, and the kernels' slots for it can bring in what the next step reads.
func (bl *blocked) sgemmFetch(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue, fetch *Fetch) {
	bl.drive(m, n, k, a, lda, b, bk, c, ldc, bias, epi, fetch)
}

// drive is sgemmPanels and sgemmFetch.
func (bl *blocked) drive(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue, fetch *Fetch) {
	if k == 0 {
		sgemmGeneric(m, n, k, a, lda, b, bk, c, ldc, bias, epi)
		return
	}
	panels := (n + PanelWidth - 1) / PanelWidth
	lastCols := n - PanelWidth*(panels-1)
	// The first k block of a product ramps up (see blockSplit); the others split evenly.
	split, first := bl.split(panels, false), bl.split(panels, true)
	// Equal blocks of k and of rows: a short last block would reload B for little work.
	kBlocks := (k + bl.kc - 1) / bl.kc
	// Rounded up to whole groups of four k steps, which the kernels unroll (vitl14's k = 1024
	// ran as 342 + 342 + 340 with a tail loop of two steps a tile; as 344 + 344 + 336, paired
	// passes 0.9927 ± 0.0061 and 0.9966 ± 0.0038 of the time).
	kc := ((k+kBlocks-1)/kBlocks + 3) &^ 3
	mBlocks := (m + bl.mc - 1) / bl.mc
	if m <= bl.mcWhole {
		mBlocks = 1
	}
	mc := ((m+mBlocks-1)/mBlocks + bl.mr - 1) / bl.mr * bl.mr
	// A free list rather than a sync.Pool: buffers survive garbage collections.
	var tail []float32
	select {
	case tail = <-bl.tails:
	default:
		tail = make([]float32, bl.mr*bl.tailStride())
	}
	for k0 := 0; k0 < k; k0 += kc {
		kb := min(kc, k-k0)
		flags := 0
		if k0 > 0 || epi == Accumulate {
			flags = flagAccumulate
		}
		gelu := epi == GELU && k0+kb == k
		for i0 := 0; i0 < m; i0 += mc {
			mb := min(mc, m-i0)
			full := mb / bl.mr * bl.mr // rows in whole tiles
			// A last row alone rides on the last whole tile, where the kernel takes nine rows
			// (but for a block of one panel, which reads it from tail).
			nine := bl.nine && mb > bl.mr && mb-full == 1
			if full < mb {
				packTail(tail, bl.tailStride(), a[(i0+full)*lda+k0:], lda, mb-full, kb, bl.mr)
			}
			sp := split
			if k0 == 0 {
				sp = first
			}
			for bi := range sp.blocks() {
				p0, p1 := sp.block(bi)
				np := p1 - p0
				cols, last := np*PanelWidth, PanelWidth
				if p0+np == panels {
					cols, last = cols-PanelWidth+lastCols, lastCols
				}
				if bl.lastMask {
					last = 1<<last - 1
				}
				var bp *float32
				if bias != nil && k0 == 0 {
					bp = &bias[p0*PanelWidth]
				}
				nextK0, nextP0, nextEnd := k0, p1, 0 // the next block of B
				if bi+1 < sp.blocks() {
					_, nextEnd = sp.block(bi + 1)
				} else {
					nextK0 = k0 + kc
					nextP0, nextEnd = split.block(0)
				}
				var pf prefetch
				if fetch == nil {
					pf = bl.prefetchPlan(nextK0, nextP0, nextEnd, k, kc, np, kb, full/bl.mr)
				}
				for ir := 0; ir < mb; ir += bl.mr {
					rows := min(bl.mr, mb-ir)
					if nine && np > 1 && mb-ir == bl.mr+1 {
						rows = bl.mr + 1
					}
					c0 := (i0+ir)*ldc + p0*PanelWidth
					f := flags
					if ir == 0 {
						// The first tile to read this block of B brings it into cache.
						f |= flagPrefetchB
					}
					ap, ld := &tail[0], bl.tailStride()
					if ir < full {
						ap, ld = &a[(i0+ir)*lda+k0], lda
					}
					// The last tiles of this block fetch the next block of B into L2, or the
					// whole tiles fetch fetch's lines.
					var pfAt *float32
					var pfLines, runs, pfGap, pfStride int
					if fetch == nil {
						var p, line int
						p, line, runs = pf.at(ir / bl.mr)
						pfLines, pfGap, pfStride = pf.lines-line, 4*bk*PanelWidth-64*pf.lines, 4*bk*PanelWidth
						if runs > 0 {
							pfAt = &b[(p*bk+nextK0+line)*PanelWidth]
						}
					} else {
						slots := 0
						if rows == bl.mr {
							slots = bl.slots(np, kb)
						}
						var off int
						off, pfLines, runs, pfGap, pfStride = fetch.take(slots)
						if runs > 0 {
							pfAt = &fetch.Base[off]
						}
					}
					bl.kernel(ap, ld, &b[(p0*bk+k0)*PanelWidth], &c[c0], kb, np, bk*PanelWidth, ldc, rows, last, bp, f,
						pfAt, pfLines, runs, pfGap, pfStride)
					if gelu {
						for r := 0; r < rows; r++ {
							bl.gelu(c[c0+r*ldc : c0+r*ldc+cols])
						}
					}
					if rows > bl.mr {
						break
					}
				}
			}
		}
	}
	select {
	case bl.tails <- tail:
	default:
	}
}

// blockSplit is a split of a product's panels into B blocks: with a ramp, first blocks of 1,
// 2 and 4 tiles' panels (as many as fit in half of them and leave two tiles' panels after
// them), then as few blocks of at most nc panels as can be, of equal width in whole tiles'
// panels. (Without the two tiles, attention's p·v, 4 panels, ran as 3 + 1, the one panel at a
// third less speed than the pair of pairs it was: vitb14 0.9929 ± 0.0027 and 0.9981 ± 0.0038,
// vitl14 0.9956 ± 0.0024, vits14 1.0013 ± 0.0035 in paired passes.)
//
// Equal widths: with blocks of nc panels and a short last one (21 + 3 for 24 panels, half of
// vitb14's mlp.fc2 or attn.proj), the short block's tiles had too few k steps to fetch the
// next block into L2, and its first tile read it from memory; balanced (12 + 12), each block
// fetches all of the next. Paired passes: vitb14 0.5% faster, vitl14 0.35%, vits14 0.2% (each
// within 1.6 standard errors), batch 8 the same.
//
// The ramp: nothing fetches a product's first block beforehand, so its first tile streams it
// from memory at a fraction of the kernel's speed (21 panels: ~40 µs lost a product and core,
// 1.2% of a vitb14 pass). A first block of one tile's panels costs that tile little, and the
// tiles of each block of the ramp can fetch all of the next, twice as wide (one line every
// four k steps of a tile's group of panels: a block of g groups fetches up to 2.7g groups'
// k block over 33 tiles). Paired passes, ramp against none: vitb14 0.9881 ± 0.0027 (80 pairs)
// and 0.9944 ± 0.0028 (100), vits14 0.9870 ± 0.0033 (150), vitl14 1.0080 ± 0.0032 and
// 0.9982 ± 0.0028 (40 each), vitb14 batch 8 1.0033 ± 0.0049 (20).
type blockSplit struct {
	tp, panels int
	ramp       int // ramp blocks
	rampPanels int // their panels
	even       int // blocks of equal width after them
}

// split splits panels into B blocks, with a ramp or without.
func (bl *blocked) split(panels int, ramp bool) blockSplit {
	sp := blockSplit{tp: bl.tp, panels: panels}
	if ramp {
		groups := (panels + bl.tp - 1) / bl.tp
		used := 0
		for g := 1; sp.ramp < 3 && used+g <= groups/2 && panels-(used+g)*bl.tp >= 2*bl.tp; g *= 2 {
			sp.ramp++
			used += g
		}
		sp.rampPanels = used * bl.tp
	}
	sp.even = (panels - sp.rampPanels + bl.nc - 1) / bl.nc
	return sp
}

// blocks is the number of blocks.
func (sp blockSplit) blocks() int { return sp.ramp + sp.even }

// block returns block b's panels [p0, p1).
func (sp blockSplit) block(b int) (p0, p1 int) {
	if b < sp.ramp {
		return ((1 << b) - 1) * sp.tp, ((2 << b) - 1) * sp.tp
	}
	return sp.evenStart(b - sp.ramp), sp.evenStart(b - sp.ramp + 1)
}

// evenStart is the first panel of the blocks of equal width's block b (panels for b ≥ even).
func (sp blockSplit) evenStart(b int) int {
	rest := sp.panels - sp.rampPanels
	groups := (rest + sp.tp - 1) / sp.tp
	return sp.rampPanels + min(rest, min(b, sp.even)*groups/sp.even*sp.tp)
}

// prefetch says which tiles of a block fetch which lines of the next block into L2: the
// next block is runs of lines lines (one per panel, from panel p0 to end), and tile first + j
// fetches its lines [j·slots, (j+1)·slots) in order.
type prefetch struct {
	first, slots   int
	p0, end, lines int
}

// at returns where tile t starts fetching: the panel, the line within it, and how many runs
// (panels) its lines touch; runs is 0 when it fetches nothing.
func (pf prefetch) at(t int) (p, line, runs int) {
	if pf.lines == 0 || t < pf.first {
		return 0, 0, 0
	}
	start := (t - pf.first) * pf.slots
	total := (pf.end - pf.p0) * pf.lines
	if start >= total {
		return 0, 0, 0
	}
	n := min(pf.slots, total-start)
	p, line = pf.p0+start/pf.lines, start%pf.lines
	return p, line, (line + n + pf.lines - 1) / pf.lines
}

// prefetchPlan plans the fetching of the next block of B (panels [p0, end) at k0; none when
// k0 ≥ k) by the whole tiles of a block of np panels and kb k steps: the last tiles fetch it,
// each as many lines as its k steps can issue.
//
// A block's first tile reads its B from wherever it is; from L3 or memory it ran at a third
// to a fifth of the speed of the other tiles, which read it from L2 (timing each tile of 20
// vitb14 passes, scratch: 1.8-3.2 against 0.57-0.62 µs a panel, ~9% of a pass). Lines fetched
// early in a block are mostly gone from L2 by its end (its working set: this block of B, the
// next, A's rows and the tiles of C written meanwhile, ~1.8 of 2 MiB): with the next block
// loaded 33, 22, 16, 12 and 1 tiles before its first, that tile took ~3.5, 3, 3, 2.5 and 2
// times an ordinary one. So the fetching ends with the block (ending it 3 or 6 tiles earlier
// made passes 0.7% slower). It cannot go faster than one line every four k steps: the fetches
// hold line-fill buffers until memory answers, and at two lines per four k steps the tiles
// stalled (passes 2% slower). Against the first tiles
// fetching a panel each (before), paired passes: vitb14 0.9868 ± 0.0029 (80 pairs), vitl14
// 0.9898 ± 0.0045 (40), vits14 0.9873 ± 0.0040 (150).
func (bl *blocked) prefetchPlan(k0, p0, end, k, kc, np, kb, wholeTiles int) prefetch {
	if k0 >= k || end <= p0 || wholeTiles == 0 {
		return prefetch{}
	}
	lines := min(kc, k-k0)
	slots := bl.slots(np, kb) // lines one tile can fetch
	if slots <= 0 {
		return prefetch{}
	}
	total := (end - p0) * lines
	tiles := (total + slots - 1) / slots
	if tiles > wholeTiles {
		tiles = wholeTiles
		slots = (total + tiles - 1) / tiles // more than a tile can fetch: the rest is not fetched
	}
	first := max(0, wholeTiles-tiles)
	return prefetch{first: first, slots: slots, p0: p0, end: end, lines: lines}
}

// slots is the number of lines a whole tile of np panels and kb k steps fetches into L2: one
// every four k steps of each of its groups of tp panels (the AVX-512 kernel runs 3 + 1 panels
// as 2 + 2, and its tiles of two fetch nothing).
func (bl *blocked) slots(np, kb int) int {
	groups := np / bl.tp
	if bl.tp == 3 && np%3 == 1 {
		groups = max(0, np-4) / 3
	}
	return groups * (kb / 4)
}

// packTail copies rows × kb floats of a (row stride lda) to dst with row stride ld, and
// zeroes the rows after them up to mr.
func packTail(dst []float32, ld int, a []float32, lda, rows, kb, mr int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*ld:r*ld+kb], a[r*lda:r*lda+kb])
	}
	for r := rows; r < mr; r++ {
		clear(dst[r*ld : r*ld+kb])
	}
}

// amd64Variant is one amd64 variant: its micro-kernel, tile and GELU.
type amd64Variant struct {
	name       string
	available  bool
	mr         int // rows of a tile
	tilePanels int // panels of a tile
	kernel     microKernel
	nine       bool // the kernel also takes tiles of mr + 1 rows (of two or more panels)
	lastMask   bool
	gelu       func([]float32)
}

// amd64Variants registers the variants (registerAMD64) and drives their tests.
var amd64Variants = []amd64Variant{
	{name: "avx512", available: cpu.X86.HasAVX512F, mr: 8, tilePanels: 3, kernel: sgemm8x48AVX512, nine: true, lastMask: true, gelu: geluSliceAVX512},
	{name: "avx2", available: cpu.X86.HasAVX2 && cpu.X86.HasFMA, mr: 6, tilePanels: 1, kernel: sgemm6x16AVX2, gelu: geluSliceAVX2},
}

func (v amd64Variant) blocked() *blocked {
	bl := newBlocked(v.mr, v.tilePanels, v.kernel, v.lastMask, v.gelu)
	bl.nine = v.nine
	return bl
}

// The variants are registered while the package's variables are initialised, before init
// picks one (GODEBUG=cpu.avx512f=off and the like reach them through x/sys/cpu).
var _ = registerAMD64()

func registerAMD64() bool {
	for _, v := range amd64Variants {
		bl := v.blocked()
		register(&Variant{Name: v.name, Available: v.available, TileRows: v.mr, TileCols: v.tilePanels * PanelWidth, sgemm: bl.sgemmPanels, sgemmFetch: bl.sgemmFetch})
	}
	return true
}

// geluAVX512 replaces each of the n floats at x with gelu(x), the exact (erf) GELU to a few
// float32 ulps (see gelu_amd64.s). n ≥ 0; no alignment is required.
//
//go:noescape
func geluAVX512(x *float32, n int)

// geluAVX2 is geluAVX512 with AVX2 and FMA.
//
//go:noescape
func geluAVX2(x *float32, n int)

func geluSliceAVX512(x []float32) {
	if len(x) > 0 {
		geluAVX512(&x[0], len(x))
	}
}

func geluSliceAVX2(x []float32) {
	if len(x) > 0 {
		geluAVX2(&x[0], len(x))
	}
}
