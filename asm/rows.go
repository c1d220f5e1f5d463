package asm

import (
	"fmt"
	"math"
)

// Gelu is the exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), evaluated in float64.
func Gelu(x float32) float32 {
	v := float64(x)
	return float32(0.5 * v * (1 + math.Erf(v*(1/math.Sqrt2))))
}

// LayerNorm writes (x - mean)/sqrt(var + eps)·w + b for one row; dst, w and b hold at least
// len(x) floats. The selected variant (see Use) computes it; in every variant a large mean
// costs no precision (within 1e-5·(1 + |result|) of float64, see TestLayerNormKernels).
func LayerNorm(dst, x, w, b []float32, eps float32) {
	n := len(x)
	activeRows.layerNorm(dst[:n], x, w[:n], b[:n], eps)
}

// layerNormGeneric is the reference LayerNorm: mean and variance are accumulated in float64
// so that wide rows lose nothing. dst, w and b have len(x) floats.
func layerNormGeneric(dst, x, w, b []float32, eps float32) {
	n := len(x)
	dst, w, b = dst[:n], w[:n], b[:n]
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(n)
	var sq float64
	for _, v := range x {
		d := float64(v) - mean
		sq += d * d
	}
	inv := 1 / math.Sqrt(sq/float64(n)+float64(eps))
	for i, v := range x {
		dst[i] = float32((float64(v)-mean)*inv)*w[i] + b[i]
	}
}

// Dot returns Σ x[i]·y[i] accumulated in float32.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy adds a·x to y.
func Axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// Softmax replaces row with softmax(scale·row), as PyTorch computes it: exp(x − max), then
// multiplied by 1/Σ. The selected variant (see Use) computes it, with an exponential within
// about 1 ulp of Exp's and Σ summed in its own order.
func Softmax(row []float32, scale float32) {
	activeRows.softmax(row, scale)
}

// SoftmaxRows is Softmax on each of rows rows of n floats, ld floats apart (row i is
// x[i·ld : i·ld+n]), with the same results; the selected variant may do several rows at once.
func SoftmaxRows(x []float32, rows, n, ld int, scale float32) {
	if rows <= 0 || n <= 0 {
		return
	}
	if ld < n || len(x) < (rows-1)*ld+n {
		panic(fmt.Sprintf("asm.SoftmaxRows: slice of %d floats too short for %d rows of %d, %d apart", len(x), rows, n, ld))
	}
	activeRows.softmaxRows(x, rows, n, ld, scale)
}

// softmaxRowsGeneric is SoftmaxRows with softmax for each row.
func softmaxRowsGeneric(x []float32, rows, n, ld int, scale float32, softmax func([]float32, float32)) {
	for i := range rows {
		softmax(x[i*ld:i*ld+n], scale)
	}
}

