package imageio

// What libjpeg-turbo 2.1 does after the inverse DCT, with the defaults that Pillow leaves
// alone: chroma upsampling (jdsample.c) and YCbCr->RGB conversion (jdcolor.c). Written from
// the algorithms' descriptions; the integer rounding is what makes the output match, so it
// follows libjpeg's exactly.

// upsampleLibjpeg expands one chroma plane of cw×ch samples (row stride stride) by hf across
// and vf down to a w×h plane, as libjpeg's jinit_upsampler picks per component:
//
//   - 2×1 (4:2:2) and 2×2 (4:2:0): the "fancy" triangle filter, which puts each output
//     sample 1/4 of the way between the two nearest input samples (weights 3/4 and 1/4
//     in each direction); plain replication when the plane is at most 2 samples wide;
//   - 1×2 (4:4:0): the vertical triangle filter;
//   - other integral factors (4:1:1, 4:1:0): replication.
//
// Beyond the plane's edges libjpeg repeats the edge samples (jdmainct.c's context rows at the
// top and bottom, the edge cases at the left and right).
func upsampleLibjpeg(src []byte, stride, cw, ch, hf, vf, w, h int) []byte {
	out := make([]byte, w*h)
	row := func(y int) []byte { return src[min(max(y, 0), ch-1)*stride:][:cw] }
	wide := make([]byte, hf*cw) // one output row before cropping to w
	for y := range h {
		cy, odd := y/vf, y%vf == 1
		var line []byte
		switch {
		case hf == 1 && vf == 1:
			line = row(cy)
		case hf == 2 && vf == 1 && cw > 2:
			h2v1Fancy(wide, row(cy))
			line = wide
		case hf == 1 && vf == 2:
			h1v2Fancy(wide, row(cy), row(neighbour(cy, odd)), odd)
			line = wide
		case hf == 2 && vf == 2 && cw > 2:
			h2v2Fancy(wide, row(cy), row(neighbour(cy, odd)))
			line = wide
		default:
			replicate(wide, row(cy), hf)
			line = wide
		}
		copy(out[y*w:(y+1)*w], line)
	}
	return out
}

// neighbour is the chroma row that is next nearest to output row 2*cy (even) or 2*cy+1
// (odd): the one above or the one below. row() clamps it to the plane.
func neighbour(cy int, odd bool) int {
	if odd {
		return cy + 1
	}
	return cy - 1
}

func replicate(dst, src []byte, hf int) {
	for x, v := range src {
		for k := range hf {
			dst[hf*x+k] = v
		}
	}
}

// h2v1Fancy is libjpeg's h2v1_fancy_upsample: output 2x is 3/4 src[x] + 1/4 src[x-1],
// output 2x+1 is 3/4 src[x] + 1/4 src[x+1], rounding alternately down and up (biases 1
// and 2) so that the errors do not pile up; the first and last outputs copy the edge
// sample. Needs len(src) >= 2.
func h2v1Fancy(dst, src []byte) {
	n := len(src)
	dst[0] = src[0]
	dst[1] = byte((int(src[0])*3 + int(src[1]) + 2) >> 2)
	for x := 1; x < n-1; x++ {
		v := int(src[x]) * 3
		dst[2*x] = byte((v + int(src[x-1]) + 1) >> 2)
		dst[2*x+1] = byte((v + int(src[x+1]) + 2) >> 2)
	}
	v := int(src[n-1]) * 3
	dst[2*n-2] = byte((v + int(src[n-2]) + 1) >> 2)
	dst[2*n-1] = src[n-1]
}

// h1v2Fancy is libjpeg's h1v2_fancy_upsample: 3/4 of the nearer row and 1/4 of the next
// nearer one; bias 1 for the upper output row of a pair, 2 for the lower.
func h1v2Fancy(dst, near, far []byte, odd bool) {
	bias := 1
	if odd {
		bias = 2
	}
	for x := range near {
		dst[x] = byte((int(near[x])*3 + int(far[x]) + bias) >> 2)
	}
}

// h2v2Fancy is libjpeg's h2v2_fancy_upsample: the vertical 3:1 sums of the nearer and the
// next nearer row ("column sums", scaled by 4), then the horizontal 3:1 filter on those,
// divided by 16 with biases 8 and 7 (the same for the upper and the lower row of a pair).
// Needs len(near) >= 2.
func h2v2Fancy(dst, near, far []byte) {
	n := len(near)
	colsum := func(x int) int { return int(near[x])*3 + int(far[x]) }
	this, next := colsum(0), colsum(1)
	dst[0] = byte((this*4 + 8) >> 4)
	dst[1] = byte((this*3 + next + 7) >> 4)
	last := this
	this = next
	for x := 1; x < n-1; x++ {
		next = colsum(x + 1)
		dst[2*x] = byte((this*3 + last + 8) >> 4)
		dst[2*x+1] = byte((this*3 + next + 7) >> 4)
		last, this = this, next
	}
	dst[2*n-2] = byte((this*3 + last + 8) >> 4)
	dst[2*n-1] = byte((this*4 + 7) >> 4)
}

// libjpeg's YCbCr->RGB tables (jdcolor.c build_ycc_rgb_table), 16-bit fixed point:
//
//	R = Y + 1.40200 Cr'
//	G = Y - 0.34414 Cb' - 0.71414 Cr'
//	B = Y + 1.77200 Cb'        with Cb' = Cb - 128, Cr' = Cr - 128
//
// R and B round each table entry to an integer; G sums two unrounded products and rounds
// once (the 1/2 is folded into the Cb entry).
var crR, cbB, crG, cbG [256]int32

const ycbcrScaleBits = 16

func init() {
	fix := func(x float64) int64 { return int64(x*(1<<ycbcrScaleBits) + 0.5) } // FIX()
	const half = 1 << (ycbcrScaleBits - 1)
	for i := range 256 {
		x := int64(i - 128)
		crR[i] = int32((fix(1.40200)*x + half) >> ycbcrScaleBits)
		cbB[i] = int32((fix(1.77200)*x + half) >> ycbcrScaleBits)
		crG[i] = int32(-fix(0.71414) * x)
		cbG[i] = int32(-fix(0.34414)*x + half)
	}
}

func ycbcrToRGBLibjpeg(y, cb, cr byte) (r, g, b byte) {
	yy := int32(y)
	return clamp255(yy + crR[cr]),
		clamp255(yy + (cbG[cb]+crG[cr])>>ycbcrScaleBits),
		clamp255(yy + cbB[cb])
}

func clamp255(v int32) byte {
	return byte(min(max(v, 0), 255))
}
