//go:build !purego

package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestNEONChosenAtStartup(t *testing.T) {
	if b := best(); b != "neon" {
		t.Fatalf("best() = %q on arm64, want neon", b)
	}
}

// TestSgemmNEONEdges checks the neon variant on both sides of its 6-row and 16-column tile
// edges, k around its 4-wide unrolling (and 0 and past neonMaxK, which go to the reference),
// every epilogue with and without bias, and that nothing is written outside c's m×n block.
func TestSgemmNEONEdges(t *testing.T) {
	if err := Use("neon"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = Use(best()) }()
	r := rand.New(rand.NewPCG(9, 10))
	const canary = 12345.5
	type shape struct{ m, n, k int }
	var shapes []shape
	for _, m := range []int{1, 5, 6, 7, 11, 12, 13, 19} {
		for _, n := range []int{1, 15, 16, 17, 31, 32, 33, 48} {
			for _, k := range []int{0, 1, 3, 4, 5, 8, 255, 1027} {
				shapes = append(shapes, shape{m, n, k})
			}
		}
	}
	shapes = append(shapes, shape{7, 17, neonMaxK}, shape{7, 17, neonMaxK + 1})
	worst := 0.0
	for _, s := range shapes {
		for _, epi := range []Epilogue{Store, Accumulate, GELU} {
			for _, withBias := range []bool{false, true} {
				m, n, k := s.m, s.n, s.k
				lda, ldc := k+1, n+3
				a := randSlice(r, (m-1)*lda+k)
				w := randSlice(r, n*k)
				var bias []float32
				if withBias {
					bias = randSlice(r, n)
				}
				size := (m-1)*ldc + n
				buf := randSlice(r, size+PanelWidth)
				for i := size; i < len(buf); i++ {
					buf[i] = canary
				}
				want := append([]float32(nil), buf...)
				Sgemm(m, n, k, a, lda, pack(w, n, k), buf[:size], ldc, bias, epi)
				naive(m, n, k, a, lda, w, want, ldc, bias, epi)
				for i := range buf {
					d := math.Abs(float64(buf[i] - want[i]))
					tol := 1e-5 * (1 + math.Abs(float64(want[i]))) * math.Sqrt(float64(k+1))
					if i%ldc >= n || i >= size {
						tol = 0 // padding and past the end: untouched
					}
					if d > tol || math.IsNaN(float64(buf[i])) {
						t.Fatalf("m=%d n=%d k=%d epi=%d bias=%v: element %d (row %d, column %d) = %g, want %g",
							m, n, k, epi, withBias, i, i/ldc, i%ldc, buf[i], want[i])
					}
					worst = max(worst, d)
				}
			}
		}
	}
	t.Logf("neon: %d shapes, max abs difference from float64 %.3g", len(shapes), worst)
}
