//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// rowLengths are both sides of the 8- and 16-float vectors, odd tails, and the attention rows
// of ViT/14 at 224 px (257 tokens) and 476 px (1157).
var rowLengths = []int{0, 1, 7, 8, 15, 16, 17, 31, 33, 257, 1157}

// expSlice replaces each float of x with e^x, with v's kernel.
func (v rowVariant) expSlice(x []float32) {
	for len(x) > 0 {
		n := min(len(x), rowMax)
		v.exp(&x[0], n)
		x = x[n:]
	}
}

// rowCase is one variant's Softmax and LayerNorm as slices: the reference and amd64Rows.
type rowCase struct {
	name      string
	available bool
	softmax   func(row []float32, scale float32)
	layerNorm func(dst, x, w, b []float32, eps float32)
}

func rowCases() []rowCase {
	out := []rowCase{{"generic", true, softmaxGeneric, layerNormGeneric}}
	for _, v := range amd64Rows {
		out = append(out, rowCase{v.name, v.available, v.softmaxSlice, v.layerNormSlice})
	}
	return out
}

// ulpsOff is |got - want| in ulps of float32 at want (subnormal spacing below 2⁻¹²⁶).
func ulpsOff(got float32, want float64) float64 {
	return math.Abs(float64(got)-want) / ulp32(want)
}

// TestExpKernels checks the vectorised e^x against float64 on every 61st float32 of magnitude
// 2⁻³⁰ to 87.3, both signs, within 1.5 ulp; against asm.Exp at the edges; and that AVX2 and
// AVX-512 give the same bits.
func TestExpKernels(t *testing.T) {
	stride := uint32(61)
	if testing.Short() {
		stride = 1999
	}
	var xs []float32
	for b := math.Float32bits(0x1p-30); b <= math.Float32bits(87.3); b += stride {
		xs = append(xs, math.Float32frombits(b), -math.Float32frombits(b))
	}
	inf := float32(math.Inf(1))
	var edges []float32
	for _, x := range []float32{0, -87.33654, -87.3365, -87.34, -88, -100, -104, -1e30, -inf, 88.72, 88.7228, 88.72284, 88.8, 100, 1e30, inf} {
		edges = append(edges, x, math.Nextafter32(x, 0), math.Nextafter32(x, 2*x))
	}
	var results [][]float32
	for _, v := range amd64Rows {
		if !v.available {
			t.Logf("%s: not available", v.name)
			continue
		}
		got := append([]float32(nil), xs...)
		v.expSlice(got)
		worst, at := 0.0, float32(0)
		for i, x := range xs {
			u := ulpsOff(got[i], math.Exp(float64(x)))
			if u > worst {
				worst, at = u, x
			}
		}
		t.Logf("%s: e^x for |x| in [2⁻³⁰, 87.3]: max error %.3f ulp at x = %g (%d values)", v.name, worst, at, len(xs))
		if worst > 1.5 {
			t.Errorf("%s: e^%g off by %.3f ulp", v.name, at, worst)
		}
		e := append([]float32(nil), edges...)
		v.expSlice(e)
		for i, x := range edges {
			want := Exp(x)
			if x >= -87.33654 && x <= 88 {
				if u := ulpsOff(e[i], float64(want)); u > 2 {
					t.Errorf("%s: e^%g = %g, Exp has %g", v.name, x, e[i], want)
				}
			} else if e[i] != want && !(x > 88.7 && x < 88.73) { // Exp's overflow threshold is its own
				t.Errorf("%s: e^%g = %g, Exp has %g", v.name, x, e[i], want)
			}
		}
		nan := []float32{float32(math.NaN())}
		v.expSlice(nan)
		if nan[0] == nan[0] {
			t.Errorf("%s: e^NaN = %g", v.name, nan[0])
		}
		results = append(results, append(got, e...))
	}
	if len(results) == 2 {
		for i := range results[0] {
			if math.Float32bits(results[0][i]) != math.Float32bits(results[1][i]) {
				t.Fatalf("e^x: %s and %s differ: %g, %g", amd64Rows[0].name, amd64Rows[1].name, results[0][i], results[1][i])
			}
		}
	}
}

