package interp

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA32 rounds a*b+c once to float32 with arbitrary-precision arithmetic.
func exactFMA32(a, b, c float32) float32 {
	const prec = 2000 // float32 exponents span < 2^9 bits; the exact sum needs far less
	x := new(big.Float).SetPrec(prec).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(prec).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(prec).SetFloat64(float64(c)))
	f, _ := x.Float32() // nearest, ties to even
	return f
}

func TestFMA32(t *testing.T) {
	check := func(a, b, c float32) {
		t.Helper()
		if got, want := fma32(a, b, c), exactFMA32(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%g, %g, %g) = %g (%#08x), want %g (%#08x)",
				a, b, c, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	// Double rounding trap: a*b+c lies a hair above a float32 halfway point that float64
	// rounds onto; rounding twice would then go to even (down) instead of up.
	// 1+2^-24 is halfway between 1 and 1+2^-23; add 2^-80 above it.
	a := float32(1 + 1.0/(1<<12)) // (1+2^-12)^2 = 1 + 2^-11 + 2^-24
	check(a, a, -float32(1.0/(1<<11)))
	check(a, a, float32(math.Ldexp(1, -80)))
	check(a, -a, float32(math.Ldexp(1, -80)))
	check(1.25, 0.3, -2.25)
	check(-0.75, 1.7, 3.75)
	check(0, 5, -0.0)
	check(float32(math.Ldexp(1, -140)), float32(math.Ldexp(1, -9)), float32(math.Ldexp(1, -149)))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		a := float32(rng.NormFloat64())
		b := float32(rng.NormFloat64())
		c := float32(rng.NormFloat64())
		switch i % 4 {
		case 1: // cancel most of the product: the hard cases for rounding
			c = -float32(float64(a) * float64(b))
		case 2: // far apart magnitudes
			c = float32(math.Ldexp(float64(c), -30+rng.IntN(60)))
		case 3: // near a halfway point of float32
			p := float64(a) * float64(b)
			c = float32(math.Ldexp(1, math.Ilogb(p)-24) * float64(rng.IntN(3)-1))
		}
		check(a, b, c)
	}
	for _, special := range [][3]float32{
		{float32(math.Inf(1)), 0, 1},
		{float32(math.Inf(1)), 2, float32(math.Inf(-1))},
		{float32(math.NaN()), 1, 1},
		{math.MaxFloat32, 2, -math.MaxFloat32},
	} {
		got := fma32(special[0], special[1], special[2])
		want := float32(math.FMA(float64(special[0]), float64(special[1]), float64(special[2])))
		if !(got == want || (got != got && want != want)) {
			t.Errorf("fma32(%v) = %v, want %v", special, got, want)
		}
	}
}
