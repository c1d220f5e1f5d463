//go:build !purego

package asm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The neon variant's low-precision kernels. Each computes one tile into a scratch tile over a
// range of k; Go packs the rows of A (rounding them to bfloat16, or quantizing them to signed
// bytes), applies the bias, the int8 scales and the epilogue, and loops over the panels with
// a block of rows packed at once.

// lowpBF16NEON6x16 computes the 6×16 tile c[i][j] (+)= Σ a_i[kk]·bf16(b[kk][j]) over kp pairs
// of k, in float32 in increasing k: a holds 6 rows of 2·kp floats (rounded to bfloat16),
// astride bytes apart; b one panel in PackBF16's layout from the range's first k; c the tile,
// 16 floats a row, which holds the starting sums when acc ≠ 0. No alignment is required.
//
//go:noescape
func lowpBF16NEON6x16(a *float32, astride int, b *uint16, kp int, c *float32, acc int)

// lowpBF16BFDOT6x16 is lowpBF16NEON6x16 with BFDOT (FEAT_BF16): a holds 6 rows of 2·kp
// bfloat16 values, astride bytes apart. BFDOT rounds differently from FMLA (see the bf16 notes
// on neonBFDOT).
//
//go:noescape
func lowpBF16BFDOT6x16(a *uint16, astride int, b *uint16, kp int, c *float32, acc int)

// lowpInt8SDOT6x16 computes the 6×16 tile c[i][j] (+)= Σ a_i[kk]·b[kk][j] over k4 groups of 4 k
// in int32 with SDOT (FEAT_DotProd): a holds 6 rows of 4·k4 signed bytes, astride bytes
// apart; b one panel in PackInt8's layout; c the tile of int32.
//
//go:noescape
func lowpInt8SDOT6x16(a *int8, astride int, b *int8, k4 int, c *int32, acc int)

// lowpInt8SMULL2x16 is lowpInt8SDOT6x16 for 2 rows with SMULL and SADALP, for CPUs without
// DotProd.
//
//go:noescape
func lowpInt8SMULL2x16(a *int8, astride int, b *int8, k4 int, c *int32, acc int)

// lowpInt8SMMLA6x16 is lowpInt8SDOT6x16 with SMMLA (FEAT_I8MM) on a's six rows interleaved
// by pairs of rows, 48 bytes per 8 k: a_i[kk] at a[48(kk/8) + 16(i/2) + 8(i%2) + kk%8], zero
// from k4·4 to the next multiple of 8 (see neonLowp.pairs).
//
//go:noescape
func lowpInt8SMMLA6x16(a *int8, b *int8, k4 int, c *int32, acc int)

// neonLowp is a NEON kernel's driver: rows of a tile, rows packed at once, k per call.
type neonLowp struct {
	name  string
	mr    int  // rows of the kernel's tile
	mc    int  // rows packed at once (a multiple of mr): the panel of B is reused over them
	maxK  int  // k per kernel call (a multiple of 16): assembly cannot be preempted
	pairs bool // int8K reads A as lowpInt8SMMLA6x16 does (mr = 6), not as rows astride bytes apart

	// bf16K runs on rows of bfloat16; nil: lowpBF16NEON6x16 on rows of float32.
	bf16K func(a *uint16, astride int, b *uint16, kp int, c *float32, acc int)
	int8K func(a *int8, astride int, b *int8, k4 int, c *int32, acc int)
}

