package asm

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// pack lays out a row-major n×k matrix in 16-wide panels (the layout of gen/layout).
func pack(w []float32, n, k int) []float32 {
	panels := (n + PanelWidth - 1) / PanelWidth
	out := make([]float32, panels*k*PanelWidth)
	for j := 0; j < n; j++ {
		for kk := 0; kk < k; kk++ {
			out[(j/PanelWidth)*k*PanelWidth+kk*PanelWidth+j%PanelWidth] = w[j*k+kk]
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// naive computes the same product in float64.
func naive(m, n, k int, a []float32, lda int, w []float32, c []float32, ldc int, bias []float32, epi Epilogue) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*lda+kk]) * float64(w[j*k+kk])
			}
			if bias != nil {
				s += float64(bias[j])
			}
			switch epi {
			case Store:
				c[i*ldc+j] = float32(s)
			case Accumulate:
				c[i*ldc+j] += float32(s)
			case GELU:
				c[i*ldc+j] = float32(0.5 * s * (1 + math.Erf(s/math.Sqrt2)))
			}
		}
	}
}

// startupKernel is the variant chosen at start-up, before any test calls Use (this file's
// init runs after sgemm.go's, which chooses).
var startupKernel string

func init() { startupKernel = Active() }

// TestStartupChoice: without VITC_KERNEL the best variant this CPU runs is chosen; with it,
// the one named.
func TestStartupChoice(t *testing.T) {
	if want := cmp.Or(os.Getenv("VITC_KERNEL"), best()); startupKernel != want {
		t.Fatalf("start-up chose %q, want %q (VITC_KERNEL=%q)", startupKernel, want, os.Getenv("VITC_KERNEL"))
	}
	t.Logf("kernel variant at start-up: %s (available: %v)", startupKernel, Available())
}

// TestSgemmVariants checks every available variant against a float64 product on sizes on
// both sides of each tile edge, with padded leading dimensions and every epilogue.
func TestSgemmVariants(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 3, 4, 5, 15, 16, 17, 31, 33, 64, 65}
	for _, name := range Available() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range []int{1, 7, 16, 67} {
					for _, epi := range []Epilogue{Store, Accumulate, GELU} {
						lda, ldc := k+3, n+5
						a := randSlice(r, (m-1)*lda+k)
						w := randSlice(r, n*k)
						bias := randSlice(r, n)
						if k == 7 {
							bias = nil
						}
						init := randSlice(r, (m-1)*ldc+n)
						got := append([]float32(nil), init...)
						want := append([]float32(nil), init...)
						Sgemm(m, n, k, a, lda, pack(w, n, k), got, ldc, bias, epi)
						naive(m, n, k, a, lda, w, want, ldc, bias, epi)
						for i := range got {
							d := math.Abs(float64(got[i] - want[i]))
							tol := 1e-5 * (1 + math.Abs(float64(want[i]))) * math.Sqrt(float64(k))
							if d > tol || math.IsNaN(float64(got[i])) {
								t.Fatalf("%s m=%d n=%d k=%d epi=%d: element %d = %g, want %g", name, m, n, k, epi, i, got[i], want[i])
							}
							worst = max(worst, d)
						}
					}
				}
			}
		}
		t.Logf("%s: max abs difference from float64 %.3g", name, worst)
	}
	if err := Use(best()); err != nil {
		t.Fatal(err)
	}
}

func TestUseUnknown(t *testing.T) {
	if err := Use("sse1"); err == nil {
		t.Fatal("Use(sse1) succeeded")
	}
}

func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 24, 1280} {
		x, w, b := randSlice(r, n), randSlice(r, n), randSlice(r, n)
		for i := range x {
			x[i] = 100 + 3*x[i] // a large mean must not cost precision
		}
		dst := make([]float32, n)
		LayerNorm(dst, x, w, b, 1e-6)
		var mean, v float64
		for _, e := range x {
			mean += float64(e)
		}
		mean /= float64(n)
		for _, e := range x {
			v += (float64(e) - mean) * (float64(e) - mean)
		}
		v /= float64(n)
		for i := range x {
			want := (float64(x[i])-mean)/math.Sqrt(v+1e-6)*float64(w[i]) + float64(b[i])
			if d := math.Abs(float64(dst[i]) - want); d > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("n=%d: element %d = %g, want %g", n, i, dst[i], want)
			}
		}
	}
}

