//go:build !purego

package asm

import (
	"sync"
	"time"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// The low-precision kernels of the amd64 variants, and the driver that blocks for the caches
// around them (as blocked does for Sgemm). Each kernel computes a strip of register (or AMX)
// tiles over one block of k from a packed block of A; how A is packed depends on the kernel:
//
//	kernel                   tile   A packed as                       B step
//	lowpBF16Widen12x32       12×32  float32 rounded to bfloat16        2 k (widened: b<<16, b&ffff0000)
//	lowpBF16DP12x32          12×32  bfloat16 pairs                     2 k (VDPBF16PS)
//	lowpBF16Widen6x16AVX2     6×16  float32 rounded to bfloat16        2 k
//	lowpBF16AMX32x32         32×32  bfloat16 pairs                    32 k (TDPBF16PS)
//	lowpInt8VNNI12x32        12×32  u8                                 4 k (VPDPBUSD zmm)
//	lowpInt8AVXVNNI6x16       6×16  u8                                 4 k (VPDPBUSD ymm, VEX)
//	lowpInt8MADDWD6x16        6×16  u8 widened to int16                4 k (VPMADDWD, 8 columns at a time)
//	lowpInt8AMX32x32         32×32  u8                                64 k (TDPBUSD)
//
// The "avx512" variant runs AMX where the CPU has it and the OS grants it (with a vector kernel
// for the last k % 32 or k % 64); else for bf16 the faster on this CPU of VDPBF16PS and
// widening (measured once, see dpbf16Faster: on Sapphire Rapids VDPBF16PS zmm issues at a
// quarter of VFMADD231PS's rate, half its multiply-adds, so widening is faster; on Zen 4 the
// opposite is expected), and for int8 VPDPBUSD where the CPU has AVX512_VNNI, else the AVX2
// kernel. The "avx2" variant runs the 6×16 kernels, with AVX-VNNI where the CPU has it.
//
// Measured on this project's development machine (Sapphire Rapids, one core; register-only
// loops, TestLowpPeak), in multiply-adds per second: VFMADD231PS zmm 124 G, VDPBF16PS zmm 62 G,
// VPDPBUSD zmm 498 G, VFMADD231PS ymm 63 G, VPDPBUSD ymm (AVX-VNNI) 268 G, VPMADDWD+VPADDD ymm
// 95 G, TDPBF16PS 1936 G, TDPBUSD 3872 G.

// lowpARow is the byte stride between packed rows of A (LAROWB in lowp_amd64.s): it bounds the
// k block of the vector kernels (528 floats, 1056 bfloat16, 2112 bytes) and is not a multiple
// of 4 KiB, so that the rows of a tile fall in different L1 sets.
const lowpARow = 2112

// lowpBF16Widen12x32 computes a strip of 12×32 tiles of c = a·b over one block of k, b in
// bfloat16 pairs and a in float32 (rounded to bfloat16):
//
//	c[r*ldc + 16p + j] (+)= Σ_{kk < 2·ksteps} a[r*528 + kk]·bf16(b[p*pstride/2 + 32(kk/2) + 2j + kk%2]) + bias[16p+j]
//
// for rows r < rows (1 ≤ rows ≤ 12), panels p < panels (≥ 0) and columns j < 16, except that in
// the last panel only the columns whose bit is set in lastMask are read from bias and c or
// written; with flags&1 the result is added to c. pstride is the panel stride in bytes; a must
// hold 12 rows 2112 bytes apart of 2·ksteps floats (rows ≥ rows finite); bias may be nil. With
// flags&2 it prefetches each next pair of panels while reading a pair. No alignment is required.
//
//go:noescape
func lowpBF16Widen12x32(a *byte, b *uint16, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int)

// lowpBF16DP12x32 is lowpBF16Widen12x32 with VDPBF16PS: a holds 12 rows 2112 bytes apart of
// ksteps pairs of bfloat16 (k even in the low half).
//
//go:noescape
func lowpBF16DP12x32(a *byte, b *uint16, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int)

// lowpInt8Epi is what the int8 kernels need to turn int32 sums into floats:
//
//	c[r][j] (+)= (float32(acc[r][j] - rowZP[r]·colSum[j])·rowScale[r])·colScale[j] + bias[j]
//
// bias, colScale and colSum from the call's first column (bias never nil: zeros for none),
// rowScale and rowZP from the call's first row. Its layout is known to the assembly (EPI_*).
type lowpInt8Epi struct {
	bias     *float32
	colScale *float32
	colSum   *int32
	rowScale *float32
	rowZP    *int32
}

// lowpInt8VNNI12x32 computes a strip of 12×32 tiles over one block of k with VPDPBUSD:
//
//	acc[r][16p+j] = Σ_{kk < 4·ksteps} a[r*2112 + kk]·b[p*pstride + 64(kk/4) + 4j + kk%4]
//
// (a unsigned, b signed bytes), then c = acc turned into floats as lowpInt8Epi says, masks,
// flags and arguments as for lowpBF16Widen12x32.
//
//go:noescape
func lowpInt8VNNI12x32(a *byte, b *int8, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, ep *lowpInt8Epi, flags int)

// lowpBuf is one call's scratch: packed A, the per-row quantization of A (int8), the column
// arrays padded to whole panels (int8) and a tile for a partial last panel.
type lowpBuf struct {
	a        []byte
	rowScale []float32
	rowInv   []float32
	rowZP    []int32
	zeroZP   []int32 // zeros: rowZP after the first k block
	colScale []float32
	colSum   []int32
	bias     []float32
	zeroBias []float32 // zeros: the bias after the first k block
	tile     []float32 // 32×32 floats, 64-byte aligned: AMX's results, or a partial last panel's
}

// lowpDriver blocks a low-precision product for the caches around one kernel (see blocked):
// a block of k whose packed tile of A stays in L1 while the kernel sweeps the panels, nc
// panels of B that stay in L2 while the tiles of mc packed rows reuse them.
type lowpDriver struct {
	name    string
	mr      int  // rows of a tile
	masks   bool // the kernel masks the last panel's columns (else it takes whole panels only)
	kAlign  int  // the kernel's k step: blocks of k are multiples of it (but the last)
	aBytesK int  // bytes of packed A per k
	aStride int  // bytes between packed rows of A
	kc      int  // k block
	mc, nc  int  // rows per packed block of A (a multiple of mr), panels per block of B (even)
	mcWhole int  // up to this many rows are packed as one block
	maxCall int  // multiply-adds in one kernel call (assembly cannot be preempted)
	bBytesK int  // bytes of a panel of B per k and column
	// dynamic: the blocks are sized from each product's k (AMX): k in blocks of up to kc,
	// packed rows of A kc·aBytesK + 64 bytes apart (64-byte aligned), mc rows and nc panels
	// filling a third of L2 each.
	dynamic bool
	gelu    func([]float32)
	pool    chan *lowpBuf
}

// newLowpDriver sizes the blocks from the cache sizes as newBlocked does: the tile's packed A
// in a quarter of L1, a block of B in a quarter of L2, the packed block of A in a tenth
// (a quarter when packed whole). maxCall bounds the multiply-adds of one kernel call: about
// 10 µs at the kernel's measured rate.
func newLowpDriver(name string, mr, kAlign, aBytesK, aStride, bBytesK, maxCall int, masks bool, gelu func([]float32)) *lowpDriver {
	l1, l2 := cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2
	if l1 <= 0 {
		l1 = 32 << 10
	}
	if l2 <= 0 {
		l2 = 1 << 20
	}
	d := &lowpDriver{name: name, mr: mr, masks: masks, kAlign: kAlign, aBytesK: aBytesK, aStride: aStride, bBytesK: bBytesK, gelu: gelu}
	d.kc = min(aStride/aBytesK, max(64, l1/(4*aBytesK*mr)))
	d.kc = max(kAlign, d.kc/kAlign*kAlign)
	d.nc = max(2, (l2/4/(bBytesK*PanelWidth*d.kc))&^1)
	d.mc = max(mr, (l2/10/(aBytesK*d.kc))/mr*mr)
	d.mcWhole = max(d.mc, (l2/4/(aBytesK*d.kc))/mr*mr)
	d.maxCall = maxCall
	d.pool = make(chan *lowpBuf, 64)
	return d
}

// buf returns a scratch buffer for m rows and n columns.
func (d *lowpDriver) buf(m, n int) *lowpBuf {
	var bf *lowpBuf
	select {
	case bf = <-d.pool:
	default:
		bf = &lowpBuf{}
	}
	rows := m + d.mr
	if len(bf.rowScale) < rows {
		bf.rowScale, bf.rowInv, bf.rowZP = make([]float32, rows), make([]float32, rows), make([]int32, rows)
	}
	if len(bf.zeroZP) < d.mr {
		bf.zeroZP = make([]int32, d.mr)
	}
	cols := panelsOf(n)*PanelWidth + PanelWidth
	if len(bf.colScale) < cols {
		bf.colScale, bf.colSum, bf.bias, bf.zeroBias = make([]float32, cols), make([]int32, cols), make([]float32, cols), make([]float32, cols)
	}
	if len(bf.tile) < 32*32 {
		t := make([]float32, 32*32+16)
		off := int(-uintptr(unsafe.Pointer(&t[0])) & 63 / 4)
		bf.tile = t[off : off+32*32]
	}
	return bf
}

// packed returns bf's buffer for packed A, size bytes, 64-byte aligned (so that each 64-byte
// row of an AMX tile is one cache line).
func (bf *lowpBuf) packed(size int) []byte {
	if len(bf.a) < size+64 {
		bf.a = make([]byte, size+64)
	}
	off := int(-uintptr(unsafe.Pointer(&bf.a[0])) & 63)
	return bf.a[off : off+size]
}

func (d *lowpDriver) release(bf *lowpBuf) {
	select {
	case d.pool <- bf:
	default:
	}
}

// lowpRange is one call of run: columns, the k range [k0, k1) of the product (a part of k
// when another kernel does the rest), and what the first and last blocks do.
type lowpRange struct {
	m, n, k0, k1 int
	c            []float32
	ldc          int
	accumulate   bool // the first block adds to c
	gelu         bool // the last block is followed by GELU
	head         bool // the range starts the product: its first block adds the bias (and, for int8, subtracts the zero points)
}

// lowpBlocks are the blocks of one run: k block, rows per packed block of A and their stride
// in bytes, panels per block of B.
type lowpBlocks struct {
	kc, mc, aStride, nc int
}

// run drives a kernel over r: pack(packed, stride, i0, rows, k0, kb) packs rows × kb of A
// starting at row i0 and k0 into packed, stride bytes a row (and zeroes the rows up to the
// next multiple of mr); call(...) runs the kernel on the tile of rows from packed row ir (row
// i of the product), panels [p0, p0+np), writing c (ldc) with the kernel's last-panel
// argument and flags; head says whether this is the product's first block of k (r.head and
// the range's first block).
func (d *lowpDriver) run(r lowpRange, bf *lowpBuf,
	pack func(packed []byte, stride, i0, rows, k0, kb int),
	call func(packed []byte, stride, ir, i, rows, k0, kb, p0, np int, c *float32, ldc, last, flags int, head bool)) {
	m, n := r.m, r.n
	panels := panelsOf(n)
	lastCols := n - PanelWidth*(panels-1)
	k := r.k1 - r.k0
	kBlocks := (k + d.kc - 1) / d.kc
	kc := ((k+kBlocks-1)/kBlocks + d.kAlign - 1) / d.kAlign * d.kAlign
	bl := lowpBlocks{kc: kc, mc: d.mc, aStride: d.aStride, nc: d.nc}
	mcWhole := d.mcWhole
	if d.dynamic {
		l2 := l2Size()
		bl.aStride = kc*d.aBytesK + 64
		bl.mc = max(d.mr, l2/3/bl.aStride/d.mr*d.mr)
		bl.nc = max(2, l2/3/(d.bBytesK*PanelWidth*kc)&^1)
		mcWhole = bl.mc
	}
	mBlocks := (m + bl.mc - 1) / bl.mc
	if m <= mcWhole {
		mBlocks = 1
	}
	mc := ((m+mBlocks-1)/mBlocks + d.mr - 1) / d.mr * d.mr
	packed := bf.packed(mc * bl.aStride)
	for k0 := r.k0; k0 < r.k1; k0 += kc {
		kb := min(kc, r.k1-k0)
		first := k0 == r.k0
		head := first && r.head
		flags := 0
		if !first || r.accumulate {
			flags = flagAccumulate
		}
		gelu := r.gelu && k0+kb == r.k1
		// Panels per call: about 10 µs of work (at least a pair).
		callPanels := max(2, d.maxCall/(d.mr*PanelWidth*kb)&^1)
		for i0 := 0; i0 < m; i0 += mc {
			mb := min(mc, m-i0)
			pack(packed, bl.aStride, i0, mb, k0, kb)
			for p0 := 0; p0 < panels; p0 += bl.nc {
				np := min(bl.nc, panels-p0)
				for ir := 0; ir < mb; ir += d.mr {
					rows := min(d.mr, mb-ir)
					i := i0 + ir
					f := flags
					if ir == 0 {
						f |= flagPrefetchB // the first tile to read this block of B brings it into cache
					}
					for q0 := p0; q0 < p0+np; q0 += callPanels {
						nq := min(callPanels, p0+np-q0)
						whole := nq
						last := PanelWidth
						if q0+nq == panels {
							last = lastCols
							if !d.masks && lastCols < PanelWidth {
								whole--
							}
						}
						if d.masks {
							call(packed, bl.aStride, ir, i, rows, k0, kb, q0, nq, &r.c[i*r.ldc+q0*PanelWidth], r.ldc, 1<<last-1, f, head)
						} else {
							if whole > 0 {
								call(packed, bl.aStride, ir, i, rows, k0, kb, q0, whole, &r.c[i*r.ldc+q0*PanelWidth], r.ldc, PanelWidth, f, head)
							}
							if whole < nq {
								// A partial last panel: into the tile, then the columns it has.
								p := q0 + whole
								call(packed, bl.aStride, ir, i, rows, k0, kb, p, 1, &bf.tile[0], PanelWidth, PanelWidth, f&^flagAccumulate, head)
								for rr := 0; rr < rows; rr++ {
									cr := r.c[(i+rr)*r.ldc+p*PanelWidth : (i+rr)*r.ldc+n]
									t := bf.tile[rr*PanelWidth : rr*PanelWidth+len(cr)]
									if f&flagAccumulate != 0 {
										for j, v := range t {
											cr[j] += v
										}
									} else {
										copy(cr, t)
									}
								}
							}
						}
					}
					if gelu {
						c0 := i*r.ldc + p0*PanelWidth
						cols := min(np*PanelWidth, n-p0*PanelWidth)
						for rr := 0; rr < rows; rr++ {
							d.gelu(r.c[c0+rr*r.ldc : c0+rr*r.ldc+cols])
						}
					}
				}
			}
		}
	}
}

// lowpBF16Call is the signature the driver calls a bf16 kernel with: the 12×32 kernels' own,
// plus AMX's row stride of A and scratch tile (the vector kernels ignore them).
type lowpBF16Call func(a *byte, b *uint16, c *float32, ksteps, panels, pstride, ldc, rows, last int, bias *float32, flags int, astride int, tile *float32)

// lowpBF16Kernel is a bf16 kernel with its driver and its packing of A.
type lowpBF16Kernel struct {
	name      string
	available bool
	d         *lowpDriver
	kstep     int  // k per kernel step: 2, or 32 for AMX
	pairs     bool // A packed as bfloat16 pairs (else float32 rounded to bfloat16)
	roundF32  func(dst, x []float32)
	roundBF16 func(dst []uint16, x []float32)
	kernel    lowpBF16Call
}

// gemm is GemmBF16 with this kernel.
func (kn *lowpBF16Kernel) gemm(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue) {
	d := kn.d
	bf := d.buf(m, n)
	kn.run(lowpRange{m: m, n: n, k0: 0, k1: k, c: c, ldc: ldc, accumulate: epi == Accumulate, gelu: epi == GELU, head: true}, bf, k, a, lda, b, bias)
	d.release(bf)
}

// run is gemm over the range r of k (k is the whole product's, which fixes b's layout).
func (kn *lowpBF16Kernel) run(r lowpRange, bf *lowpBuf, k int, a []float32, lda int, b []uint16, bias []float32) {
	d := kn.d
	ke := kEvenOf(k)
	pstride := ke * PanelWidth * 2 // bytes
	d.run(r, bf, func(packed []byte, stride, i0, rows, k0, kb int) {
		kp := (kb + 1) / 2
		for rr := 0; rr < (rows+d.mr-1)/d.mr*d.mr; rr++ {
			row := packed[rr*stride:]
			if kn.pairs {
				dst := unsafe.Slice((*uint16)(unsafe.Pointer(&row[0])), 2*kp)
				if rr < rows {
					kn.roundBF16(dst[:kb], a[(i0+rr)*lda+k0:(i0+rr)*lda+k0+kb])
					clear(dst[kb:])
				} else {
					clear(dst)
				}
			} else {
				dst := unsafe.Slice((*float32)(unsafe.Pointer(&row[0])), 2*kp)
				if rr < rows {
					kn.roundF32(dst[:kb], a[(i0+rr)*lda+k0:(i0+rr)*lda+k0+kb])
					clear(dst[kb:])
				} else {
					clear(dst)
				}
			}
		}
	}, func(packed []byte, stride, ir, i, rows, k0, kb, p0, np int, c *float32, ldc, last, flags int, head bool) {
		var bp *float32
		if head && bias != nil {
			bp = &bias[p0*PanelWidth]
		}
		kn.kernel(&packed[ir*stride], &b[p0*ke*PanelWidth+k0*PanelWidth], c, (kb+kn.kstep-1)/kn.kstep, np, pstride, ldc, rows, last, bp, flags, stride, &bf.tile[0])
	})
}

// lowpInt8Call is the signature the driver calls an int8 kernel with (see lowpBF16Call).
type lowpInt8Call func(a *byte, b *int8, c *float32, ksteps, panels, pstride, ldc, rows, last int, ep *lowpInt8Epi, flags int, astride int, tile *float32)

// lowpInt8Kernel is an int8 kernel with its driver and its packing of A.
type lowpInt8Kernel struct {
	name      string
	available bool
	d         *lowpDriver
	kstep     int  // k per kernel step: 4, or 64 for AMX
	wide      bool // A packed as int16 (else as bytes)
	rangeF    func(x []float32) (lo, hi float32)
	quantU8   func(dst []uint8, x []float32, inv float32, zp int32)
	quantI16  func(dst []int16, x []float32, inv float32, zp int32)
	kernel    lowpInt8Call
}

// gemm is GemmInt8 with this kernel.
func (kn *lowpInt8Kernel) gemm(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue) {
	d := kn.d
	bf := d.buf(m, n)
	lowpInt8Prepare(bf, m, n, k, a, lda, scales, sums, bias, kn.rangeF)
	kn.run(lowpRange{m: m, n: n, k0: 0, k1: k, c: c, ldc: ldc, accumulate: epi == Accumulate, gelu: epi == GELU, head: true}, bf, k, a, lda, b)
	d.release(bf)
}

// lowpInt8Prepare fills bf's per-row quantization of a (over the whole of k) and its column
// arrays (scales, sums and bias padded to whole panels with zeros).
func lowpInt8Prepare(bf *lowpBuf, m, n, k int, a []float32, lda int, scales []float32, sums []int32, bias []float32, rangeF func([]float32) (float32, float32)) {
	for i := 0; i < m; i++ {
		bf.rowScale[i], bf.rowInv[i], bf.rowZP[i] = quantParams(rangeF(a[i*lda : i*lda+k]))
	}
	np := panelsOf(n) * PanelWidth
	copy(bf.colScale, scales[:n])
	clear(bf.colScale[n:np])
	copy(bf.colSum, sums[:n])
	clear(bf.colSum[n:np])
	if bias != nil {
		copy(bf.bias, bias[:n])
		clear(bf.bias[n:np])
	} else {
		clear(bf.bias[:np])
	}
}

// run is gemm over the range r of k (k is the whole product's, which fixes b's layout); bf
// holds lowpInt8Prepare's arrays.
func (kn *lowpInt8Kernel) run(r lowpRange, bf *lowpBuf, k int, a []float32, lda int, b []int8) {
	d := kn.d
	k4 := k4Of(k)
	pstride := k4 * PanelWidth
	d.run(r, bf, func(packed []byte, stride, i0, rows, k0, kb int) {
		kq := (kb + 3) &^ 3
		for rr := 0; rr < (rows+d.mr-1)/d.mr*d.mr; rr++ {
			row := packed[rr*stride:]
			if kn.wide {
				dst := unsafe.Slice((*int16)(unsafe.Pointer(&row[0])), kq)
				if rr < rows {
					kn.quantI16(dst[:kb], a[(i0+rr)*lda+k0:(i0+rr)*lda+k0+kb], bf.rowInv[i0+rr], bf.rowZP[i0+rr])
					clear(dst[kb:])
				} else {
					clear(dst)
				}
			} else {
				dst := row[:kq]
				if rr < rows {
					kn.quantU8(dst[:kb], a[(i0+rr)*lda+k0:(i0+rr)*lda+k0+kb], bf.rowInv[i0+rr], bf.rowZP[i0+rr])
					clear(dst[kb:])
				} else {
					clear(dst)
				}
			}
		}
	}, func(packed []byte, stride, ir, i, rows, k0, kb, p0, np int, c *float32, ldc, last, flags int, head bool) {
		ep := lowpInt8Epi{
			bias:     &bf.bias[p0*PanelWidth],
			colScale: &bf.colScale[p0*PanelWidth],
			colSum:   &bf.colSum[p0*PanelWidth],
			rowScale: &bf.rowScale[i],
			rowZP:    &bf.rowZP[i],
		}
		if !head {
			ep.bias, ep.rowZP = &bf.zeroBias[p0*PanelWidth], &bf.zeroZP[0]
		}
		kn.kernel(&packed[ir*stride], &b[p0*k4*PanelWidth+k0*PanelWidth], c, (kb+kn.kstep-1)/kn.kstep, np, pstride, ldc, rows, last, &ep, flags, stride, &bf.tile[0])
	})
}

// lowpBF16AMX runs AMX on the largest multiple of 32 of k and a vector kernel on the rest.
type lowpBF16AMX struct {
	amx, tail *lowpBF16Kernel
}

func (x *lowpBF16AMX) gemm(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue) {
	bf := x.amx.d.buf(m, n)
	kMain := k / x.amx.kstep * x.amx.kstep
	if kMain > 0 {
		x.amx.run(lowpRange{m: m, n: n, k0: 0, k1: kMain, c: c, ldc: ldc, accumulate: epi == Accumulate, gelu: epi == GELU && kMain == k, head: true}, bf, k, a, lda, b, bias)
	}
	if kMain < k {
		x.tail.run(lowpRange{m: m, n: n, k0: kMain, k1: k, c: c, ldc: ldc, accumulate: kMain > 0 || epi == Accumulate, gelu: epi == GELU, head: kMain == 0}, bf, k, a, lda, b, bias)
	}
	x.amx.d.release(bf)
}

// lowpInt8AMX runs AMX on the largest multiple of 64 of k and a vector kernel on the rest.
type lowpInt8AMX struct {
	amx, tail *lowpInt8Kernel
}

func (x *lowpInt8AMX) gemm(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue) {
	bf := x.amx.d.buf(m, n)
	lowpInt8Prepare(bf, m, n, k, a, lda, scales, sums, bias, x.amx.rangeF)
	kMain := k / x.amx.kstep * x.amx.kstep
	if kMain > 0 {
		x.amx.run(lowpRange{m: m, n: n, k0: 0, k1: kMain, c: c, ldc: ldc, accumulate: epi == Accumulate, gelu: epi == GELU && kMain == k, head: true}, bf, k, a, lda, b)
	}
	if kMain < k {
		x.tail.run(lowpRange{m: m, n: n, k0: kMain, k1: k, c: c, ldc: ldc, accumulate: kMain > 0 || epi == Accumulate, gelu: epi == GELU, head: kMain == 0}, bf, k, a, lda, b)
	}
	x.amx.d.release(bf)
}

// lowpBF16AMX32x32 computes a strip of 32×32 tiles over one block of k with AMX: a holds 32
// rows astride bytes apart of 32·ksteps bfloat16 (pairs, as AMX's A tiles), tile is a 64-byte
// aligned scratch of 32×32 floats, cfg the tile configuration (amxConfig); the rest as for
// lowpBF16Widen12x32 (1 ≤ rows ≤ 32; no prefetching).
//
//go:noescape
func lowpBF16AMX32x32(a *byte, b *uint16, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int, astride int, tile *float32, cfg *byte)

// lowpInt8AMX32x32 is lowpBF16AMX32x32 for int8 (64·ksteps unsigned bytes a row of a), with
// lowpInt8VNNI12x32's epilogue.
//
//go:noescape
func lowpInt8AMX32x32(a *byte, b *int8, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, ep *lowpInt8Epi, flags int, astride int, tile *float32, cfg *byte)

// AMX's longest blocks of k (measured on Sapphire Rapids, vitb14's products): bf16 blocks
// of up to 512 keep a tile's 32 rows of A (32 KiB) in L1, which gains 5-10% over whole-k
// blocks; int8 is 20-30% faster with k whole (up to 4096): its A rows are half as long, and
// each block costs a pass of the epilogue over c.
const (
	lowpAMXKCBF16 = 512
	lowpAMXKCInt8 = 4096
)

// amxConfig is the tile configuration: palette 1, all eight tiles 16 rows × 64 bytes.
var amxConfig = func() *[64]byte {
	var c [64]byte
	c[0] = 1
	for t := 0; t < 8; t++ {
		c[16+2*t] = 64
		c[48+t] = 16
	}
	return &c
}()

// amxGranted says whether the OS lets this process use AMX (asked once, on first use).
var amxGranted = sync.OnceValue(amxPermission)

// newAMXDriver is newLowpDriver for the 32×32 AMX kernels: k blocks of up to kc (a multiple
// of kAlign) and the other blocks sized from them for each product (dynamic). At AMX's rate a
// block of k must be long: each one costs a pass of the epilogue over c.
func newAMXDriver(name string, kAlign, aBytesK, bBytesK, kc int, gelu func([]float32)) *lowpDriver {
	d := newLowpDriver(name, 32, kAlign, aBytesK, 1<<20, bBytesK, 1<<23, true, gelu)
	d.kc = kc
	d.dynamic = true
	return d
}

func l2Size() int {
	if l2 := cpuid.CPU.Cache.L2; l2 > 0 {
		return l2
	}
	return 1 << 20
}

// The vector kernels take the AMX arguments too (and ignore them).
func widen512(a *byte, b *uint16, c *float32, ksteps, panels, pstride, ldc, rows, last int, bias *float32, flags int, _ int, _ *float32) {
	lowpBF16Widen12x32(a, b, c, ksteps, panels, pstride, ldc, rows, last, bias, flags)
}

func dp512(a *byte, b *uint16, c *float32, ksteps, panels, pstride, ldc, rows, last int, bias *float32, flags int, _ int, _ *float32) {
	lowpBF16DP12x32(a, b, c, ksteps, panels, pstride, ldc, rows, last, bias, flags)
}

func vnni512(a *byte, b *int8, c *float32, ksteps, panels, pstride, ldc, rows, last int, ep *lowpInt8Epi, flags int, _ int, _ *float32) {
	lowpInt8VNNI12x32(a, b, c, ksteps, panels, pstride, ldc, rows, last, ep, flags)
}

func amxBF16(a *byte, b *uint16, c *float32, ksteps, panels, pstride, ldc, rows, last int, bias *float32, flags int, astride int, tile *float32) {
	lowpBF16AMX32x32(a, b, c, ksteps, panels, pstride, ldc, rows, last, bias, flags, astride, tile, &amxConfig[0])
}

func amxInt8(a *byte, b *int8, c *float32, ksteps, panels, pstride, ldc, rows, last int, ep *lowpInt8Epi, flags int, astride int, tile *float32) {
	lowpInt8AMX32x32(a, b, c, ksteps, panels, pstride, ldc, rows, last, ep, flags, astride, tile, &amxConfig[0])
}

// The amd64 kernels, each with its driver (tests and benchmarks run each).
var (
	lowpWiden512 = &lowpBF16Kernel{name: "avx512-widen", available: cpu.X86.HasAVX512F,
		d:     newLowpDriver("avx512-widen", 12, 2, 4, lowpARow, 2, 1<<20, true, geluSliceAVX512),
		kstep: 2, roundF32: roundF32AVX512, kernel: widen512}
	lowpDP512 = &lowpBF16Kernel{name: "avx512-dpbf16", available: cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16,
		d:     newLowpDriver("avx512-dpbf16", 12, 2, 2, lowpARow, 2, 1<<19, true, geluSliceAVX512),
		kstep: 2, pairs: true, roundBF16: roundBF16AVX512, kernel: dp512}
	lowpAMXBF16 = &lowpBF16Kernel{name: "amx", available: cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16 && cpu.X86.HasAMXTile && cpu.X86.HasAMXBF16,
		d:     newAMXDriver("amx-bf16", 32, 2, 2, lowpAMXKCBF16, geluSliceAVX512),
		kstep: 32, pairs: true, roundBF16: roundBF16AVX512, kernel: amxBF16}
	lowpVNNI512 = &lowpInt8Kernel{name: "avx512-vnni", available: cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI,
		d:     newLowpDriver("avx512-vnni", 12, 4, 1, lowpARow, 1, 1<<22, true, geluSliceAVX512),
		kstep: 4, rangeF: rangeAVX512, quantU8: quantU8AVX512, kernel: vnni512}
	lowpAMXInt8 = &lowpInt8Kernel{name: "amx", available: cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI && cpu.X86.HasAMXTile && cpu.X86.HasAMXInt8,
		d:     newAMXDriver("amx-int8", 64, 1, 1, lowpAMXKCInt8, geluSliceAVX512),
		kstep: 64, rangeF: rangeAVX512, quantU8: quantU8AVX512, kernel: amxInt8}
)

var _ = registerLowp("avx512", cpu.X86.HasAVX512F, resolveAVX512)

func resolveAVX512() lowpKernels {
	k := lowpKernels{tileRows: 12}
	switch {
	case lowpAMXBF16.available && amxGranted():
		k.bf16, k.bf16Name, k.tileRows = (&lowpBF16AMX{lowpAMXBF16, lowpWiden512}).gemm, "amx", 32
	case lowpDP512.available && dpbf16Faster():
		k.bf16, k.bf16Name = lowpDP512.gemm, lowpDP512.name
	default:
		k.bf16, k.bf16Name = lowpWiden512.gemm, lowpWiden512.name
	}
	switch {
	case lowpAMXInt8.available && amxGranted():
		k.int8, k.int8Name, k.tileRows = (&lowpInt8AMX{lowpAMXInt8, lowpVNNI512}).gemm, "amx", 32
	case lowpVNNI512.available:
		k.int8, k.int8Name = lowpVNNI512.gemm, lowpVNNI512.name
	default: // AVX-512 without VNNI (Skylake-SP): the AVX2 kernel
		k.int8, k.int8Name = lowpMADDWD.gemm, lowpMADDWD.name
	}
	return k
}

// dpbf16Faster measures whether VDPBF16PS does more multiply-adds per second than
// VFMADD231PS widening would (48 FMAs and 4 widening operations per 12×32×2 step), on
// registers alone, for about 0.2 ms.
func dpbf16Faster() bool {
	rate := func(loop func(int), macs float64) float64 {
		loop(1000) // warm up
		best := 0.0
		for range 3 {
			start := time.Now()
			loop(2000)
			best = max(best, 2000*macs/time.Since(start).Seconds())
		}
		return best
	}
	dp := rate(lowpDPBF16Loop, 24*32)
	widen := rate(fmaLoopAVX512, 12*16) * 48 / 52
	return dp > 1.1*widen
}

// lowpDPBF16Loop runs n iterations of 24 independent VDPBF16PS zmm (768 multiply-adds) on
// registers only (see lowp_peak_amd64.s).
//
//go:noescape
func lowpDPBF16Loop(n int)

// lowpVNNILoop runs n iterations of 24 independent VPDPBUSD zmm (1536 multiply-adds).
//
//go:noescape
func lowpVNNILoop(n int)

// lowpAVXVNNILoop runs n iterations of 24 independent VEX VPDPBUSD ymm (768 multiply-adds).
//
//go:noescape
func lowpAVXVNNILoop(n int)

// lowpMADDWDLoop runs n iterations of 12 VPMADDWD ymm + VPADDD pairs (192 multiply-adds).
//
//go:noescape
func lowpMADDWDLoop(n int)

// lowpRangeAVX512 returns min(0, x...) and max(0, x...) over n floats, n a multiple of 16.
//
//go:noescape
func lowpRangeAVX512(x *float32, n int) (lo, hi float32)

// lowpQuantU8AVX512 quantizes n floats (a multiple of 16) to dst as quantize does.
//
//go:noescape
func lowpQuantU8AVX512(dst *uint8, x *float32, n int, inv float32, zp int32)

// lowpRoundBF16AVX512 rounds n floats (a multiple of 16) to bfloat16 with VCVTNEPS2BF16: as
// bf16RoundA does.
//
//go:noescape
func lowpRoundBF16AVX512(dst *uint16, x *float32, n int)

// lowpRoundF32AVX512 rounds n floats (a multiple of 16) to bfloat16, in float32, as
// bf16RoundA does.
//
//go:noescape
func lowpRoundF32AVX512(dst *float32, x *float32, n int)

// The packing routines as slices: the assembly on whole vectors, Go on the tail.

func rangeAVX512(x []float32) (lo, hi float32) {
	n := len(x) &^ 15
	if n > 0 {
		lo, hi = lowpRangeAVX512(&x[0], n)
	}
	l, h := rangeGeneric(x[n:])
	return min(lo, l), max(hi, h)
}

func quantU8AVX512(dst []uint8, x []float32, inv float32, zp int32) {
	n := len(x) &^ 15
	if n > 0 {
		lowpQuantU8AVX512(&dst[0], &x[0], n, inv, zp)
	}
	quantU8Generic(dst[n:len(x)], x[n:], inv, zp)
}

func roundBF16AVX512(dst []uint16, x []float32) {
	n := len(x) &^ 15
	if n > 0 {
		lowpRoundBF16AVX512(&dst[0], &x[0], n)
	}
	roundBF16Generic(dst[n:len(x)], x[n:])
}

func roundF32AVX512(dst, x []float32) {
	n := len(x) &^ 15
	if n > 0 {
		lowpRoundF32AVX512(&dst[0], &x[0], n)
	}
	roundF32Generic(dst[n:len(x)], x[n:])
}

// lowpBF16Widen6x16AVX2 is lowpBF16Widen12x32 for 6×16 tiles with AVX2 and FMA, over whole
// panels only (lastCols is ignored) and without prefetching.
//
//go:noescape
func lowpBF16Widen6x16AVX2(a *byte, b *uint16, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastCols int, bias *float32, flags int)

// lowpInt8AVXVNNI6x16 is lowpInt8VNNI12x32 for 6×16 tiles with AVX-VNNI (VEX VPDPBUSD), over
// whole panels only.
//
//go:noescape
func lowpInt8AVXVNNI6x16(a *byte, b *int8, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastCols int, ep *lowpInt8Epi, flags int)

// lowpInt8MADDWD6x16 is lowpInt8AVXVNNI6x16 with AVX2 alone: a holds 6 rows of 4·ksteps int16
// (the unsigned bytes widened), B's bytes are widened to int16 and VPMADDWD sums pairs of
// products into int32 (never saturating, unlike VPMADDUBSW), 8 columns at a time.
//
//go:noescape
func lowpInt8MADDWD6x16(a *byte, b *int8, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastCols int, ep *lowpInt8Epi, flags int)

// lowpRangeAVX2 is lowpRangeAVX512 with AVX (n a multiple of 8).
//
//go:noescape
func lowpRangeAVX2(x *float32, n int) (lo, hi float32)

// lowpQuantU8AVX2 is lowpQuantU8AVX512 with AVX2 (n a multiple of 8).
//
//go:noescape
func lowpQuantU8AVX2(dst *uint8, x *float32, n int, inv float32, zp int32)

// lowpQuantI16AVX2 is lowpQuantU8AVX2 writing int16 (n a multiple of 8).
//
//go:noescape
func lowpQuantI16AVX2(dst *int16, x *float32, n int, inv float32, zp int32)

// lowpRoundF32AVX2 is lowpRoundF32AVX512 with AVX2 (n a multiple of 8).
//
//go:noescape
func lowpRoundF32AVX2(dst *float32, x *float32, n int)

func rangeAVX2(x []float32) (lo, hi float32) {
	n := len(x) &^ 7
	if n > 0 {
		lo, hi = lowpRangeAVX2(&x[0], n)
	}
	l, h := rangeGeneric(x[n:])
	return min(lo, l), max(hi, h)
}

func quantU8AVX2(dst []uint8, x []float32, inv float32, zp int32) {
	n := len(x) &^ 7
	if n > 0 {
		lowpQuantU8AVX2(&dst[0], &x[0], n, inv, zp)
	}
	quantU8Generic(dst[n:len(x)], x[n:], inv, zp)
}

func quantI16AVX2(dst []int16, x []float32, inv float32, zp int32) {
	n := len(x) &^ 7
	if n > 0 {
		lowpQuantI16AVX2(&dst[0], &x[0], n, inv, zp)
	}
	quantI16Generic(dst[n:len(x)], x[n:], inv, zp)
}

func roundF32AVX2(dst, x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		lowpRoundF32AVX2(&dst[0], &x[0], n)
	}
	roundF32Generic(dst[n:len(x)], x[n:])
}

