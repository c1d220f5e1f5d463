package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// lowpSizes are the awkward sizes every variant is checked on: both sides of the tile and
// panel edges, k odd and not a multiple of 4.
var lowpSizes = []int{1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 33, 47, 64, 65, 100}

// lowpGemmBF16 and lowpGemmInt8 are GemmBF16 and GemmInt8 without the argument checks: what a
// variant's kernel set provides.
type (
	lowpGemmBF16 func(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue)
	lowpGemmInt8 func(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue)
)

// lowpProblem is one random product: a (m×k, row stride lda) with some rows zero and some
// huge, w (n×k), bias (or nil), and c's initial contents (m×ldc plus guard elements).
type lowpProblem struct {
	m, n, k, lda, ldc int
	a, w, bias, c     []float32
	epi               Epilogue
}

const lowpGuard = 16

func newLowpProblem(r *rand.Rand, m, n, k int, epi Epilogue, withBias bool) *lowpProblem {
	p := &lowpProblem{m: m, n: n, k: k, lda: k + r.IntN(3), ldc: n + r.IntN(3), epi: epi}
	p.a = randSlice(r, (m-1)*p.lda+k)
	for i := 0; i < m; i++ {
		row := p.a[i*p.lda : i*p.lda+k]
		switch r.IntN(8) {
		case 0: // a zero row
			clear(row)
		case 1: // huge values (the products stay finite)
			for j := range row {
				row[j] *= 1e30
			}
		case 2: // all positive (zero point 0)
			for j := range row {
				row[j] = float32(math.Abs(float64(row[j])))
			}
		case 3: // all negative (zero point 255)
			for j := range row {
				row[j] = -float32(math.Abs(float64(row[j])))
			}
		case 4: // skewed, as a GELU output
			for j := range row {
				row[j] = Gelu(row[j])
			}
		}
	}
	p.w = randSlice(r, n*k)
	if n > 1 {
		clear(p.w[k : 2*k]) // an all-zero column
	}
	if withBias {
		p.bias = randSlice(r, n)
	}
	p.c = randSlice(r, (m-1)*p.ldc+n+lowpGuard)
	return p
}

// want computes the expected c in float64 from the same rounded or quantized values the
// kernels use (a and w through bf16RoundA and bf16Round, or quantParams and PackInt8's q), and
// each element's magnitude: the sum of the absolute values of what is added.
func (p *lowpProblem) want(quantized bool) (want, mag []float64) {
	m, n, k := p.m, p.n, p.k
	want = make([]float64, len(p.c))
	mag = make([]float64, len(p.c))
	for i := range p.c {
		want[i] = float64(p.c[i])
	}
	// The weights as the kernels see them, n×k: bf16 values or int8 q.
	var scales []float32
	var sums []int32
	wq := make([]float64, n*k)
	if quantized {
		var qb []int8
		qb, scales, sums = PackInt8(p.w, n, k)
		k4 := k4Of(k)
		for j := 0; j < n; j++ {
			for kk := 0; kk < k; kk++ {
				wq[j*k+kk] = float64(qb[(j/PanelWidth)*k4*PanelWidth+(kk/4)*4*PanelWidth+(j%PanelWidth)*4+kk%4])
			}
		}
	} else {
		for i, v := range p.w {
			wq[i] = float64(bf16ToFloat(bf16Round(v)))
		}
	}
	x := make([]float64, k)
	for i := 0; i < m; i++ {
		row := p.a[i*p.lda : i*p.lda+k]
		var s float32
		var z int32
		if quantized {
			var inv float32
			s, inv, z = quantParams(rangeGeneric(row))
			for kk, v := range row {
				x[kk] = float64(quantize(v, inv, z))
			}
		} else {
			for kk, v := range row {
				x[kk] = float64(bf16ToFloat(bf16RoundA(v)))
			}
		}
		for j := 0; j < n; j++ {
			w := wq[j*k : j*k+k]
			var sum, abs float64
			if quantized {
				// Integers below 2⁵³: exact in float64.
				var t, ta float64
				for kk, q := range w {
					t += x[kk] * q
					ta += (x[kk] + float64(z)) * math.Abs(q)
				}
				t -= float64(z) * float64(sums[j])
				f := float64(s) * float64(scales[j])
				sum, abs = t*f, ta*f
			} else {
				for kk, q := range w {
					v := x[kk] * q
					sum += v
					abs += math.Abs(v)
				}
			}
			if p.bias != nil {
				sum += float64(p.bias[j])
				abs += math.Abs(float64(p.bias[j]))
			}
			e := i*p.ldc + j
			switch p.epi {
			case Store:
				want[e] = sum
			case Accumulate:
				abs += math.Abs(want[e])
				want[e] += sum
			case GELU:
				want[e] = 0.5 * sum * math.Erfc(-sum/math.Sqrt2)
			}
			mag[e] = abs
		}
	}
	return want, mag
}