// softmaxGeneric is the reference Softmax; the exponential is Exp's.
func softmaxGeneric(row []float32, scale float32) {
	if len(row) == 0 {
		return
	}
	m := float32(math.Inf(-1))
	for i, v := range row {
		v *= scale
		row[i] = v
		m = max(m, v)
	}
	var sum float32
	for i, v := range row {
		e := Exp(v - m)
		row[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range row {
		row[i] *= inv
	}
}

// rowKernels are one variant's row operations. A variant that registers none (registerRows)
// runs the reference's.
type rowKernels struct {
	softmax     func(row []float32, scale float32)
	softmaxRows func(x []float32, rows, n, ld int, scale float32)
	layerNorm   func(dst, x, w, b []float32, eps float32) // all of len(x)
	transpose16 func(dst, src []float32, ld, cols int)
}

var rowVariants = map[string]rowKernels{"generic": {softmax: softmaxGeneric, softmaxRows: softmaxRowsOf(softmaxGeneric), layerNorm: layerNormGeneric, transpose16: transpose16Generic}}

// registerRows gives the variant called name its row kernels. Architecture files call it
// while package variables are initialised, like register.
func registerRows(name string, k rowKernels) bool {
	rowVariants[name] = k
	return true
}

// softmaxRowsOf is SoftmaxRows with softmax for each row.
func softmaxRowsOf(softmax func([]float32, float32)) func(x []float32, rows, n, ld int, scale float32) {
	return func(x []float32, rows, n, ld int, scale float32) { softmaxRowsGeneric(x, rows, n, ld, scale, softmax) }
}

// activeRows are the row kernels of the active variant, set by Use.
var activeRows = rowVariants["generic"]

// useRows selects the row kernels of the variant called name (the reference's if it has none).
func useRows(name string) {
	k, ok := rowVariants[name]
	if !ok {
		k = rowVariants["generic"]
	}
	activeRows = k
}

// Transpose16 writes dst[16c + r] = src[r·ld + c] for r < 16 and c < cols: 16 rows of cols
// floats (row stride ld) as cols rows of 16, the layout of one 16-wide panel of the matrix
// kernels (attention packs its keys so, 16 tokens at a time). The selected variant does it.
func Transpose16(dst, src []float32, ld, cols int) {
	if cols <= 0 {
		return
	}
	if len(dst) < PanelWidth*cols || len(src) < (PanelWidth-1)*ld+cols || ld < cols {
		panic(fmt.Sprintf("asm.Transpose16: slices too short for ld=%d cols=%d", ld, cols))
	}
	activeRows.transpose16(dst, src, ld, cols)
}

// transpose16Generic is the reference Transpose16, its rows unrolled so that the compiler
// keeps them in registers and checks no bounds in the loop (twice as fast as a loop over the
// rows).
func transpose16Generic(dst, src []float32, ld, cols int) {
	r0, r1, r2, r3 := src[0*ld:][:cols], src[1*ld:][:cols], src[2*ld:][:cols], src[3*ld:][:cols]
	r4, r5, r6, r7 := src[4*ld:][:cols], src[5*ld:][:cols], src[6*ld:][:cols], src[7*ld:][:cols]
	r8, r9, r10, r11 := src[8*ld:][:cols], src[9*ld:][:cols], src[10*ld:][:cols], src[11*ld:][:cols]
	r12, r13, r14, r15 := src[12*ld:][:cols], src[13*ld:][:cols], src[14*ld:][:cols], src[15*ld:][:cols]
	dst = dst[:cols*PanelWidth]
	for c := range cols {
		col := (*[PanelWidth]float32)(dst[c*PanelWidth:])
		col[0], col[1], col[2], col[3] = r0[c], r1[c], r2[c], r3[c]
		col[4], col[5], col[6], col[7] = r4[c], r5[c], r6[c], r7[c]
		col[8], col[9], col[10], col[11] = r8[c], r9[c], r10[c], r11[c]
		col[12], col[13], col[14], col[15] = r12[c], r13[c], r14[c], r15[c]
	}
}

// Constants of Exp: ln 2 split so that n·ln2Hi is exact for |n| < 2^11, and the Taylor
// coefficients of e^r.
const (
	log2e = 1.44269504088896341
	ln2Hi = 0.693359375
	ln2Lo = -2.12194440e-4
)

// Exp is e^x in float32 to about 1 ulp: x = n·ln 2 + r with |r| ≤ ln2/2, e^r by its Taylor
// polynomial of degree 7, and 2^n put into the exponent. Results below the smallest normal
// float32 (x < −87.3) are 0 and above the largest are +Inf.
func Exp(x float32) float32 {
	switch {
	case x != x:
		return x
	case x < -87.33654:
		return 0
	case x > 88.72283:
		return float32(math.Inf(1))
	}
	n := float32(math.Floor(float64(x*log2e) + 0.5))
	r := float32(x - n*ln2Hi)
	r = float32(r - n*ln2Lo)
	p := float32(1.0 / 5040)
	p = float32(p*r + 1.0/720)
	p = float32(p*r + 1.0/120)
	p = float32(p*r + 1.0/24)
	p = float32(p*r + 1.0/6)
	p = float32(p*r + 0.5)
	p = float32(p*r + 1)
	p = float32(p*r + 1)
	if n < -125 { // keep the exponent arithmetic in range: scale in two steps
		return math.Float32frombits(uint32(int32(math.Float32bits(p))+int32(n+64)<<23)) * 0x1p-64
	}
	return math.Float32frombits(uint32(int32(math.Float32bits(p)) + int32(n)<<23))
}
