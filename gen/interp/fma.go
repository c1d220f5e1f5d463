package interp

import "math"

// fma32 returns a*b+c rounded once to float32, as the VFMADD*SS instructions in ATen's
// AVX2 kernels compute it. Go has no float32 fused multiply-add, and rounding
// math.FMA's float64 result to float32 would round twice, which is wrong when the first
// rounding lands exactly halfway between two float32 values.
//
// a*b is exact in float64 (24+24 significant bits), so the only inexact step is the
// addition. TwoSum gives its exact error e (p+c == s+e), and rounding s to odd (moving an
// even s one ulp toward e when e != 0) makes the final float64→float32 rounding correct:
// round-to-odd at 53 bits followed by round-to-nearest at 24 bits equals one rounding
// (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums", 2008).
func fma32(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b)) // the conversion keeps Go from fusing p into later steps
	s := p + float64(c)
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return float32(s)
	}
	pc := s - p
	e := (p - (s - pc)) + (float64(c) - pc)
	if e != 0 && math.Float64bits(s)&1 == 0 {
		s = math.Nextafter(s, math.Copysign(math.Inf(1), e))
	}
	return float32(s)
}