// check compares got with want: within rel times the element's magnitude for int8, within rel
// times the row's largest magnitude for bf16 (whose float32 sums lose precision with the row's
// scale); GELU adds a few ulps of its own. Padding and guard elements must be untouched. It
// returns the worst error as a multiple of the tolerance's rel.
func (p *lowpProblem) check(t *testing.T, what string, got []float32, want, mag []float64, rel float64, perRow bool) float64 {
	t.Helper()
	worst := 0.0
	for i := 0; i < p.m; i++ {
		rowMag := 0.0
		for j := 0; j < p.n; j++ {
			rowMag = max(rowMag, mag[i*p.ldc+j])
		}
		for j := 0; j < p.ldc && i*p.ldc+j < len(got); j++ {
			e := i*p.ldc + j
			if j >= p.n {
				if got[e] != p.c[e] {
					t.Fatalf("%s: element %d (row %d, column %d) outside the product changed: %g, was %g", what, e, i, j, got[e], p.c[e])
				}
				continue
			}
			scale := mag[e]
			if perRow {
				scale = rowMag
			}
			tol := rel * scale
			if p.epi == GELU {
				tol = 1.2*tol + 1e-6*math.Abs(want[e]) + 1e-30
			}
			d := math.Abs(float64(got[e]) - want[e])
			if !(d <= tol) {
				t.Fatalf("%s: element %d (row %d, column %d) = %g, want %g (magnitude %g, tolerance %g)", what, e, i, j, got[e], want[e], scale, tol)
			}
			if scale > 0 {
				worst = max(worst, d/scale/rel)
			}
		}
	}
	for e := (p.m-1)*p.ldc + p.n; e < len(got); e++ {
		if got[e] != p.c[e] {
			t.Fatalf("%s: guard element %d changed", what, e)
		}
	}
	return worst
}

// Tolerances: bf16 sums are float32 sums of exact products, 1e-5 of the row's magnitude; int8
// sums are exact, then a few float32 roundings (per block of k): 1e-6 of the element's.
const (
	lowpTolBF16 = 1e-5
	lowpTolInt8 = 1e-6
)

// runBF16 runs gemm on p and checks it.
func (p *lowpProblem) runBF16(t *testing.T, name string, gemm lowpGemmBF16) float64 {
	t.Helper()
	got := append([]float32(nil), p.c...)
	gemm(p.m, p.n, p.k, p.a, p.lda, PackBF16(p.w, p.n, p.k), got[:(p.m-1)*p.ldc+p.n], p.ldc, p.bias, p.epi)
	want, mag := p.want(false)
	return p.check(t, fmt.Sprintf("bf16 %s m=%d n=%d k=%d lda=%d ldc=%d epi=%d bias=%v", name, p.m, p.n, p.k, p.lda, p.ldc, p.epi, p.bias != nil), got, want, mag, lowpTolBF16, true)
}

// runInt8 runs gemm on p and checks it.
func (p *lowpProblem) runInt8(t *testing.T, name string, gemm lowpGemmInt8) float64 {
	t.Helper()
	got := append([]float32(nil), p.c...)
	b, scales, sums := PackInt8(p.w, p.n, p.k)
	gemm(p.m, p.n, p.k, p.a, p.lda, b, scales, sums, got[:(p.m-1)*p.ldc+p.n], p.ldc, p.bias, p.epi)
	want, mag := p.want(true)
	return p.check(t, fmt.Sprintf("int8 %s m=%d n=%d k=%d lda=%d ldc=%d epi=%d bias=%v", name, p.m, p.n, p.k, p.lda, p.ldc, p.epi, p.bias != nil), got, want, mag, lowpTolInt8, false)
}

