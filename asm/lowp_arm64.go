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

// neonLowp is a NEON kernel's driver: rows of a tile, rows packed at once, k per call.
type neonLowp struct {
	name  string
	mr    int // rows of the kernel's tile
	mc    int // rows packed at once (a multiple of mr): the panel of B is reused over them
	maxK  int // k per kernel call (a multiple of 16): assembly cannot be preempted
	int8K func(a *int8, astride int, b *int8, k4 int, c *int32, acc int)
}

// A call does at most 6·16·2048 multiply-adds: about 12 µs at 16 G a second (a Cortex-A72
// core at 2 GHz).
var (
	neonWiden = &neonLowp{name: "neon-widen", mr: 6, mc: 48, maxK: 2048}
	neonSDOT  = &neonLowp{name: "neon-sdot", mr: 6, mc: 48, maxK: 2048, int8K: lowpInt8SDOT6x16}
	neonSMULL = &neonLowp{name: "neon-smull", mr: 2, mc: 48, maxK: 2048, int8K: lowpInt8SMULL2x16}
)

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

var _ = registerLowp("neon", true, func() lowpKernels {
	k := lowpKernels{bf16: neonWiden.gemmBF16, bf16Name: neonWiden.name, tileRows: 6}
	if cpu.ARM64.HasASIMDDP {
		k.int8, k.int8Name = neonSDOT.gemmInt8, neonSDOT.name
	} else {
		k.int8, k.int8Name = neonSMULL.gemmInt8, neonSMULL.name
	}
	return k
})

// gemmBF16 is GemmBF16 with lowpBF16NEON6x16.
func (nl *neonLowp) gemmBF16(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue) {
	ke := kEvenOf(k)
	buf := neonBuf(4 * nl.mc * ke)
	defer neonRelease(buf)
	packed := unsafe.Slice((*float32)(unsafe.Pointer(&buf[0])), nl.mc*ke)
	var tile [6 * PanelWidth]float32
	for i0 := 0; i0 < m; i0 += nl.mc {
		mb := min(nl.mc, m-i0)
		for r := 0; r < (mb+nl.mr-1)/nl.mr*nl.mr; r++ {
			dst := packed[r*ke : r*ke+ke]
			if r < mb {
				roundF32Generic(dst[:k], a[(i0+r)*lda:(i0+r)*lda+k])
				clear(dst[k:])
			} else {
				clear(dst)
			}
		}
		for p := 0; p < panelsOf(n); p++ {
			j0 := p * PanelWidth
			cols := min(PanelWidth, n-j0)
			for ir := 0; ir < mb; ir += nl.mr {
				for k0 := 0; k0 < ke; k0 += nl.maxK {
					kb := min(nl.maxK, ke-k0)
					lowpBF16NEON6x16(&packed[ir*ke+k0], 4*ke, &b[p*ke*PanelWidth+k0*PanelWidth], kb/2, &tile[0], min(k0, 1))
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
// u - 128 (signed bytes for SDOT), so the zero point is z - 128.
func (nl *neonLowp) gemmInt8(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue) {
	k4 := k4Of(k)
	buf := neonBuf(nl.mc * k4)
	defer neonRelease(buf)
	packed := unsafe.Slice((*int8)(unsafe.Pointer(&buf[0])), nl.mc*k4)
	rowS := make([]float32, nl.mc)
	rowZ := make([]int32, nl.mc)
	var tile [6 * PanelWidth]int32
	var out [PanelWidth]float32
	for i0 := 0; i0 < m; i0 += nl.mc {
		mb := min(nl.mc, m-i0)
		for r := 0; r < (mb+nl.mr-1)/nl.mr*nl.mr; r++ {
			dst := packed[r*k4 : r*k4+k4]
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
		}
		for p := 0; p < panelsOf(n); p++ {
			j0 := p * PanelWidth
			cols := min(PanelWidth, n-j0)
			for ir := 0; ir < mb; ir += nl.mr {
				for k0 := 0; k0 < k4; k0 += nl.maxK {
					kb := min(nl.maxK, k4-k0)
					nl.int8K(&packed[ir*k4+k0], k4, &b[p*k4*PanelWidth+k0*PanelWidth], kb/4, &tile[0], min(k0, 1))
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