// softmax64 is softmax(scale·x) in float64, from float32(scale·x) as the kernels have it.
func softmax64(x []float32, scale float32) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v*scale))
	}
	out := make([]float64, len(x))
	var sum float64
	for i, v := range x {
		out[i] = math.Exp(float64(v*scale) - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// TestSoftmaxKernels checks each variant against the reference and float64 on rowLengths
// and on extreme rows, and that no float past the row is touched.
func TestSoftmaxKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	inf := float32(math.Inf(1))
	type row struct {
		name  string
		x     []float32
		scale float32
		exact bool // the kernels must give the reference's bits
	}
	var rows []row
	for _, n := range rowLengths {
		x := randSlice(r, n)
		for i := range x {
			x[i] *= 24 // scores of a trained ViT: scale·x within about ±10
		}
		rows = append(rows, row{fmt.Sprintf("n=%d", n), x, 0.125, false})
		equal, huge, negatives, infs := make([]float32, n), append([]float32(nil), x...), append([]float32(nil), x...), append([]float32(nil), x...)
		for i := range equal {
			equal[i] = 3.5
		}
		for i := 0; i < n; i += 2 {
			negatives[i] = -1e30 * (1 + float32(i))
			infs[i] = -inf
		}
		if n > 0 {
			huge[n/2] = 1e30
		}
		rows = append(rows, row{fmt.Sprintf("n=%d,equal", n), equal, 0.125, true},
			row{fmt.Sprintf("n=%d,huge", n), huge, 1, true},
			row{fmt.Sprintf("n=%d,negatives", n), negatives, 0.125, false},
			row{fmt.Sprintf("n=%d,-inf", n), infs, 0.125, false},
			row{fmt.Sprintf("n=%d,scale=0", n), x, 0, true})
	}
	for _, v := range rowCases() {
		if !v.available {
			t.Logf("%s: not available", v.name)
			continue
		}
		worstRef, worst64 := 0.0, 0.0
		for _, c := range rows {
			n := len(c.x)
			want := append([]float32(nil), c.x...)
			softmaxGeneric(want, c.scale)
			want64 := softmax64(c.x, c.scale)
			got := append(append([]float32(nil), c.x...), 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42)
			v.softmax(got[:n], c.scale)
			for i, g := range got[n:] {
				if g != 42 {
					t.Fatalf("%s %s: wrote float %d past the row", v.name, c.name, n+i)
				}
			}
			var sum float64
			for i := range n {
				g := got[i]
				sum += float64(g)
				if c.exact && g != want[i] {
					t.Fatalf("%s %s: element %d = %g, reference %g", v.name, c.name, i, g, want[i])
				}
				// Relative to the largest probability: the tiny ones are within an ulp of e^x.
				dRef := math.Abs(float64(g-want[i])) / float64(max(want[i], 1e-30)) / 0x1p-24
				d64 := math.Abs(float64(g)-want64[i]) / max(want64[i], 1e-30) / 0x1p-24
				if want[i] >= 1e-30 {
					worstRef, worst64 = max(worstRef, dRef), max(worst64, d64)
				} else if g > 1e-30 {
					t.Fatalf("%s %s: element %d = %g, reference %g", v.name, c.name, i, g, want[i])
				}
				if dRef > 16 || d64 > 32 {
					t.Fatalf("%s %s: element %d = %g, reference %g, float64 %g", v.name, c.name, i, g, want[i], want64[i])
				}
			}
			if n > 0 && math.Abs(sum-1) > 1e-5 {
				t.Errorf("%s %s: Σ = %g", v.name, c.name, sum)
			}
		}
		t.Logf("%s: softmax within %.1f units of 2⁻²⁴ (relative) of the reference, %.1f of float64", v.name, worstRef, worst64)

		// NaN or +Inf anywhere: every probability is NaN, as in the reference.
		for _, bad := range []float32{float32(math.NaN()), inf} {
			for _, n := range []int{1, 9, 17, 40} {
				for at := 0; at < n; at += 7 {
					x := randSlice(r, n)
					x[at] = bad
					v.softmax(x, 0.125)
					for i, g := range x {
						if g == g {
							t.Fatalf("%s: softmax of a row with %g at %d/%d: element %d = %g, want NaN", v.name, bad, at, n, i, g)
						}
					}
				}
			}
		}
	}
}

// TestSoftmaxRows checks that each variant's SoftmaxRows gives, row by row, the bits of its
// Softmax, for 1 to 5 rows (pairs and an odd last row) of rowLengths floats, rows apart by
// n and more, rows of NaN, -Inf and equal floats among them, and touches nothing between or
// after the rows.
func TestSoftmaxRows(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const guard = 42
	for _, v := range rowCases() {
		if !v.available {
			continue
		}
		rowsOf := rowVariants["generic"].softmaxRows
		if v.name != "generic" {
			rowsOf = rowVariants[v.name].softmaxRows
		}
		for _, n := range rowLengths[1:] {
			for _, gap := range []int{0, 3, 16} {
				ld := n + gap
				for rows := 1; rows <= 5; rows++ {
					x := make([]float32, rows*ld+PanelWidth)
					for i := range x {
						x[i] = guard
					}
					for i := range rows {
						row := x[i*ld : i*ld+n]
						for j := range row {
							row[j] = 24 * float32(r.NormFloat64())
						}
						switch (i + n) % 7 {
						case 3:
							row[n/2] = float32(math.NaN())
						case 4:
							row[n-1] = float32(math.Inf(-1))
						case 5:
							for j := range row {
								row[j] = 3.5
							}
						}
					}
					want := append([]float32(nil), x...)
					for i := range rows {
						v.softmax(want[i*ld:i*ld+n], 0.125)
					}
					rowsOf(x, rows, n, ld, 0.125)
					for i := range x {
						if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s: %d rows of %d, %d apart: float %d = %g, want %g (its Softmax's, or untouched)", v.name, rows, n, ld, i, x[i], want[i])
						}
					}
				}
			}
		}
	}
}

// layerNorm64 is LayerNorm in float64.
func layerNorm64(x, w, b []float32, eps float64) []float64 {
	var mean, sq float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	for _, v := range x {
		sq += (float64(v) - mean) * (float64(v) - mean)
	}
	inv := 1 / math.Sqrt(sq/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = (float64(v)-mean)*inv*float64(w[i]) + float64(b[i])
	}
	return out
}

// TestLayerNormKernels checks each variant against float64 on rows of 1 to 1280 floats whose
// mean is large against their spread (100 + N(0, 3), and 10⁴ + N(0, 1)): within 1e-5·(1 + |want|),
// and on constant rows; and that no float past the row is touched.
func TestLayerNormKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	widths := []int{1, 7, 8, 15, 16, 17, 24, 31, 33, 64, 257, 384, 768, 1024, 1157, 1280}
	const eps = 1e-6
	for _, v := range rowCases() {
		if !v.available {
			t.Logf("%s: not available", v.name)
			continue
		}
		for _, dist := range []struct{ mean, sd float32 }{{100, 3}, {1e4, 1}, {0, 1}, {-5, 0}} {
			worst, worstRel := 0.0, 0.0
			for _, n := range widths {
				for range 4 {
					x, w, b := randSlice(r, n), randSlice(r, n), randSlice(r, n)
					for i := range x {
						x[i] = dist.mean + dist.sd*x[i]
					}
					want := layerNorm64(x, w, b, eps)
					dst := make([]float32, n+16)
					for i := range dst {
						dst[i] = 42
					}
					v.layerNorm(dst[:n], x, w, b, eps)
					for i, g := range dst[n:] {
						if g != 42 {
							t.Fatalf("%s n=%d: wrote float %d past the row", v.name, n, n+i)
						}
					}
					for i := range n {
						d := math.Abs(float64(dst[i]) - want[i])
						worst = max(worst, d/(1+math.Abs(want[i])))
						if math.Abs(want[i]) > 0.1 {
							worstRel = max(worstRel, d/math.Abs(want[i]))
						}
						if d > 1e-5*(1+math.Abs(want[i])) {
							t.Fatalf("%s mean %g sd %g n=%d: element %d = %g, want %g", v.name, dist.mean, dist.sd, n, i, dst[i], want[i])
						}
					}
					// In place, as the reference.
					inPlace := append([]float32(nil), x...)
					v.layerNorm(inPlace, inPlace, w, b, eps)
					for i := range n {
						if inPlace[i] != dst[i] {
							t.Fatalf("%s n=%d: in place, element %d = %g, not %g", v.name, n, i, inPlace[i], dst[i])
						}
					}
				}
			}
			t.Logf("%s: x = %g + N(0, %g): max |got-want|/(1+|want|) = %.2e, max relative (|want| > 0.1) = %.2e", v.name, dist.mean, dist.sd, worst, worstRel)
		}
	}
}