// lowpSweep checks bf16 and int8 products on every m and n of lowpSizes (k, the epilogue and
// the bias cycling with them), then every epilogue with and without bias on a few shapes.
func lowpSweep(t *testing.T, name string, bf16 lowpGemmBF16, i8 lowpGemmInt8, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	epis := []Epilogue{Store, Accumulate, GELU}
	var worstB, worstI float64
	n := 0
	for im, m := range lowpSizes {
		for in, nn := range lowpSizes {
			k := lowpSizes[(im*7+in*3)%len(lowpSizes)]
			epi := epis[(im+in)%3]
			withBias := (im+2*in)%2 == 0
			p := newLowpProblem(r, m, nn, k, epi, withBias)
			worstB = max(worstB, p.runBF16(t, name, bf16))
			worstI = max(worstI, p.runInt8(t, name, i8))
			n++
		}
	}
	for _, s := range [][3]int{{7, 33, 65}, {13, 17, 100}, {1, 47, 3}, {33, 100, 47}} {
		for _, epi := range epis {
			for _, withBias := range []bool{false, true} {
				p := newLowpProblem(r, s[0], s[1], s[2], epi, withBias)
				worstB = max(worstB, p.runBF16(t, name, bf16))
				worstI = max(worstI, p.runInt8(t, name, i8))
				n++
			}
		}
	}
	t.Logf("%s: %d products; worst error: bf16 %.2f×%g of the row's magnitude, int8 %.2f×%g of the element's", name, n, worstB, lowpTolBF16, worstI, lowpTolInt8)
}

// startupLowp is the low-precision variant chosen at start-up (this file's init runs after
// sgemm.go's, which chooses).
var startupLowp string

func init() { startupLowp = activeLowp.name }

// TestLowpStartupChoice: the low-precision kernels follow the variant chosen at start-up
// (VITC_KERNEL, GODEBUG=cpu.avx512f=off, -tags purego).
func TestLowpStartupChoice(t *testing.T) {
	if startupLowp != startupKernel {
		t.Fatalf("start-up chose %q for Sgemm but %q for GemmBF16/GemmInt8", startupKernel, startupLowp)
	}
	if err := Use(startupKernel); err != nil {
		t.Fatal(err)
	}
	bf, i8 := LowpKernels()
	t.Logf("start-up: %s; bf16 %s, int8 %s", startupLowp, bf, i8)
}

// TestLowpVariants checks GemmBF16 and GemmInt8 with every available variant.
func TestLowpVariants(t *testing.T) {
	defer func() { _ = Use(best()) }()
	for i, name := range Available() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		bn, in := LowpKernels()
		t.Logf("%s: bf16 kernel %s, int8 kernel %s, tile rows %d", name, bn, in, LowpTile())
		lowpSweep(t, name, GemmBF16, GemmInt8, uint64(i))
	}
}

// TestLowpLarge runs shapes past the cache blocks of every variant (but the reference, which
// has none): k over several blocks, rows over several blocks, columns over several panel
// blocks, one epilogue each.
func TestLowpLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	defer func() { _ = Use(best()) }()
	r := rand.New(rand.NewPCG(21, 22))
	for _, name := range Available() {
		if name == "generic" {
			continue
		}
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			m, n, k int
			epi     Epilogue
		}{{13, 1060, 2100, Accumulate}, {530, 40, 300, GELU}, {41, 530, 1030, Store}} {
			p := newLowpProblem(r, s.m, s.n, s.k, s.epi, true)
			p.runBF16(t, name, GemmBF16)
			p.runInt8(t, name, GemmInt8)
		}
	}
}

