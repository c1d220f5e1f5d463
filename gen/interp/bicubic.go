// Package interp resamples 2-D grids bit for bit as PyTorch does.
//
// vitc needs it for one job: a checkpoint trained at one image size is run at another
// (vitb14 trained at 224 px, run at 476 px), and the Python loader of the humanlike-vits
// models (MAE's interpolate_pos_embed) then resizes the patch part of pos_embed, a D×g×g
// grid, with torch.nn.functional.interpolate(mode='bicubic', align_corners=False). To give
// the same logits as the Python model, vitc must produce the same float32 values, not just
// close ones, so this package follows the arithmetic of ATen's CPU kernel in torch 1.13
// (aten/src/ATen/native/cpu/UpSampleKernel.cpp: HelperInterpCubic::compute_indices_weights
// and upsample_generic_Nd_kernel_impl; UpSample.h: get_cubic_upsample_coefficients)
// operation by operation:
//
//   - scale = float32(in) / float32(out) (area_pixel_compute_scale<float>; the loader passes
//     size=, not scale_factor=, so no user scale is involved);
//   - the source coordinate real = (dst + 0.5) * scale - 0.5 is computed in float64 from the
//     float32 scale (the 1.13 binary widens it, as its UpSample.h does for the linear
//     modes with accscalar_t = double);
//     the first tap is floorf(float32(real)) and t = float32(real - first), so t is a hair
//     below 0, not a hair below 1, when real rounds up to an integer in float32;
//   - the cubic convolution weights (A = -0.75) are computed in float32 from t, 1-t, t+1 and
//     (1-t)+1; taps are clamped to the border;
//   - each output sums 4 rows of 4 taps: along the width first, then along the height, in
//     tap order, in float32.
//
// ATen compiles this kernel once per CPU capability, and GCC contracts some multiply-adds into
// fused multiply-adds in the AVX2 and AVX-512 builds but cannot in the baseline build, so
// torch's own answer depends on the machine. Bicubic reproduces the AVX2/AVX-512 builds, which
// torch uses on every x86-64 CPU with AVX2; the baseline build's arithmetic is kept (unexported)
// and tested too. The two differ by a float32 rounding or so (up to ~1.5e-6 relative in the
// test cases). The precision of each step and the fused steps were read from the disassembly
// of Debian's libtorch_cpu.so 1.13.1 and are confirmed bit for bit against its outputs (see
// testdata/make.py):
//
//	c1(x) = ((1.25x - 2.25)·x)·x + 1            1.25x-2.25 fused
//	c2(x) = ((-0.75x + 3.75)·x - 6)·x + 3       the first two steps fused
//	sum   = fma(v0, w0, v1·w1), then fma(v2, w2, ·), then fma(v3, w3, ·)
package interp

import (
	"fmt"
	"math"
)

// arithmetic names the two ways ATen's builds round the same formula.
type arithmetic int

const (
	// fusedArith is what the avx2 and avx512 builds of ATen compute.
	fusedArith arithmetic = iota
	// plainArith is what the baseline (default) build computes: every product and sum rounded.
	plainArith
)

// Bicubic resizes c planes of inH×inW float32 (channel-major, row-major) to outH×outW the way
// torch.nn.functional.interpolate(mode='bicubic', align_corners=False) does on CPU for float32
// when called with size=(outH,outW): cubic convolution with A=-0.75, no antialiasing, source
// index = scale*(dst+0.5)-0.5 with scale = in/out, taps clamped to the border.
//
// The result is bit-identical to torch 1.13 on a CPU with AVX2 (see the package comment). The
// MAE loader interpolates a permuted (channels-last) view of pos_embed; ATen gives the same bits
// for that layout, so transpose the (g·g)×D rows into D planes, call Bicubic, and transpose back.
//
// Bicubic panics if a size is negative, a spatial size is 0, or len(src) != c*inH*inW: these
// are the caller's bugs, not properties of a checkpoint.
func Bicubic(src []float32, c, inH, inW, outH, outW int) []float32 {
	return bicubic(src, c, inH, inW, outH, outW, fusedArith)
}