func TestGelu(t *testing.T) {
	for _, x := range []float64{-6, -1, -0.5, 0, 1e-3, 0.5, 1, 3, 10} {
		want := 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
		if got := float64(Gelu(float32(x))); math.Abs(got-want) > 1e-7*(1+math.Abs(want)) {
			t.Errorf("Gelu(%g) = %g, want %g", x, got, want)
		}
	}
}

func TestDotAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 3, 4, 5, 64, 65} {
		x, y := randSlice(r, n), randSlice(r, n)
		var want float64
		for i := range x {
			want += float64(x[i]) * float64(y[i])
		}
		if got := Dot(x, y); math.Abs(float64(got)-want) > 1e-5*(1+math.Abs(want)) {
			t.Errorf("Dot n=%d = %g, want %g", n, got, want)
		}
		z := append([]float32(nil), y...)
		Axpy(2, x, z)
		for i := range z {
			if z[i] != y[i]+2*x[i] {
				t.Fatalf("Axpy n=%d element %d", n, i)
			}
		}
	}
}

// BenchmarkSgemm runs the real ViT matmul shapes (rows = 257 tokens at 224 px, 1157 at 476 px)
// with each variant, single-threaded, and a square product to compare with BLAS figures.
func BenchmarkSgemm(b *testing.B) {
	shapes := []struct{ m, n, k int }{
		{257, 1152, 384}, {257, 1536, 384}, {257, 384, 1536}, // vits14 qkv, fc1, fc2
		{257, 2304, 768}, {257, 3072, 768}, {257, 768, 3072}, // vitb14
		{257, 3072, 1024}, {257, 4096, 1024}, {257, 1024, 4096}, // vitl14
		{257, 3840, 1280}, {257, 5120, 1280}, {257, 1280, 5120}, // vith14
		{1157, 3840, 1280}, {1157, 5120, 1280}, {1157, 1280, 5120}, // vith14 at 476 px
		{2048, 2048, 2048},
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, name := range Available() {
		for _, s := range shapes {
			a := randSlice(r, s.m*s.k)
			w := pack(randSlice(r, s.n*s.k), s.n, s.k)
			c := make([]float32, s.m*s.n)
			b.Run(fmt.Sprintf("%s/M=%d,N=%d,K=%d", name, s.m, s.n, s.k), func(b *testing.B) {
				if err := Use(name); err != nil {
					b.Skip(err)
				}
				for b.Loop() {
					Sgemm(s.m, s.n, s.k, a, s.k, w, c, s.n, nil, Store)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
	_ = Use(best())
}

func TestExp(t *testing.T) {
	worst := 0.0
	for x := float32(-87.3); x < 88.7; x += 0.0137 {
		want := math.Exp(float64(x))
		got := float64(Exp(x))
		ulp := float64(math.Nextafter32(float32(want), float32(math.Inf(1))) - float32(want))
		if e := math.Abs(got-want) / ulp; e > worst {
			worst = e
		}
	}
	if worst > 2 {
		t.Errorf("Exp is off by %.2f ulp", worst)
	}
	t.Logf("Exp: max error %.2f ulp over [-87.3, 88.7]", worst)
	if Exp(-100) != 0 || !math.IsInf(float64(Exp(100)), 1) || Exp(0) != 1 {
		t.Error("Exp edge values")
	}
}

func TestSoftmax(t *testing.T) {
	row := []float32{1, 2, 3, -50, 0.5}
	want := make([]float64, len(row))
	var sum float64
	for i, v := range row {
		want[i] = math.Exp(float64(v) * 0.125)
		sum += want[i]
	}
	Softmax(row, 0.125)
	for i := range row {
		if d := math.Abs(float64(row[i]) - want[i]/sum); d > 1e-7 {
			t.Errorf("element %d: %g, want %g", i, row[i], want[i]/sum)
		}
	}
}

func TestPeakGFLOPS(t *testing.T) {
	if got := PeakGFLOPS("generic", 1, time.Millisecond); got != 0 {
		t.Errorf("generic peak %g, want 0 (unknown)", got)
	}
	for _, v := range Available() {
		g := PeakGFLOPS(v, 1, 20*time.Millisecond)
		t.Logf("%s: FMA peak %.0f GFLOP/s on one thread", v, g)
		if _, ok := peakLoops[v]; ok && g <= 1 {
			t.Errorf("%s: peak %g GFLOP/s", v, g)
		}
	}
}