// TestLowpPanelRanges computes a product whole, then by ranges of panels [p0, p1) (b, bias,
// scales and sums sliced at the range's first panel, as runtime/engine does): the columns must
// be the same bits.
func TestLowpPanelRanges(t *testing.T) {
	defer func() { _ = Use(best()) }()
	r := rand.New(rand.NewPCG(23, 24))
	m, n, k := 29, 16*9+5, 77
	a, w, bias := randSlice(r, m*k), randSlice(r, n*k), randSlice(r, n)
	bb := PackBF16(w, n, k)
	bq, scales, sums := PackInt8(w, n, k)
	ke, k4 := kEvenOf(k), k4Of(k)
	for _, name := range Available() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		for _, epi := range []Epilogue{Store, GELU} {
			wholeB, wholeI := make([]float32, m*n), make([]float32, m*n)
			GemmBF16(m, n, k, a, k, bb, wholeB, n, bias, epi)
			GemmInt8(m, n, k, a, k, bq, scales, sums, wholeI, n, bias, epi)
			for _, pr := range [][2]int{{0, 1}, {1, 3}, {2, 9}, {3, 10}, {9, 10}, {4, 5}} {
				p0, p1 := pr[0], pr[1]
				j0, j1 := p0*PanelWidth, min(n, p1*PanelWidth)
				gotB, gotI := make([]float32, m*n), make([]float32, m*n)
				GemmBF16(m, j1-j0, k, a, k, bb[p0*ke*PanelWidth:], gotB[j0:], n, bias[j0:], epi)
				GemmInt8(m, j1-j0, k, a, k, bq[p0*k4*PanelWidth:], scales[j0:], sums[j0:], gotI[j0:], n, bias[j0:], epi)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						e := i*n + j
						in := j >= j0 && j < j1
						if in && (gotB[e] != wholeB[e] || gotI[e] != wholeI[e]) || !in && (gotB[e] != 0 || gotI[e] != 0) {
							t.Fatalf("%s epi=%d panels [%d,%d): element (%d,%d): bf16 %g (whole %g), int8 %g (whole %g)",
								name, epi, p0, p1, i, j, gotB[e], wholeB[e], gotI[e], wholeI[e])
						}
					}
				}
			}
		}
	}
}

// TestLowpZeroK: with k = 0 the result is the epilogue of the bias alone.
func TestLowpZeroK(t *testing.T) {
	bias := []float32{1, -2, 3}
	for _, epi := range []Epilogue{Store, Accumulate, GELU} {
		for _, quantized := range []bool{false, true} {
			c := []float32{10, 10, 10, 7, 20, 20, 20}
			if quantized {
				GemmInt8(2, 3, 0, nil, 0, nil, make([]float32, 3), make([]int32, 3), c, 4, bias, epi)
			} else {
				GemmBF16(2, 3, 0, nil, 0, nil, c, 4, bias, epi)
			}
			for i := 0; i < 2; i++ {
				for j := 0; j < 3; j++ {
					want := bias[j]
					switch epi {
					case Accumulate:
						want += 10 * float32(i+1)
					case GELU:
						want = Gelu(want)
					}
					if c[i*4+j] != want {
						t.Errorf("int8=%v epi=%d: c[%d][%d] = %g, want %g", quantized, epi, i, j, c[i*4+j], want)
					}
				}
			}
			if c[3] != 7 {
				t.Errorf("padding changed")
			}
		}
	}
}

// TestLowpArgumentChecks: short slices panic with the function's name.
func TestLowpArgumentChecks(t *testing.T) {
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		f()
	}
	a, c := make([]float32, 4*8), make([]float32, 4*20)
	mustPanic("GemmBF16 short b", func() { GemmBF16(4, 20, 8, a, 8, make([]uint16, BF16Len(20, 8)-1), c, 20, nil, Store) })
	mustPanic("GemmInt8 short b", func() {
		GemmInt8(4, 20, 8, a, 8, make([]int8, Int8Len(20, 8)-1), make([]float32, 20), make([]int32, 20), c, 20, nil, Store)
	})
	mustPanic("GemmInt8 short scales", func() {
		GemmInt8(4, 20, 8, a, 8, make([]int8, Int8Len(20, 8)), make([]float32, 19), make([]int32, 20), c, 20, nil, Store)
	})
	mustPanic("GemmBF16 short c", func() { GemmBF16(4, 20, 8, a, 8, make([]uint16, BF16Len(20, 8)), c[:79], 20, nil, Store) })
	mustPanic("GemmInt8 huge k", func() {
		GemmInt8(1, 1, maxInt8K+1, make([]float32, maxInt8K+1), maxInt8K+1, make([]int8, Int8Len(1, maxInt8K+1)), make([]float32, 1), make([]int32, 1), c, 1, nil, Store)
	})
	mustPanic("PackBF16 short w", func() { PackBF16(make([]float32, 5), 2, 3) })
	GemmBF16(0, 20, 8, nil, 8, nil, nil, 20, nil, Store) // m = 0: nothing to do, nothing checked
}