// A call does at most 6·16·2048 multiply-adds: about 12 µs at 16 G a second (a Cortex-A72
// core at 2 GHz).
//
// neonBFDOT's sums are not neonWiden's bit for bit. Per pair of k, FMLA rounds the running sum
// s twice to nearest (each error ≤ 2⁻²⁴|s|); BFDOT (FPCR.EBF = 0, Arm ARM C7.2.16) rounds the
// pair's sum t and then s + t, both to odd (each error < 1 ulp: < 2⁻²³|t| and < 2⁻²³|s|), its
// products being exact (8-bit significands) but flushed to zero below 2⁻¹²⁶, denormal inputs
// read as zero. Summed over k/2 pairs, the bound is (k/2)·2⁻²³ of the row's magnitude for FMLA
// and (k/2 + 1)·2⁻²³ for BFDOT, plus k·2⁻¹²⁶ in absolute terms for the flushes: 6.1e-6 for
// k = 100, within the tests' 1e-5 as FMLA's 6.0e-6 is. Beyond that both rely on errors of
// either sign cancelling (round to odd is unbiased; its spread is twice round to nearest's, on
// one rounding of s a pair instead of two): TestLowpBFDOTError measures both, and
// TestLowpBFDOTRounding checks BFDOT bit for bit against the Arm ARM's pseudocode.
var (
	neonWiden = &neonLowp{name: "neon-widen", mr: 6, mc: 48, maxK: 2048}
	neonBFDOT = &neonLowp{name: "neon-bfdot", mr: 6, mc: 48, maxK: 2048, bf16K: lowpBF16BFDOT6x16}
	neonSDOT  = &neonLowp{name: "neon-sdot", mr: 6, mc: 48, maxK: 2048, int8K: lowpInt8SDOT6x16}
	neonI8MM  = &neonLowp{name: "neon-i8mm", mr: 6, mc: 48, maxK: 2048, int8K: smmla6x16, pairs: true}
	neonSMULL = &neonLowp{name: "neon-smull", mr: 2, mc: 48, maxK: 2048, int8K: lowpInt8SMULL2x16}
)

// smmla6x16 is lowpInt8SMMLA6x16 as an int8K (its rows are not astride bytes apart).
func smmla6x16(a *int8, _ int, b *int8, k4 int, c *int32, acc int) {
	lowpInt8SMMLA6x16(a, b, k4, c, acc)
}

// neonBufs are free buffers for packed A (a free list rather than a sync.Pool: they survive
// garbage collections).
var neonBufs = make(chan []byte, 16)

// neonBuf returns a buffer of at least size bytes, 8-byte aligned.
func neonBuf(size int) []byte {
	var b []byte
	select {
	case b = <-neonBufs:
	default:
	}
	if cap(b) < size {
		b = make([]byte, size, max(size, 1<<20))
	}
	return b[:size]
}

func neonRelease(b []byte) {
	select {
	case neonBufs <- b:
	default:
	}
}

// The kernels of the neon variant, by what the CPU has: BFDOT with FEAT_BF16 (reported by the OS:
// hasBF16, lowp_hwcap_*.go), else float32 FMLA on widened values; SMMLA with FEAT_I8MM, else
// SDOT with DotProd, else SMULL.
var _ = registerLowp("neon", true, func() lowpKernels {
	bf, i8 := neonBF16Kernel(hasBF16()), neonInt8Kernel(cpu.ARM64.HasI8MM, cpu.ARM64.HasASIMDDP)
	return lowpKernels{bf16: bf.gemmBF16, int8: i8.gemmInt8, bf16Name: bf.name, int8Name: i8.name, tileRows: 6}
})

func neonBF16Kernel(bf16 bool) *neonLowp {
	if bf16 {
		return neonBFDOT
	}
	return neonWiden
}

func neonInt8Kernel(i8mm, dotProd bool) *neonLowp {
	switch {
	case i8mm:
		return neonI8MM
	case dotProd:
		return neonSDOT
	}
	return neonSMULL
}

// gemmBF16 is GemmBF16 with lowpBF16NEON6x16 (a rounded to bfloat16, kept as float32) or
// nl.bf16K (a in bfloat16).
func (nl *neonLowp) gemmBF16(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue) {
	ke := kEvenOf(k)
	size := 4 // bytes a packed value
	if nl.bf16K != nil {
		size = 2
	}
	buf := neonBuf(size * nl.mc * ke)
	defer neonRelease(buf)
	packedF := unsafe.Slice((*float32)(unsafe.Pointer(&buf[0])), len(buf)/4)
	packedH := unsafe.Slice((*uint16)(unsafe.Pointer(&buf[0])), len(buf)/2)
	var tile [6 * PanelWidth]float32
	for i0 := 0; i0 < m; i0 += nl.mc {
		mb := min(nl.mc, m-i0)
		for r := 0; r < (mb+nl.mr-1)/nl.mr*nl.mr; r++ {
			var x []float32
			if r < mb {
				x = a[(i0+r)*lda : (i0+r)*lda+k]
			}
			if nl.bf16K != nil {
				dst := packedH[r*ke : r*ke+ke]
				roundBF16Generic(dst, x)
				clear(dst[len(x):])
			} else {
				dst := packedF[r*ke : r*ke+ke]
				roundF32Generic(dst, x)
				clear(dst[len(x):])
			}
		}
		for p := 0; p < panelsOf(n); p++ {
			j0 := p * PanelWidth
			cols := min(PanelWidth, n-j0)
			for ir := 0; ir < mb; ir += nl.mr {
				for k0 := 0; k0 < ke; k0 += nl.maxK {
					kb := min(nl.maxK, ke-k0)
					bp := &b[p*ke*PanelWidth+k0*PanelWidth]
					if nl.bf16K != nil {
						nl.bf16K(&packedH[ir*ke+k0], 2*ke, bp, kb/2, &tile[0], min(k0, 1))
					} else {
						lowpBF16NEON6x16(&packedF[ir*ke+k0], 4*ke, bp, kb/2, &tile[0], min(k0, 1))
					}
				}
				for r := 0; r < min(nl.mr, mb-ir); r++ {
					i := i0 + ir + r
					finish(c[i*ldc+j0:i*ldc+j0+cols], tile[r*PanelWidth:r*PanelWidth+cols], bias, j0, epi)
				}
			}
		}
	}
}