func widenAVX2(a *byte, b *uint16, c *float32, ksteps, panels, pstride, ldc, rows, last int, bias *float32, flags int, _ int, _ *float32) {
	lowpBF16Widen6x16AVX2(a, b, c, ksteps, panels, pstride, ldc, rows, last, bias, flags)
}

func avxVNNI(a *byte, b *int8, c *float32, ksteps, panels, pstride, ldc, rows, last int, ep *lowpInt8Epi, flags int, _ int, _ *float32) {
	lowpInt8AVXVNNI6x16(a, b, c, ksteps, panels, pstride, ldc, rows, last, ep, flags)
}

func maddwdAVX2(a *byte, b *int8, c *float32, ksteps, panels, pstride, ldc, rows, last int, ep *lowpInt8Epi, flags int, _ int, _ *float32) {
	lowpInt8MADDWD6x16(a, b, c, ksteps, panels, pstride, ldc, rows, last, ep, flags)
}

var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// The AVX2 kernels.
var (
	lowpWidenAVX2 = &lowpBF16Kernel{name: "avx2-widen", available: hasAVX2,
		d:     newLowpDriver("avx2-widen", 6, 2, 4, lowpARow, 2, 1<<19, false, geluSliceAVX2),
		kstep: 2, roundF32: roundF32AVX2, kernel: widenAVX2}
	lowpAVXVNNI = &lowpInt8Kernel{name: "avx2-vnni", available: hasAVX2 && cpu.X86.HasAVXVNNI,
		d:     newLowpDriver("avx2-vnni", 6, 4, 1, lowpARow, 1, 1<<21, false, geluSliceAVX2),
		kstep: 4, rangeF: rangeAVX2, quantU8: quantU8AVX2, kernel: avxVNNI}
	lowpMADDWD = &lowpInt8Kernel{name: "avx2-maddwd", available: hasAVX2,
		d:     newLowpDriver("avx2-maddwd", 6, 4, 2, lowpARow, 1, 1<<20, false, geluSliceAVX2),
		kstep: 4, wide: true, rangeF: rangeAVX2, quantI16: quantI16AVX2, kernel: maddwdAVX2}
)

var _ = registerLowp("avx2", hasAVX2, func() lowpKernels {
	k := lowpKernels{tileRows: 6, bf16: lowpWidenAVX2.gemm, bf16Name: lowpWidenAVX2.name}
	if lowpAVXVNNI.available {
		k.int8, k.int8Name = lowpAVXVNNI.gemm, lowpAVXVNNI.name
	} else {
		k.int8, k.int8Name = lowpMADDWD.gemm, lowpMADDWD.name
	}
	return k
})

// lowpTDPBF16PSLoop runs n iterations of 4 independent TDPBF16PS (32768 multiply-adds) on
// tiles alone, with the tile configuration cfg.
//
//go:noescape
func lowpTDPBF16PSLoop(cfg *byte, n int)

// lowpTDPBUSDLoop runs n iterations of 4 independent TDPBUSD (65536 multiply-adds).
//
//go:noescape
func lowpTDPBUSDLoop(cfg *byte, n int)