func bicubic(src []float32, c, inH, inW, outH, outW int, arith arithmetic) []float32 {
	if c < 0 || inH < 1 || inW < 1 || outH < 1 || outW < 1 {
		panic(fmt.Sprintf("interp.Bicubic: bad sizes c=%d in=%dx%d out=%dx%d: want c >= 0 and spatial sizes >= 1",
			c, inH, inW, outH, outW))
	}
	if len(src) != c*inH*inW {
		panic(fmt.Sprintf("interp.Bicubic: len(src) = %d, want c*inH*inW = %d*%d*%d = %d",
			len(src), c, inH, inW, c*inH*inW))
	}
	rows := cubicTaps(inH, outH, arith)
	cols := cubicTaps(inW, outW, arith)
	dst := make([]float32, c*outH*outW)
	// ATen sums each source row along the width, then those 4 row sums along the height. A
	// row sum depends only on the source row and the output column, so compute each once
	// (inH×outW of them per plane) and reuse it for every output row that reads that row:
	// the same operations on the same operands, so the same bits, in a quarter of the work.
	rowSums := make([]float32, inH*outW)
	for ch := 0; ch < c; ch++ {
		plane := src[ch*inH*inW : (ch+1)*inH*inW]
		for y := 0; y < inH; y++ {
			in := plane[y*inW : (y+1)*inW]
			out := rowSums[y*outW : (y+1)*outW]
			for x := range out {
				tx := &cols[x]
				out[x] = sum4(arith,
					in[tx.index[0]], in[tx.index[1]], in[tx.index[2]], in[tx.index[3]],
					tx.weight)
			}
		}
		out := dst[ch*outH*outW : (ch+1)*outH*outW]
		for y := 0; y < outH; y++ {
			ty := &rows[y]
			r0 := rowSums[ty.index[0]*outW:]
			r1 := rowSums[ty.index[1]*outW:]
			r2 := rowSums[ty.index[2]*outW:]
			r3 := rowSums[ty.index[3]*outW:]
			line := out[y*outW : (y+1)*outW]
			for x := range line {
				line[x] = sum4(arith, r0[x], r1[x], r2[x], r3[x], ty.weight)
			}
		}
	}
	return dst
}

// taps4 says which 4 source samples one output sample reads (already clamped to the border)
// and with which weights.
type taps4 struct {
	index  [4]int
	weight [4]float32
}

// cubicTaps computes the taps of every output position along one axis, as ATen's
// HelperInterpCubic::compute_indices_weights does for float32 and align_corners=False.
func cubicTaps(in, out int, arith arithmetic) []taps4 {
	scale := float32(in) / float32(out)
	taps := make([]taps4, out)
	for i := range taps {
		// The product is exact in float64 (24 + at most 29 significant bits), so only the
		// subtraction rounds, whether or not a compiler fuses the two.
		real := float64((float64(i)+0.5)*float64(scale)) - 0.5
		first := float32(math.Floor(float64(float32(real)))) // floorf takes a float
		t := float32(real - float64(first))
		taps[i].weight = cubicWeights(t, arith)
		for j := range taps[i].index {
			taps[i].index[j] = min(max(int(first)+j-1, 0), in-1)
		}
	}
	return taps
}

// cubicWeights returns the weights of the taps at first-1, first, first+1, first+2 for a
// source coordinate first+t (get_cubic_upsample_coefficients with A = -0.75).
func cubicWeights(t float32, arith arithmetic) [4]float32 {
	// ATen computes t+1.0 and 1.0-t in double and rounds them back to float; a single
	// float32 operation rounds the exact value the same way.
	return [4]float32{
		cubicFar(t+1, arith),
		cubicNear(t, arith),
		cubicNear(1-t, arith),
		cubicFar((1-t)+1, arith),
	}
}

// cubicNear is the kernel for 0 <= x <= 1: ((A+2)x - (A+3))x² + 1.
// Explicit float32 conversions keep Go from fusing what ATen does not fuse.
func cubicNear(x float32, arith arithmetic) float32 {
	var u float32
	if arith == fusedArith {
		u = fma32(1.25, x, -2.25)
	} else {
		u = float32(1.25*x) - 2.25
	}
	u = float32(u * x)
	return float32(u*x) + 1
}

// cubicFar is the kernel for 1 <= x <= 2: ((Ax - 5A)x + 8A)x - 4A.
func cubicFar(x float32, arith arithmetic) float32 {
	var u float32
	if arith == fusedArith {
		u = fma32(fma32(-0.75, x, 3.75), x, -6)
	} else {
		u = float32(float32(float32(-0.75*x)+3.75)*x) - 6
	}
	return float32(u*x) + 3
}

// sum4 returns v0·w0 + v1·w1 + v2·w2 + v3·w3 rounded as ATen's Interpolate::eval rounds it.
func sum4(arith arithmetic, v0, v1, v2, v3 float32, w [4]float32) float32 {
	if arith == fusedArith {
		// GCC fuses the first product into the first addition, then each later one.
		s := fma32(v0, w[0], float32(v1*w[1]))
		s = fma32(v2, w[2], s)
		return fma32(v3, w[3], s)
	}
	s := float32(v0*w[0]) + float32(v1*w[1])
	s += float32(v2 * w[2])
	return s + float32(v3*w[3])
}
