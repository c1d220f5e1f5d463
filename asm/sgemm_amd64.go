//go:build !purego

package asm

import (
	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// aRowStride is the distance in floats between the packed rows of A that the kernels read
// (AROWB/4 in sgemm_amd64.s); it bounds the k block. It is not a multiple of 1024 so that the
// rows of a tile fall in different L1 sets.
const aRowStride = 528

// sgemm12x32AVX512 computes a strip of 12×32 tiles over one block of k:
//
//	c[r*ldc + 16p + j] = a·b + bias[16p+j]         (flags&1 == 0)
//	c[r*ldc + 16p + j] += a·b + bias[16p+j]        (flags&1 == 1)
//	a·b = Σ_{kk<kc} a[r*aRowStride + kk] · b[p*pstride + 16kk + j]
//
// for rows r < rows (1 ≤ rows ≤ 12), panels p < panels (≥ 0) and columns j < 16, except that
// in the last panel only the columns whose bit is set in lastMask (a 16-bit mask, low bits
// first) are read from bias and c or written. a must hold 12 packed rows of kc floats
// (rows ≥ rows hold anything finite); bias may be nil. kc ≥ 0 and kc ≤ aRowStride. With
// flags&2 (flagPrefetchB) it also prefetches, while reading each pair of panels, the pair after
// it (even past the last panel: a prefetch does not fault); the result is the same. No alignment
// is required. Go assembly is not preemptible: the driver gives one call about 1.6·10⁶
// multiply-adds (12 rows × 512 columns × kc = 256), some 15 µs.
//
//go:noescape
func sgemm12x32AVX512(a *float32, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int)

// sgemm6x16AVX2 is sgemm12x32AVX512 for 6×16 tiles with AVX2 and FMA: 6 packed rows of a,
// 1 ≤ rows ≤ 6, and lastCols (1..16) the number of columns of the last panel.
//
//go:noescape
func sgemm6x16AVX2(a *float32, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, lastCols int, bias *float32, flags int)

// microKernel is the signature shared by the kernels above; last is lastMask or lastCols.
type microKernel func(a *float32, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, last int, bias *float32, flags int)

// flagAccumulate makes a kernel add its result to c; flagPrefetchB makes sgemm12x32AVX512
// prefetch each next pair of panels of B (the AVX2 kernel ignores it).
const (
	flagAccumulate = 1
	flagPrefetchB  = 2
)

// blocked drives a micro-kernel over a whole Sgemm with cache blocking: a block of k
// (kc ≤ aRowStride) so that a tile's packed rows of A stay in L1 while the kernel sweeps the
// panels, nc panels of B (kc×16·nc floats) that stay in L2 while the tiles of mc packed rows
// reuse them.
type blocked struct {
	mr         int // rows of a tile
	kc, mc, nc int // k block, rows per packed block of A (a multiple of mr), panels per B block
	mcWhole    int // up to this many rows (a multiple of mr) are packed as one block
	kernel     microKernel
	lastMask   bool              // kernel takes the last panel's columns as a bit mask
	gelu       func(x []float32) // the GELU epilogue, in place
	scratch    chan []float32    // free buffers of mc×aRowStride floats for packed A
}

func newBlocked(mr, tilePanels int, kernel microKernel, lastMask bool, gelu func([]float32)) *blocked {
	l1, l2 := cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 1 << 20
	}
	bl := &blocked{mr: mr, kernel: kernel, lastMask: lastMask, gelu: gelu}
	// Measured on a 48 KiB L1, 2 MiB L2 (Sapphire Rapids), 12×32 tiles: the tile's packed A
	// takes a quarter of L1 (kc = 256); a block of B, a quarter of L2; the packed A block, a
	// tenth. Twice as much of either cache was 10% slower. But a product of few rows (the 257
	// of a batch-1 ViT) is packed whole, in up to a quarter of L2: then each block of B comes
	// from L3 once rather than once per block of rows (vitb14 at batch 1: 3% faster).
	bl.kc = min(aRowStride, max(64, l1/(4*4*mr))&^7)
	bl.nc = max(tilePanels, (l2/4/(4*PanelWidth*bl.kc))/tilePanels*tilePanels)
	bl.mc = max(mr, (l2/10/(4*bl.kc))/mr*mr)
	bl.mcWhole = max(bl.mc, (l2/4/(4*bl.kc))/mr*mr)
	bl.scratch = make(chan []float32, 64)
	return bl
}

