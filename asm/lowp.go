package asm

// Low-precision matrix products for Linear layers, y = x·Wᵀ + bias, with float32 activations x
// and the weights W stored in bfloat16 (GemmBF16) or int8 (GemmInt8), packed in 16-column
// panels as Sgemm's are. Everything around the products (LayerNorm, softmax, GELU, residuals)
// stays float32; the epilogues and the bias are Sgemm's.
//
// bf16: W is rounded to bfloat16 (round to nearest, ties to even) once, when packed; x is
// rounded to bfloat16 the same way while a block of it is packed (as oneDNN and ONNX Runtime
// do), so that every product of two bfloat16 values is exact in float32; the products are
// summed in float32.
//
// int8: W is quantized symmetrically per output column j, scale_j = max|W[j,:]|/127 and
// q = round-half-even(w/scale_j) in [-127, 127]. x is quantized on the fly, per row i, to
// unsigned 8 bits with a zero point (asymmetric, as ONNX Runtime's DynamicQuantizeLinear):
// lo = min(0, min x_i), hi = max(0, max x_i), s_i = hi/255 - lo/255, r_i = 1/s_i (both in
// float32), z_i = rne(-lo·r_i) and u = clamp(rne(x·r_i) + z_i, 0, 255), so that
// x ≈ s_i·(u - z_i) and 0 is exact (a row with s_i < 2⁻¹²⁶ quantizes to u = 0, s_i = 0). The
// asymmetric form costs nothing more than the symmetric one here (VPDPBUSD multiplies unsigned
// by signed bytes, so even a symmetric s8 activation needs an offset and its correction), and
// it has up to twice the resolution on skewed rows: the input of fc2 is a GELU output, whose
// range is about [-0.17, max]. The sums Σ_k u·q are exact in int32 (k ≤ 65536), and
//
//	y[i][j] = (float32(Σ_k u[i][k]·q[k][j] - z_i·Σ_k q[k][j]) · s_i) · scale_j + bias[j].
//
// A variant may split k into blocks and add the blocks' float32 results in turn.

import (
	"fmt"
	"math"
	"sync"
)

// BF16Len is the length of the packed bfloat16 form of an n×k weight matrix (see PackBF16):
// ceil(n/16) panels of kEven×16 values, kEven = k rounded up to even.
func BF16Len(n, k int) int { return panelsOf(n) * kEvenOf(k) * PanelWidth }

// Int8Len is the length of the packed int8 form of an n×k weight matrix (see PackInt8):
// ceil(n/16) panels of k4×16 values, k4 = k rounded up to a multiple of 4.
func Int8Len(n, k int) int { return panelsOf(n) * k4Of(k) * PanelWidth }

func panelsOf(n int) int { return (n + PanelWidth - 1) / PanelWidth }
func kEvenOf(k int) int  { return (k + 1) &^ 1 }
func k4Of(k int) int     { return (k + 3) &^ 3 }

// PackBF16 rounds the weights w (row-major n×k, as PyTorch stores a Linear weight [n][k]) to
// bfloat16, round to nearest with ties to even (NaN stays NaN), and packs them for GemmBF16:
// ceil(n/16) panels; panel p holds columns 16p…16p+15 as kEven = k+k%2 rows of 16 columns ×
// 2 consecutive k values (the pair layout of VDPBF16PS and AMX), element (kk, j) of panel p at
//
//	p·kEven·16 + (kk/2)·32 + (j%16)·2 + kk%2,    j = 16p + j%16.
//
// Padding (columns past n, the odd k row) is zero. The panels of columns [16·p0, 16·p1) are
// the contiguous b[p0·kEven·16 : p1·kEven·16].
func PackBF16(w []float32, n, k int) []uint16 {
	if n < 0 || k < 0 || len(w) < n*k {
		panic(fmt.Sprintf("asm.PackBF16: %d weights for n=%d k=%d", len(w), n, k))
	}
	ke := kEvenOf(k)
	out := make([]uint16, BF16Len(n, k))
	for j := 0; j < n; j++ {
		dst := out[(j/PanelWidth)*ke*PanelWidth+(j%PanelWidth)*2:]
		for kk, v := range w[j*k : j*k+k] {
			dst[(kk/2)*2*PanelWidth+kk%2] = bf16Round(v)
		}
	}
	return out
}