// TestPackBF16 checks the rounding (to nearest, ties to even, NaN kept, overflow to infinity)
// and the layout.
func TestPackBF16(t *testing.T) {
	for _, c := range []struct {
		in  uint32
		out uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie, even below
		{0x3f818000, 0x3f82}, // tie, even above
		{0x3f808001, 0x3f81}, // above the tie
		{0x3f807fff, 0x3f80}, // below the tie
		{0xbf818000, 0xbf82}, // negative tie
		{0x7f7fffff, 0x7f80}, // the largest float32 rounds to +Inf
		{0x7f7f0000, 0x7f7f}, // the largest bfloat16
		{0x7f800000, 0x7f80}, // +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x7fc00000, 0x7fc0}, // NaN
		{0x7f800001, 0x7fc0}, // a signalling NaN whose payload is all in the low half stays NaN
		{0x00000000, 0x0000}, // +0
		{0x80000000, 0x8000}, // -0
		{0x00018000, 0x0002}, // a subnormal, tie to even (weights keep subnormals)
	} {
		got := bf16Round(math.Float32frombits(c.in))
		if got != c.out {
			t.Errorf("bf16Round(%#08x) = %#04x, want %#04x", c.in, got, c.out)
		}
	}
	if got := bf16RoundA(math.Float32frombits(0x00018000)); got != 0 {
		t.Errorf("bf16RoundA(subnormal) = %#04x, want 0", got)
	}
	if got := bf16RoundA(math.Float32frombits(0x80018000)); got != 0x8000 {
		t.Errorf("bf16RoundA(-subnormal) = %#04x, want 0x8000", got)
	}
	// Layout: w[j][kk] = j + kk/4 (exact in bfloat16 for these sizes).
	n, k := 37, 5
	w := make([]float32, n*k)
	for j := 0; j < n; j++ {
		for kk := 0; kk < k; kk++ {
			w[j*k+kk] = float32(j) + float32(kk)/4
		}
	}
	b := PackBF16(w, n, k)
	if len(b) != BF16Len(n, k) || len(b) != 3*6*16 {
		t.Fatalf("len %d, BF16Len %d, want %d", len(b), BF16Len(n, k), 3*6*16)
	}
	for i, v := range b {
		p, rest := i/(6*16), i%(6*16)
		kk, j := rest/32*2+rest%2, p*16+(rest%32)/2
		want := float32(0)
		if j < n && kk < k {
			want = w[j*k+kk]
		}
		if bf16ToFloat(v) != want {
			t.Fatalf("b[%d] (panel %d, k %d, column %d) = %g, want %g", i, p, kk, j, bf16ToFloat(v), want)
		}
	}
}

// TestPackInt8 checks the quantization (ties to even, the column's maximum at ±127, zero
// columns), the sums and the layout.
func TestPackInt8(t *testing.T) {
	// Column 0 has max 127: scale 1, so q = round-half-even(w).
	// Column 1 is zero; column 2 has max 254: scale 2.
	k := 6
	w := []float32{
		2.5, 3.5, -2.5, -0.5, 126.5, -127,
		0, 0, 0, 0, 0, 0,
		5, -5, 3, 254, -254, 1, // /2: 2.5→2, -2.5→-2, 1.5→2, 127, -127, 0.5→0
	}
	b, scales, sums := PackInt8(w, 3, k)
	wantQ := [][]int8{{2, 4, -2, 0, 126, -127}, {0, 0, 0, 0, 0, 0}, {2, -2, 2, 127, -127, 0}}
	wantS := []float32{1, 0, 2}
	if len(b) != Int8Len(3, k) || len(b) != 8*16 {
		t.Fatalf("len %d, Int8Len %d", len(b), Int8Len(3, k))
	}
	for j := range 3 {
		if scales[j] != wantS[j] {
			t.Errorf("scale[%d] = %g, want %g", j, scales[j], wantS[j])
		}
		s := int32(0)
		for kk := 0; kk < k; kk++ {
			q := b[(kk/4)*64+j*4+kk%4]
			if q != wantQ[j][kk] {
				t.Errorf("q[%d][%d] = %d, want %d", j, kk, q, wantQ[j][kk])
			}
			s += int32(q)
		}
		if sums[j] != s {
			t.Errorf("sums[%d] = %d, want %d", j, sums[j], s)
		}
	}
	for i, v := range b {
		j, kk := (i%64)/4, (i/64)*4+i%4
		if (j >= 3 || kk >= k) && v != 0 {
			t.Fatalf("padding b[%d] = %d", i, v)
		}
	}
	// Random columns: every q within [-127, 127], the maximum at ±127.
	r := rand.New(rand.NewPCG(25, 26))
	n, k := 19, 23
	w = randSlice(r, n*k)
	b, scales, _ = PackInt8(w, n, k)
	k4 := k4Of(k)
	for j := 0; j < n; j++ {
		peak := int8(0)
		for kk := 0; kk < k; kk++ {
			q := b[(j/16)*k4*16+(kk/4)*64+(j%16)*4+kk%4]
			if q < -127 {
				t.Fatalf("q = %d", q)
			}
			if math.Abs(float64(q)) > math.Abs(float64(peak)) {
				peak = q
			}
			if d := math.Abs(float64(w[j*k+kk])/float64(scales[j]) - float64(q)); d > 0.5 {
				t.Fatalf("column %d k %d: q = %d for w/scale = %g", j, kk, q, float64(w[j*k+kk])/float64(scales[j]))
			}
		}
		if peak != 127 && peak != -127 {
			t.Errorf("column %d: largest |q| = %d, want 127", j, peak)
		}
	}
}

