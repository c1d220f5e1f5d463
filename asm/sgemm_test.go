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

// TestFetchTake runs Fetch.take's hand-outs through the kernels' rule (one line a slot; at the
// end of a run, on by the gap to the next while runs are left) and checks that the lines come
// out in order, each once, up to the slots given or the lines there are.
func TestFetchTake(t *testing.T) {
	for _, c := range []struct{ runs, lines, stride int }{{257, 4, 2304}, {3, 1, 16}, {5, 7, 200}, {1, 3, 0}} {
		for _, slots := range []int{0, 1, 3, 4, 5, 96, 1000} {
			f := &Fetch{Runs: c.runs, Lines: c.lines, Stride: c.stride}
			want := 0 // the next line, counted over the runs
			for range 2*c.runs*c.lines/max(1, slots) + 2 {
				off, lines, runs, gap, stride := f.take(slots)
				if runs == 0 {
					if want != c.runs*c.lines && slots > 0 {
						t.Fatalf("%+v slots %d: stops at line %d", c, slots, want)
					}
					continue
				}
				at, end := 4*off, 4*off+64*lines // bytes, as R14 and R15
				for range slots {
					if at >= end {
						if runs <= 1 {
							break
						}
						runs--
						at, end = at+gap, end+stride
					}
					r, l := want/c.lines, want%c.lines
					if want >= c.runs*c.lines || at != 4*(r*c.stride+l*PanelWidth) {
						t.Fatalf("%+v slots %d: fetches byte %d as line %d", c, slots, at, want)
					}
					at += 64
					want++
				}
				if want != f.Done {
					t.Fatalf("%+v slots %d: %d lines fetched, Done %d", c, slots, want, f.Done)
				}
			}
			if slots > 0 && f.Done != c.runs*c.lines {
				t.Fatalf("%+v slots %d: Done %d of %d", c, slots, f.Done, c.runs*c.lines)
			}
		}
	}
}

// TestSgemmFetch checks that SgemmFetch gives Sgemm's bits with every variant (over panels of
// PanelRows(k) rows), counts what it fetched (some lines where the variant fetches, none where
// it does not), and refuses a Fetch whose runs lie past its Base.
func TestSgemmFetch(t *testing.T) {
	defer func() { _ = Use(startupKernel) }()
	r := rand.New(rand.NewPCG(25, 26))
	src := randSlice(r, 300*256)
	for _, name := range Available() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct{ m, n, k int }{{72, 257, 64}, {41, 257, 64}, {8, 48, 9}, {37, 100, 512}, {3, 16, 5}} {
			a, w := randSlice(r, s.m*s.k), pack(randSlice(r, s.n*s.k), s.n, s.k)
			bk := PanelRows(s.k)
			wp := padPanels(w, s.n, s.k, bk)
			c1, c2 := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
			f := &Fetch{Base: src, Runs: 257, Lines: 4, Stride: 256}
			Sgemm(s.m, s.n, s.k, a, s.k, w, c1, s.n, nil, Store)
			SgemmFetch(s.m, s.n, s.k, a, s.k, wp, bk, c2, s.n, nil, Store, f)
			for i := range c1 {
				if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
					t.Fatalf("%s %+v: element %d = %g, Sgemm %g", name, s, i, c2[i], c1[i])
				}
			}
			if f.Done < 0 || f.Done > 257*4 || (variants[name].sgemmFetch == nil) != (f.Done == 0) && s.m >= 8 && s.k >= 64 {
				t.Fatalf("%s %+v: Done %d", name, s, f.Done)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SgemmFetch took a Fetch past its Base")
		}
	}()
	a, w, c := make([]float32, 64*8), make([]float32, 64*48), make([]float32, 8*48)
	SgemmFetch(8, 48, 64, a, 64, w, 64, c, 48, nil, Store, &Fetch{Base: make([]float32, 100), Runs: 2, Lines: 4, Stride: 64})
}

// TestSgemmPanels checks that every variant reads panels of bk > k rows as Sgemm reads the
// same panels packed densely (the same bits), ignoring the rows past k, on tile and block
// edges; and that PanelRows pads exactly the k that are a multiple of 64.
func TestSgemmPanels(t *testing.T) {
	defer func() { _ = Use(startupKernel) }()
	for _, k := range []int{1, 63, 64, 65, 128, 768, 1000, 1024} {
		if want := k + btoi(k%64 == 0); PanelRows(k) != want {
			t.Fatalf("PanelRows(%d) = %d, want %d", k, PanelRows(k), want)
		}
	}
	r := rand.New(rand.NewPCG(27, 28))
	for _, name := range Available() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct{ m, n, k int }{{9, 49, 64}, {17, 100, 129}, {257, 48, 768}, {3, 16, 5}, {40, 33, 1025}} {
			for _, extra := range []int{1, 7} {
				bk := s.k + extra
				a, w := randSlice(r, s.m*s.k), pack(randSlice(r, s.n*s.k), s.n, s.k)
				wp := padPanels(w, s.n, s.k, bk)
				bias := randSlice(r, s.n)
				c1, c2 := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
				Sgemm(s.m, s.n, s.k, a, s.k, w, c1, s.n, bias, GELU)
				SgemmPanels(s.m, s.n, s.k, a, s.k, wp[:len(wp)-(bk-s.k)*PanelWidth], bk, c2, s.n, bias, GELU)
				for i := range c1 {
					if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
						t.Fatalf("%s %+v bk=%d: element %d = %g, dense panels %g", name, s, bk, i, c2[i], c1[i])
					}
				}
			}
		}
	}
}

// padPanels copies the panels of w (n columns, k rows) into panels of bk ≥ k rows whose rows
// past k are NaN, which a product must not read.
func padPanels(w []float32, n, k, bk int) []float32 {
	panels := (n + PanelWidth - 1) / PanelWidth
	out := make([]float32, panels*bk*PanelWidth)
	for i := range out {
		out[i] = float32(math.NaN())
	}
	for p := range panels {
		copy(out[p*bk*PanelWidth:], w[p*k*PanelWidth:(p+1)*k*PanelWidth])
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