// PackInt8 quantizes the weights w (row-major n×k) symmetrically per output column j —
// scales[j] = max_k |w[j][k]|/127 (in float32), q = round-half-even(w/scales[j]) (divided in
// float64) clamped to [-127, 127]; a column of zeros (or whose scale is zero, infinite or NaN)
// gets scale 0 and q = 0 — and packs them for GemmInt8: ceil(n/16) panels;
// panel p holds columns 16p…16p+15 as k4 = k rounded up to a multiple of 4 groups of 16
// columns × 4 consecutive k values (the layout of VPDPBUSD and AMX), element (kk, j) at
//
//	p·k4·16 + (kk/4)·64 + (j%16)·4 + kk%4.
//
// Padding is zero. sums[j] = Σ_k q[k][j], which the kernels need for the activations' zero
// point. scales and sums have n elements; a block of columns starting at panel p0 takes
// b[p0·k4·16:], scales[16·p0:] and sums[16·p0:].
func PackInt8(w []float32, n, k int) (b []int8, scales []float32, sums []int32) {
	if n < 0 || k < 0 || len(w) < n*k {
		panic(fmt.Sprintf("asm.PackInt8: %d weights for n=%d k=%d", len(w), n, k))
	}
	k4 := k4Of(k)
	b = make([]int8, Int8Len(n, k))
	scales = make([]float32, n)
	sums = make([]int32, n)
	for j := 0; j < n; j++ {
		row := w[j*k : j*k+k]
		var mx float32
		for _, v := range row {
			mx = max(mx, float32(math.Abs(float64(v))))
		}
		scale := mx / 127
		if !(scale > 0) || math.IsInf(float64(scale), 0) {
			continue // an all-zero (or tiny, or non-finite) column: q = 0, scale 0
		}
		scales[j] = scale
		dst := b[(j/PanelWidth)*k4*PanelWidth+(j%PanelWidth)*4:]
		var s int32
		for kk, v := range row {
			q := int32(max(-127, min(127, math.RoundToEven(float64(v)/float64(scale)))))
			dst[(kk/4)*4*PanelWidth+kk%4] = int8(q)
			s += q
		}
		sums[j] = s
	}
	return b, scales, sums
}

// maxInt8K bounds k in GemmInt8: the int32 sums Σ u·q - z·Σq stay within ±255·127·k < 2³¹.
const maxInt8K = 1 << 16

// GemmBF16 computes the m×n block c = epilogue(a·Wᵀ + bias) with W in bfloat16:
//   - a is m×k float32, row i at a[i*lda:], lda ≥ k; it is rounded to bfloat16 as it is used
//     (round to nearest even; subnormals to zero, as VCVTNEPS2BF16 does) and not modified;
//   - b is PackBF16's output from the block's first panel on: panel p at b[p·kEven·16:];
//     columns past n in the last panel are ignored; no alignment is needed, but AMX is
//     fastest with b 64-byte aligned (as the weights file stores tensors);
//   - c is m×n, row i at c[i*ldc:], ldc ≥ n;
//   - bias has n elements, or is nil for none;
//   - epi is Store, Accumulate or GELU, as for Sgemm.
//
// The exact bfloat16 products are summed in float32 in an order of the variant's choosing.
// GemmBF16 is single-threaded; callers split the work by rows and ranges of panels.
func GemmBF16(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue) {
	if m <= 0 || n <= 0 {
		return
	}
	if k < 0 || lda < k || ldc < n || len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+n || len(b) < BF16Len(n, k) || (bias != nil && len(bias) < n) {
		panic(fmt.Sprintf("asm.GemmBF16: slices too short for m=%d n=%d k=%d lda=%d ldc=%d", m, n, k, lda, ldc))
	}
	if k == 0 {
		finishZero(m, n, c, ldc, bias, epi)
		return
	}
	activeLowp.bf16(m, n, k, a, lda, b, c, ldc, bias, epi)
}

// GemmInt8 computes the m×n block c = epilogue(a·Wᵀ + bias) with W in int8 and a quantized to
// 8 bits per row on the fly (see the int8 notes at the top of lowp.go):
//   - a is m×k float32, row i at a[i*lda:], lda ≥ k; it is not modified;
//   - b, scales, sums are PackInt8's output from the block's first panel on: panel p at
//     b[p·k4·16:], scales and sums from the block's first column, n elements each;
//   - c, ldc, bias and epi are as for GemmBF16; k ≤ 65536.
//
// GemmInt8 is single-threaded; callers split the work by rows and ranges of panels.
func GemmInt8(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue) {
	if m <= 0 || n <= 0 {
		return
	}
	if k < 0 || k > maxInt8K || lda < k || ldc < n || len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+n || len(b) < Int8Len(n, k) ||
		len(scales) < n || len(sums) < n || (bias != nil && len(bias) < n) {
		panic(fmt.Sprintf("asm.GemmInt8: slices too short (or k too large) for m=%d n=%d k=%d lda=%d ldc=%d", m, n, k, lda, ldc))
	}
	if k == 0 {
		finishZero(m, n, c, ldc, bias, epi)
		return
	}
	activeLowp.int8(m, n, k, a, lda, b, scales, sums, c, ldc, bias, epi)
}

// finishZero is a product with k = 0: the epilogue of the bias alone.
func finishZero(m, n int, c []float32, ldc int, bias []float32, epi Epilogue) {
	sum := make([]float32, n)
	for i := 0; i < m; i++ {
		clear(sum)
		finish(c[i*ldc:i*ldc+n], sum, bias, 0, epi)
	}
}