// gemmInt8 is GemmInt8 with nl's int8 kernel: a quantized to u8 as everywhere, stored as
// u - 128 (signed bytes for SDOT and SMMLA), so the zero point is z - 128. The rows are packed
// kq = k4 bytes apart, or, for SMMLA (nl.pairs), kq = k rounded up to a multiple of 8 and
// interleaved: tiles of 6 rows, 6·kq bytes each, holding each 8 k as 3 pairs of rows × 8 bytes.
func (nl *neonLowp) gemmInt8(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue) {
	k4 := k4Of(k)
	kq := k4
	var row []int8 // a row before it is interleaved
	if nl.pairs {
		kq = (k + 7) &^ 7
		row = make([]int8, kq)
	}
	buf := neonBuf(nl.mc * kq)
	defer neonRelease(buf)
	packed := unsafe.Slice((*int8)(unsafe.Pointer(&buf[0])), nl.mc*kq)
	rowS := make([]float32, nl.mc)
	rowZ := make([]int32, nl.mc)
	var tile [6 * PanelWidth]int32
	var out [PanelWidth]float32
	for i0 := 0; i0 < m; i0 += nl.mc {
		mb := min(nl.mc, m-i0)
		for r := 0; r < (mb+nl.mr-1)/nl.mr*nl.mr; r++ {
			dst := row
			if !nl.pairs {
				dst = packed[r*kq : r*kq+kq]
			}
			if r < mb {
				x := a[(i0+r)*lda : (i0+r)*lda+k]
				s, inv, z := quantParams(rangeGeneric(x))
				rowS[r], rowZ[r] = s, z-128
				for kk, v := range x {
					dst[kk] = int8(int32(quantize(v, inv, z)) - 128)
				}
				clear(dst[k:])
			} else {
				clear(dst)
			}
			if nl.pairs { // row r of its tile: pair (r%6)/2, half r%2 of each 48 bytes
				base := (r/6)*6*kq + (r%6/2)*16 + (r%2)*8
				for k8 := 0; k8 < kq; k8 += 8 {
					copy(packed[base+6*k8:base+6*k8+8], dst[k8:k8+8])
				}
			}
		}
		for p := 0; p < panelsOf(n); p++ {
			j0 := p * PanelWidth
			cols := min(PanelWidth, n-j0)
			for ir := 0; ir < mb; ir += nl.mr {
				for k0 := 0; k0 < k4; k0 += nl.maxK {
					kb := min(nl.maxK, k4-k0)
					ap := &packed[ir*kq+k0] // row ir, k0
					if nl.pairs {
						ap = &packed[ir*kq+6*k0] // tile ir/6 (at 6·kq·ir/6), its 8 k from k0 on
					}
					nl.int8K(ap, kq, &b[p*k4*PanelWidth+k0*PanelWidth], kb/4, &tile[0], min(k0, 1))
				}
				for r := 0; r < min(nl.mr, mb-ir); r++ {
					i := i0 + ir + r
					for j := 0; j < cols; j++ {
						out[j] = float32(tile[r*PanelWidth+j]-rowZ[ir+r]*sums[j0+j]) * rowS[ir+r] * scales[j0+j]
					}
					finish(c[i*ldc+j0:i*ldc+j0+cols], out[:cols], bias, j0, epi)
				}
			}
		}
	}
}