// TestQuantize checks the activations' quantization: the zero point, ties to even, clamping.
func TestQuantize(t *testing.T) {
	// lo = -1, hi = 254: s = 1 (255/255), z = 1.
	s, inv, z := quantParams(-1, 254)
	if s != 1 || inv != 1 || z != 1 {
		t.Fatalf("quantParams(-1, 254) = %g, %g, %d", s, inv, z)
	}
	for _, c := range []struct {
		x    float32
		want uint8
	}{{0, 1}, {-1, 0}, {254, 255}, {0.5, 1}, {1.5, 3}, {2.5, 3}, {-0.5, 1}, {300, 255}, {-300, 0}, {253.5, 255}} {
		if got := quantize(c.x, inv, z); got != c.want {
			t.Errorf("quantize(%g) = %d, want %d", c.x, got, c.want)
		}
	}
	// A positive row has zero point 0, a negative one 255, a zero one scale 0.
	if _, _, z := quantParams(0.5, 3); z != 0 {
		t.Errorf("positive row: zero point %d", z)
	}
	if _, _, z := quantParams(-3, -0.5); z != 255 {
		t.Errorf("negative row: zero point %d", z)
	}
	if s, inv, z := quantParams(0, 0); s != 0 || inv != 0 || z != 0 {
		t.Errorf("zero row: %g %g %d", s, inv, z)
	}
	if s, _, _ := quantParams(-3e38, 3e38); math.IsInf(float64(s), 0) || s == 0 {
		t.Errorf("the widest row: scale %g", s)
	}
}

// lowpBenchShapes are vitb14's Linear layers at batch 8: 8 images × 257 tokens; qkv, proj,
// fc1, fc2.
var lowpBenchShapes = []struct{ m, n, k int }{{2056, 2304, 768}, {2056, 768, 768}, {2056, 3072, 768}, {2056, 768, 3072}}

// BenchmarkLowp times, single-threaded, each variant's float32 Sgemm, GemmBF16 and GemmInt8
// side by side on vitb14's shapes at batch 8 (GFLOP/s counts 2·m·n·k for all three). The
// machine may be shared: run with -count 5 or more and compare medians.
func BenchmarkLowp(b *testing.B) {
	defer func() { _ = Use(best()) }()
	r := rand.New(rand.NewPCG(27, 28))
	for _, name := range Available() {
		if name == "generic" {
			continue // minutes per product
		}
		for _, s := range lowpBenchShapes {
			a := randSlice(r, s.m*s.k)
			w := randSlice(r, s.n*s.k)
			bias := randSlice(r, s.n)
			wf := pack(w, s.n, s.k)
			wb := PackBF16(w, s.n, s.k)
			wq, scales, sums := PackInt8(w, s.n, s.k)
			c := make([]float32, s.m*s.n)
			for _, prec := range []string{"f32", "bf16", "int8"} {
				b.Run(fmt.Sprintf("%s/%s/M=%d,N=%d,K=%d", name, prec, s.m, s.n, s.k), func(b *testing.B) {
					if err := Use(name); err != nil {
						b.Skip(err)
					}
					for b.Loop() {
						switch prec {
						case "f32":
							Sgemm(s.m, s.n, s.k, a, s.k, wf, c, s.n, bias, Store)
						case "bf16":
							GemmBF16(s.m, s.n, s.k, a, s.k, wb, c, s.n, bias, Store)
						case "int8":
							GemmInt8(s.m, s.n, s.k, a, s.k, wq, scales, sums, c, s.n, bias, Store)
						}
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