// TestRowDispatch checks that Softmax and LayerNorm run the selected variant's kernels, and
// the reference for rows longer than rowMax.
func TestRowDispatch(t *testing.T) {
	defer func() { _ = Use(startupKernel) }()
	r := rand.New(rand.NewPCG(15, 16))
	x, w, b := randSlice(r, 1157), randSlice(r, 1157), randSlice(r, 1157)
	for _, name := range Available() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		k := rowVariants["generic"]
		if rk, ok := rowVariants[name]; ok {
			k = rk
		}
		s1, s2 := append([]float32(nil), x...), append([]float32(nil), x...)
		Softmax(s1, 0.125)
		k.softmax(s2, 0.125)
		r1, r2 := append([]float32(nil), x...), append([]float32(nil), x...)
		SoftmaxRows(r1, 3, 385, 385, 0.125)
		k.softmaxRows(r2, 3, 385, 385, 0.125)
		for i := range r1 {
			if r1[i] != r2[i] {
				t.Fatalf("%s: SoftmaxRows is not the variant's at %d", name, i)
			}
		}
		l1, l2 := make([]float32, len(x)), make([]float32, len(x))
		LayerNorm(l1, x, w, b, 1e-6)
		k.layerNorm(l2, x, w, b, 1e-6)
		for i := range x {
			if s1[i] != s2[i] || l1[i] != l2[i] {
				t.Fatalf("%s: Softmax or LayerNorm is not the variant's at %d", name, i)
			}
		}
	}
	long := randSlice(r, rowMax+1)
	for _, v := range amd64Rows {
		if !v.available {
			continue
		}
		s1, s2 := append([]float32(nil), long...), append([]float32(nil), long...)
		v.softmaxSlice(s1, 0.125)
		softmaxGeneric(s2, 0.125)
		for i := range s1 {
			if s1[i] != s2[i] {
				t.Fatalf("%s: a row of %d is not the reference's", v.name, len(long))
			}
		}
	}
}