func (bl *blocked) sgemm(m, n, k int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, epi Epilogue) {
	if k == 0 {
		sgemmGeneric(m, n, k, a, lda, b, c, ldc, bias, epi)
		return
	}
	panels := (n + PanelWidth - 1) / PanelWidth
	lastCols := n - PanelWidth*(panels-1)
	// Equal blocks of k and of rows: a short last block would reload B for little work.
	kBlocks := (k + bl.kc - 1) / bl.kc
	kc := (k + kBlocks - 1) / kBlocks
	mBlocks := (m + bl.mc - 1) / bl.mc
	if m <= bl.mcWhole {
		mBlocks = 1
	}
	mc := ((m+mBlocks-1)/mBlocks + bl.mr - 1) / bl.mr * bl.mr
	// A free list rather than a sync.Pool: buffers survive garbage collections.
	var packed []float32
	select {
	case packed = <-bl.scratch:
	default:
		packed = make([]float32, bl.mcWhole*aRowStride)
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
			packA(packed, a[i0*lda+k0:], lda, mb, kb, bl.mr)
			for p0 := 0; p0 < panels; p0 += bl.nc {
				np := min(bl.nc, panels-p0)
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
				for ir := 0; ir < mb; ir += bl.mr {
					rows := min(bl.mr, mb-ir)
					c0 := (i0+ir)*ldc + p0*PanelWidth
					f := flags
					if ir == 0 {
						// The first tile to read this block of B brings it into cache.
						f |= flagPrefetchB
					}
					bl.kernel(&packed[ir*aRowStride], &b[(p0*k+k0)*PanelWidth], &c[c0], kb, np, k*PanelWidth, ldc, rows, last, bp, f)
					if gelu {
						for r := 0; r < rows; r++ {
							bl.gelu(c[c0+r*ldc : c0+r*ldc+cols])
						}
					}
				}
			}
		}
	}
	select {
	case bl.scratch <- packed:
	default:
	}
}

// packA copies rows × kb floats of a (row stride lda) to dst with row stride aRowStride, and
// zeroes the rows up to the next multiple of mr.
func packA(dst, a []float32, lda, rows, kb, mr int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*aRowStride:r*aRowStride+kb], a[r*lda:r*lda+kb])
	}
	for r := rows; r%mr != 0; r++ {
		clear(dst[r*aRowStride : r*aRowStride+kb])
	}
}

// amd64Variant is one amd64 variant: its micro-kernel, tile and GELU.
type amd64Variant struct {
	name       string
	available  bool
	mr         int // rows of a tile
	tilePanels int // panels of a tile
	kernel     microKernel
	lastMask   bool
	gelu       func([]float32)
}

// amd64Variants registers the variants (registerAMD64) and drives their tests.
var amd64Variants = []amd64Variant{
	{name: "avx512", available: cpu.X86.HasAVX512F, mr: 12, tilePanels: 2, kernel: sgemm12x32AVX512, lastMask: true, gelu: geluSliceAVX512},
	{name: "avx2", available: cpu.X86.HasAVX2 && cpu.X86.HasFMA, mr: 6, tilePanels: 1, kernel: sgemm6x16AVX2, gelu: geluSliceAVX2},
}

func (v amd64Variant) blocked() *blocked {
	return newBlocked(v.mr, v.tilePanels, v.kernel, v.lastMask, v.gelu)
}

// The variants are registered while the package's variables are initialised, before init
// picks one (GODEBUG=cpu.avx512f=off and the like reach them through x/sys/cpu).
var _ = registerAMD64()

func registerAMD64() bool {
	for _, v := range amd64Variants {
		register(&Variant{Name: v.name, Available: v.available, TileRows: v.mr, TileCols: v.tilePanels * PanelWidth, sgemm: v.blocked().sgemm})
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
