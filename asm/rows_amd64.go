//go:build !purego

package asm

import "golang.org/x/sys/cpu"

// rowMax bounds the row one kernel call takes (2¹⁶ floats: some 50 µs of AVX2 softmax),
// because assembly cannot be preempted; longer rows go to the reference.
const rowMax = 1 << 16

// softmaxAVX512 replaces the n floats at x with softmax(scale·x) in the reference's order
// (see Softmax): m = max(scale·x), x = e^(scale·x - m), Σ = Σx in 16 lanes, x *= 1/Σ. The
// exponential is expAVX512's. 1 ≤ n ≤ rowMax; no alignment is required.
//
//go:noescape
func softmaxAVX512(x *float32, n int, scale float32)

// softmax2AVX512 is softmaxAVX512 on two rows at once, x and x + ld floats, with the same
// bits. The rows of attention's scores are short (257 floats for a ViT at 224 px), and a
// single row's chain of max, horizontal max, exponentials, horizontal sum and division left
// the vector units idle for much of it.
//
//go:noescape
func softmax2AVX512(x *float32, ld int, n int, scale float32)

// softmaxAVX2 is softmaxAVX512 with AVX2 and FMA (Σ in 8 lanes).
//
//go:noescape
func softmaxAVX2(x *float32, n int, scale float32)

// expAVX512 replaces each of the n floats at x with e^x, within about 1 ulp (see
// TestExpKernels): 0 for x < -87.33654 (as Exp: no subnormal results), +Inf where e^x
// overflows (x > 88.7228), NaN for NaN. 1 ≤ n ≤ rowMax; no alignment is required. Softmax's exponential.
//
//go:noescape
func expAVX512(x *float32, n int)

// expAVX2 is expAVX512 with AVX2 and FMA; it gives the same bits.
//
//go:noescape
func expAVX2(x *float32, n int)

// layerNormAVX512 writes LayerNorm(x)·w + b to dst, each n floats: the mean and variance in
// float32 by the corrected two-pass algorithm (see rows_amd64.s), so that a large mean costs
// no precision. 1 ≤ n ≤ rowMax; dst may be x; no alignment is required.
//
//go:noescape
func layerNormAVX512(dst *float32, x *float32, w *float32, b *float32, n int, eps float32)

// layerNormAVX2 is layerNormAVX512 with AVX2 and FMA.
//
//go:noescape
func layerNormAVX2(dst *float32, x *float32, w *float32, b *float32, n int, eps float32)

// transpose16AVX512 is Transpose16 for cols = 16·blocks: blocks of 16×16 transposed in
// registers (see transpose_amd64.s). The 16 rows are read from src at row stride ld floats.
//
//go:noescape
func transpose16AVX512(dst *float32, src *float32, ld int, blocks int)

// transpose16SliceAVX512 is Transpose16 with transpose16AVX512 for the whole blocks of 16
// columns and the reference for the rest.
func transpose16SliceAVX512(dst, src []float32, ld, cols int) {
	blocks := cols / PanelWidth
	if blocks > 0 {
		transpose16AVX512(&dst[0], &src[0], ld, blocks)
	}
	if rest := cols - blocks*PanelWidth; rest > 0 {
		done := blocks * PanelWidth
		transpose16Generic(dst[done*PanelWidth:], src[done:], ld, rest)
	}
}

// rowVariant is one amd64 variant's row kernels, named after the Sgemm variant they go with:
// Use and VITC_KERNEL choose both.
type rowVariant struct {
	name        string
	available   bool
	softmax     func(x *float32, n int, scale float32)
	softmax2    func(x *float32, ld int, n int, scale float32) // two rows at once, or nil
	exp         func(x *float32, n int)
	layerNorm   func(dst *float32, x *float32, w *float32, b *float32, n int, eps float32)
	transpose16 func(dst, src []float32, ld, cols int)
}

// amd64Rows registers the row kernels and drives their tests and benchmarks.
var amd64Rows = []rowVariant{
	{name: "avx512", available: cpu.X86.HasAVX512F, softmax: softmaxAVX512, softmax2: softmax2AVX512, exp: expAVX512, layerNorm: layerNormAVX512, transpose16: transpose16SliceAVX512},
	{name: "avx2", available: cpu.X86.HasAVX2 && cpu.X86.HasFMA, softmax: softmaxAVX2, exp: expAVX2, layerNorm: layerNormAVX2, transpose16: transpose16Generic},
}

var _ = registerAMD64Rows()

func registerAMD64Rows() bool {
	for _, v := range amd64Rows {
		registerRows(v.name, rowKernels{softmax: v.softmaxSlice, softmaxRows: v.softmaxRows, layerNorm: v.layerNormSlice, transpose16: v.transpose16})
	}
	return true
}

// softmaxSlice is Softmax with v's kernel.
func (v rowVariant) softmaxSlice(row []float32, scale float32) {
	if len(row) == 0 || len(row) > rowMax {
		softmaxGeneric(row, scale)
		return
	}
	v.softmax(&row[0], len(row), scale)
}

// softmaxRows is SoftmaxRows with v's kernels: two rows a call where it has a kernel for them.
func (v rowVariant) softmaxRows(x []float32, rows, n, ld int, scale float32) {
	if v.softmax2 == nil || n > rowMax {
		softmaxRowsGeneric(x, rows, n, ld, scale, v.softmaxSlice)
		return
	}
	i := 0
	for ; i+2 <= rows; i += 2 {
		v.softmax2(&x[i*ld], ld, n, scale)
	}
	if i < rows {
		v.softmax(&x[i*ld], n, scale)
	}
}

// layerNormSlice is LayerNorm with v's kernel; dst, w and b have len(x) floats.
func (v rowVariant) layerNormSlice(dst, x, w, b []float32, eps float32) {
	n := len(x)
	if n == 0 || n > rowMax {
		layerNormGeneric(dst, x, w, b, eps)
		return
	}
	dst, w, b = dst[:n], w[:n], b[:n]
	v.layerNorm(&dst[0], &x[0], &w[0], &b[0], n, eps)
}