// BenchmarkSoftmax runs the attention rows of ViT/14 at 224 px (257) and 476 px (1157) with
// each variant; GB/s counts the row once.
func BenchmarkSoftmax(b *testing.B) {
	defer func() { _ = Use(startupKernel) }()
	r := rand.New(rand.NewPCG(17, 18))
	for _, name := range Names() {
		for _, n := range []int{257, 1157} {
			x := randSlice(r, n)
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				if err := Use(name); err != nil {
					b.Skip(err)
				}
				for b.Loop() {
					Softmax(x, 0.125) // probabilities in, probabilities out
				}
				b.ReportMetric(4*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

// BenchmarkSoftmaxRows runs a block of attention scores of ViT/14 at 224 px (72 queries ×
// 257 tokens) with each variant, through SoftmaxRows and through Softmax row by row; GB/s
// counts the block once.
func BenchmarkSoftmaxRows(b *testing.B) {
	defer func() { _ = Use(startupKernel) }()
	r := rand.New(rand.NewPCG(23, 24))
	const rows, n = 72, 257
	x := randSlice(r, rows*n)
	for _, name := range Names() {
		for _, how := range []string{"rows", "each"} {
			b.Run(fmt.Sprintf("%s/%s", name, how), func(b *testing.B) {
				if err := Use(name); err != nil {
					b.Skip(err)
				}
				for b.Loop() {
					if how == "rows" {
						SoftmaxRows(x, rows, n, n, 0.125)
						continue
					}
					for i := range rows {
						Softmax(x[i*n:(i+1)*n], 0.125)
					}
				}
				b.ReportMetric(4*float64(rows*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

// BenchmarkLayerNorm runs the token rows of ViT-B (768) and ViT-H (1280) with each variant;
// GB/s counts the row once.
func BenchmarkLayerNorm(b *testing.B) {
	defer func() { _ = Use(startupKernel) }()
	r := rand.New(rand.NewPCG(19, 20))
	for _, name := range Names() {
		for _, n := range []int{768, 1280} {
			x, w, bias, dst := randSlice(r, n), randSlice(r, n), randSlice(r, n), make([]float32, n)
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				if err := Use(name); err != nil {
					b.Skip(err)
				}
				for b.Loop() {
					LayerNorm(dst, x, w, bias, 1e-6)
				}
				b.ReportMetric(4*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