// bf16Round rounds x to bfloat16, to nearest with ties to even; NaN becomes a quiet NaN of the
// same sign and high payload. This is how weights are rounded.
func bf16Round(x float32) uint16 {
	u := math.Float32bits(x)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// bf16RoundA is bf16Round with subnormal inputs flushed to zero of the same sign, exactly as
// VCVTNEPS2BF16 and VCVTNE2PS2BF16 round: how every variant rounds the activations.
func bf16RoundA(x float32) uint16 {
	u := math.Float32bits(x)
	if u&0x7f800000 == 0 {
		return uint16(u>>16) & 0x8000
	}
	return bf16Round(x)
}

// bf16ToFloat widens a bfloat16 to float32 (exactly).
func bf16ToFloat(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// quantParams returns the activation quantization of a row whose smallest and largest values
// are lo and hi: the scale s, its reciprocal inv = 1/s (in float32) and the zero point z (see
// the int8 notes). A row whose range is zero or so small that 1/s would overflow (s < 2⁻¹²⁶)
// quantizes to u = 0 with s = 0.
func quantParams(lo, hi float32) (s, inv float32, z int32) {
	lo, hi = min(lo, 0), max(hi, 0)
	s = hi/255 - lo/255
	if !(s >= 0x1p-126) || math.IsInf(float64(s), 0) {
		return 0, 0, 0
	}
	inv = 1 / s
	z = int32(max(0, min(255, math.RoundToEven(float64(-lo*inv)))))
	return s, inv, z
}

// quantize is one activation quantized with quantParams' inv and z.
func quantize(x, inv float32, z int32) uint8 {
	q := int32(math.RoundToEven(float64(x*inv))) + z
	return uint8(max(0, min(255, q)))
}

// rangeGeneric returns min(x) and max(x) (0, 0 for an empty x).
func rangeGeneric(x []float32) (lo, hi float32) {
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// lowpKernels are one variant's low-precision products.
type lowpKernels struct {
	bf16     func(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue)
	int8     func(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue)
	bf16Name string // what runs, e.g. "amx", "avx512-widen" (for logs and benchmarks)
	int8Name string
	tileRows int // rows of the register (or AMX) tile: the engine splits rows at multiples of it
}

// lowpVariant is a variant's low-precision kernels: resolve is called once, before the first
// product (it may probe the CPU or ask the OS for AMX), and returns the kernels to use from
// then on.
type lowpVariant struct {
	available bool
	resolve   func() lowpKernels
	once      sync.Once
	k         lowpKernels
}

var lowpVariants = map[string]*lowpVariant{}

// registerLowp gives the variant called name its low-precision kernels; architecture files
// call it while package variables are initialised, like register.
func registerLowp(name string, available bool, resolve func() lowpKernels) bool {
	lowpVariants[name] = &lowpVariant{available: available, resolve: resolve}
	return true
}

var _ = registerLowp("generic", true, func() lowpKernels {
	return lowpKernels{bf16: gemmBF16Generic, int8: gemmInt8Generic, bf16Name: "generic", int8Name: "generic", tileRows: 4}
})

// activeLowp dispatches to the selected variant's kernels (resolving them on first use).
var activeLowp = lowpDispatch{name: "generic"}

// lowpDispatch calls the kernels of the low-precision variant called name.
type lowpDispatch struct{ name string }

func (d lowpDispatch) kernels() *lowpKernels { return lowpVariants[d.name].kernels() }

func (d lowpDispatch) bf16(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue) {
	d.kernels().bf16(m, n, k, a, lda, b, c, ldc, bias, epi)
}

func (d lowpDispatch) int8(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue) {
	d.kernels().int8(m, n, k, a, lda, b, scales, sums, c, ldc, bias, epi)
}

// kernels returns the variant's kernels, resolving them on first use.
func (v *lowpVariant) kernels() *lowpKernels {
	v.once.Do(func() { v.k = v.resolve() })
	return &v.k
}

// useLowp selects the low-precision kernels of the variant called name, or, where that variant
// has none this CPU runs, the best available ones (Use calls it).
func useLowp(name string) {
	if v, ok := lowpVariants[name]; ok && v.available {
		activeLowp = lowpDispatch{name: name}
		return
	}
	activeLowp = lowpDispatch{name: bestLowp()}
}

// bestLowp is the first available of the variants in best()'s order.
func bestLowp() string {
	for _, n := range []string{"avx512", "avx2", "neon"} {
		if v, ok := lowpVariants[n]; ok && v.available {
			return n
		}
	}
	return "generic"
}

// LowpKernels names the kernels GemmBF16 and GemmInt8 run with the selected variant on this
// CPU, e.g. "amx" or "avx512-vnni". The first call may probe the CPU (and, where the CPU has
// AMX, ask the OS for permission to use it).
func LowpKernels() (bf16, int8 string) {
	k := activeLowp.kernels()
	return k.bf16Name, k.int8Name
}

// LowpTile is the number of rows GemmBF16 and GemmInt8 compute at once with the selected
// variant (32 for AMX): callers that split the rows of a product among threads should split
// them at multiples of it. Columns are split at whole panels (or pairs of panels, Tile's
// columns).
func LowpTile() int { return max(1, activeLowp.kernels().tileRows) }
