//go:build !purego

package asm

import (
	"math"
	"testing"
)

type geluKernel struct {
	name      string
	available bool
	fn        func([]float32)
}

func geluKernels() []geluKernel {
	var out []geluKernel
	for _, v := range amd64Variants {
		out = append(out, geluKernel{v.name, v.available, v.gelu})
	}
	return out
}

// ulp32 is the spacing of float32 at |v|.
func ulp32(v float64) float64 {
	f := float32(math.Abs(v))
	return float64(math.Nextafter32(f, float32(math.Inf(1))) - f)
}

// geluExact is x·Φ(x) in float64.
func geluExact(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }

// TestGeluKernels checks the vectorised GELU against float64 on every 31st float32 of
// magnitude 2⁻³⁰ to 10, both signs, in ulps of the result: within 2 for x ≥ 0, 3 for -1 ≤ x < 0,
// and 5 for -9 ≤ x < -1, where |gelu| < 0.16 falls to 1e-18; below -9 it is flushed to zero
// (less than 1e-17 away). The textbook float32 formula 0.5·x·(1 + erf(x/√2)) is off by
// thousands of ulps there.
func TestGeluKernels(t *testing.T) {
	stride := uint32(31)
	if testing.Short() {
		stride = 997
	}
	var xs []float32
	for b := math.Float32bits(0x1p-30); b <= math.Float32bits(10); b += stride {
		xs = append(xs, math.Float32frombits(b), -math.Float32frombits(b))
	}
	for _, x := range []float32{-1, 1, -9, 9, 0x1p-140, -0x1p-140, 1e30, -1e30} {
		xs = append(xs, x, math.Nextafter32(x, 0), math.Nextafter32(x, 2*x))
	}
	for _, k := range geluKernels() {
		if !k.available {
			t.Logf("%s: not available", k.name)
			continue
		}
		got := append([]float32(nil), xs...)
		k.fn(got)
		type band struct {
			lo, hi, maxUlp float64
			worst, at      float64
		}
		bands := []*band{{lo: 0, hi: math.Inf(1), maxUlp: 2}, {lo: -1, hi: 0, maxUlp: 3}, {lo: -9, hi: -1, maxUlp: 5}}
		for i, x := range xs {
			xd, g := float64(x), float64(got[i])
			want := geluExact(xd)
			d := math.Abs(g - want)
			if xd < -9 {
				if d > 1e-17 {
					t.Errorf("%s: gelu(%g) = %g, want %g", k.name, x, g, want)
				}
				continue
			}
			for _, b := range bands {
				if xd >= b.lo && xd < b.hi {
					u := d / ulp32(want)
					if u > b.worst {
						b.worst, b.at = u, xd
					}
					if u > b.maxUlp && d > 1e-44 {
						t.Errorf("%s: gelu(%g) = %g, want %g (%.2f ulp)", k.name, x, g, want, u)
					}
				}
			}
		}
		for _, b := range bands {
			t.Logf("%s: x in [%g, %g): max error %.2f ulp at x = %g", k.name, b.lo, b.hi, b.worst, b.at)
		}
		// Infinities and NaN as asm.Gelu has them.
		for _, x := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0} {
			v := []float32{x}
			k.fn(v)
			want := Gelu(x)
			if !(v[0] == want || v[0] != v[0] && want != want) {
				t.Errorf("%s: gelu(%g) = %g, want %g", k.name, x, v[0], want)
			}
		}
	}
}

// TestGeluKernelsAgree checks that the AVX2 and AVX-512 GELUs give the same bits, and that
// every length is done in full without touching what lies beyond.
func TestGeluKernelsAgree(t *testing.T) {
	ks := geluKernels()
	for _, k := range ks {
		if !k.available {
			continue
		}
		for n := 0; n <= 40; n++ {
			x := make([]float32, n+8)
			for i := range x {
				x[i] = float32(i)*0.37 - 7
			}
			want := append([]float32(nil), x...)
			for i := range want[:n] {
				want[i] = float32(geluExact(float64(want[i])))
			}
			k.fn(x[:n])
			for i := range x {
				if d := math.Abs(float64(x[i] - want[i])); d > 4*ulp32(float64(want[i])) || (i >= n && x[i] != want[i]) {
					t.Fatalf("%s n=%d: element %d = %g, want %g", k.name, n, i, x[i], want[i])
				}
			}
		}
	}
	if len(ks) != 2 || !ks[0].available || !ks[1].available {
		t.Skip("needs both AVX-512 and AVX2")
	}
	var xs []float32
	for b := math.Float32bits(0x1p-20); b <= math.Float32bits(12); b += 4099 {
		xs = append(xs, math.Float32frombits(b), -math.Float32frombits(b))
	}
	a, b := append([]float32(nil), xs...), append([]float32(nil), xs...)
	ks[0].fn(a)
	ks[1].fn(b)
	for i := range xs {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("gelu(%g): avx512 %g, avx2 %g", xs[i], a[i], b[i])
		}
	}
}

// BenchmarkGelu times one MLP activation of vitb14 (257 × 3072), the pre-activations spread
// over [-5, 5). Each pass starts from the same values (the copy is timed too): applied in place
// again and again, GELU would drive them towards zero, into denormals that cost microcode
// assists.
func BenchmarkGelu(b *testing.B) {
	src := make([]float32, 257*3072)
	for i := range src {
		src[i] = float32(i%1000)*0.01 - 5
	}
	x := make([]float32, len(src))
	for _, k := range geluKernels() {
		b.Run(k.name, func(b *testing.B) {
			if !k.available {
				b.Skip("not available")
			}
			for b.Loop() {
				copy(x, src)
				k.fn(x)
			}
			b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
