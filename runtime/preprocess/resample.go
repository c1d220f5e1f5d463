package preprocess

import (
	"fmt"
	"math"
	"sync"
)

// This file reproduces Pillow 9.4.0's ImagingResample (src/libImaging/Resample.c) for 8-bit RGB
// images and the bicubic filter, which is what Image.resize(size, Image.BICUBIC) runs when no
// box and no reducing_gap are given (torchvision passes neither). The algorithm:
//
//   - For each axis, precompute_coeffs gives every output pixel a run of input pixels
//     [start, start+n) and their weights: the bicubic kernel (a = -0.5, support 2) stretched by
//     the downscaling factor so that it antialiases, evaluated in float64 at the pixel centres
//     and divided by its sum. normalize_coeffs_8bpc turns each weight into a fixed-point int32
//     with 22 fraction bits, rounding half away from zero.
//   - A horizontal pass (only if the width changes) resamples just the source rows the vertical
//     pass will read into an 8-bit temporary image; then a vertical pass (only if the height
//     changes) resamples that. Each sum starts at 1<<21 (one half, for rounding), accumulates
//     byte*weight in int32, and is clipped to 0..255 after an arithmetic shift by 22.
//
// Every output pixel depends only on its own coefficient runs, so resampleWindow can produce
// any rectangle of the result without the rest.

// precisionBits is Pillow's PRECISION_BITS: 32 - 8 bits of result - 2 bits of headroom for
// kernels whose partial sums leave 0..1.
const precisionBits = 32 - 8 - 2

// bicubicSupport is the kernel's radius in input pixels at scale 1.
const bicubicSupport = 2.0

// bicubic is Pillow's bicubic_filter with a = -0.5. The explicit float64 conversions stop the
// Go compiler from fusing a multiply and an add into one FMA (allowed by the spec, done on
// arm64 and with GOAMD64=v3), which Pillow's C, built for baseline x86-64, never does; a fused
// result can differ in the last bit and move a fixed-point weight.
func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		// ((a+2)*x - (a+3))*x*x + 1
		p := float64((a + 2) * x)
		p = float64((p - (a + 3)) * x)
		p = float64(p * x)
		return p + 1
	}
	if x < 2 {
		// (((x-5)*x + 8)*x - 4)*a
		p := float64((x - 5) * x)
		p = float64((p + 8) * x)
		return (p - 4) * a
	}
	return 0
}

// axisCoeffs holds one axis's fixed-point resampling weights, from in pixels to out pixels.
type axisCoeffs struct {
	in, out int
	stride  int     // coeff entries per output pixel: the most taps any has, rounded up to even
	start   []int32 // start[i]: first input pixel of output pixel i
	taps    []int32 // taps[i]: how many input pixels output pixel i reads
	// coeff[i*stride : i*stride+taps[i]]: their weights, 22 fraction bits, followed by zeros
	// up to the stride, so that the horizontal pass can take taps two at a time.
	coeff []int32
}

// newAxisCoeffs is precompute_coeffs followed by normalize_coeffs_8bpc for the box (0, in),
// with the same float64 operations in the same order.
func newAxisCoeffs(in, out int) *axisCoeffs {
	// Pillow passes the box edges as C floats; in1 - in0 is exact for any real image size.
	scale := float64(float32(in)) / float64(out)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := bicubicSupport * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	stride := (ksize + 1) &^ 1
	c := &axisCoeffs{
		in: in, out: out, stride: stride,
		start: make([]int32, out),
		taps:  make([]int32, out),
		coeff: make([]int32, out*stride),
	}
	ss := 1 / filterscale
	w := make([]float64, ksize)
	for xx := 0; xx < out; xx++ {
		center := float64((float64(xx) + 0.5) * scale) // in0 + (xx+0.5)*scale, in0 = 0
		// C's (int) conversion truncates towards zero, as Go's does; a negative xmin is
		// clamped to 0 either way.
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > in {
			xmax = in
		}
		n := xmax - xmin
		ww := 0.0
		for x := 0; x < n; x++ {
			w[x] = bicubic(float64(float64(x+xmin)-center+0.5) * ss)
			ww += w[x]
		}
		k := c.coeff[xx*stride : xx*stride+n]
		for x := range k {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + float64(v*(1<<precisionBits)))
			} else {
				k[x] = int32(0.5 + float64(v*(1<<precisionBits)))
			}
		}
		c.start[xx] = int32(xmin)
		c.taps[xx] = int32(n)
	}
	return c
}

// coeffCache shares axisCoeffs between calls and goroutines, keyed by (in, out). ImageNet has a
// few thousand distinct sizes, so the cache is bounded; when full an arbitrary entry goes.
var coeffCache = struct {
	sync.RWMutex
	m map[[2]int]*axisCoeffs
}{m: make(map[[2]int]*axisCoeffs)}

// maxCachedAxes bounds coeffCache. An entry for a 256-pixel output is 256*stride*4 bytes plus
// 2 KB: under 20 KB for the downscales ImageNet needs (factor below 4), 80 KB at factor 20.
const maxCachedAxes = 512

// coeffsFor returns the (cached) coefficients for resampling in pixels to out pixels.
func coeffsFor(in, out int) *axisCoeffs {
	key := [2]int{in, out}
	coeffCache.RLock()
	c := coeffCache.m[key]
	coeffCache.RUnlock()
	if c != nil {
		return c
	}
	c = newAxisCoeffs(in, out)
	coeffCache.Lock()
	if old := coeffCache.m[key]; old != nil {
		c = old
	} else {
		if len(coeffCache.m) >= maxCachedAxes {
			for k := range coeffCache.m {
				delete(coeffCache.m, k)
				break
			}
		}
		coeffCache.m[key] = c
	}
	coeffCache.Unlock()
	return c
}

// scratch is per-call working memory, recycled through scratchPool so that steady-state
// evaluation allocates nothing.
type scratch struct {
	tmp  []uint8  // horizontal pass output
	line []uint64 // two source rows, packed, and zero padding, for the horizontal pass
	acc  []int32  // vertical pass accumulators, one output row
	out  []uint8  // Eval's cropped window
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch  { return scratchPool.Get().(*scratch) }
func putScratch(s *scratch) { scratchPool.Put(s) }

// grow returns b resized to n elements, reusing its array when it is large enough.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// ResizeBicubic resizes exactly as PIL's Image.resize((w, h), Image.BICUBIC) (antialiased, with
// Pillow's fixed-point coefficients and rounding): bit-for-bit. It always returns a new image,
// a copy when the size does not change. Sizes must be positive.
func ResizeBicubic(src *RGB, w, h int) *RGB {
	src.check()
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("preprocess: resize to %d×%d: height and width must be > 0", w, h))
	}
	dst := NewRGB(w, h)
	s := getScratch()
	resampleWindow(dst, src, w, h, 0, 0, s)
	putScratch(s)
	return dst
}

// resampleWindow writes into dst (dst.W×dst.H) the window at (x0, y0) of src resized to w×h.
// The window must lie inside the w×h result.
func resampleWindow(dst, src *RGB, w, h, x0, y0 int, s *scratch) {
	cw, ch := dst.W, dst.H
	if x0 < 0 || y0 < 0 || x0+cw > w || y0+ch > h {
		panic(fmt.Sprintf("preprocess: window %d×%d at (%d,%d) outside %d×%d", cw, ch, x0, y0, w, h))
	}
	needH, needV := w != src.W, h != src.H

	// The source rows the vertical pass reads, [rowFirst, rowLast): Pillow's ybox_first and
	// ybox_last, here for the window's rows only. Runs start and end monotonically.
	rowFirst, rowLast := y0, y0+ch
	var cv *axisCoeffs
	if needV {
		cv = coeffsFor(src.H, h)
		rowFirst = int(cv.start[y0])
		rowLast = int(cv.start[y0+ch-1] + cv.taps[y0+ch-1])
	}

	// After the horizontal pass, the image the vertical pass reads: rows rowFirst.. of either
	// the temporary (window columns only) or the source itself.
	var mid []uint8
	var midStride, midCol int // bytes per row, byte offset of the window's first column
	if needH {
		chor := coeffsFor(src.W, w)
		s.tmp = grow(s.tmp, 3*cw*(rowLast-rowFirst))
		s.line = grow(s.line, 3*(src.W+chor.stride))
		clear(s.line[3*src.W:])
		horizontal(s.tmp, src, chor, x0, cw, rowFirst, rowLast, s.line)
		mid, midStride, midCol = s.tmp, 3*cw, 0
	} else {
		mid, midStride, midCol = src.Pix[3*src.W*rowFirst:], 3*src.W, 3*x0
	}

	if !needV {
		for y := 0; y < ch; y++ {
			off := (y0+y-rowFirst)*midStride + midCol
			copy(dst.Pix[3*cw*y:3*cw*(y+1)], mid[off:off+3*cw])
		}
		return
	}
	s.acc = grow(s.acc, 3*cw)
	vertical(dst.Pix, mid, midStride, midCol, cv, y0, ch, rowFirst, s.acc)
}

// horizontal resamples source rows [rowFirst, rowLast) along x into tmp, keeping output columns
// [x0, x0+cw): ImagingResampleHorizontal_8bpc for three bands.
//
// Two rows go through at once, in the two 32-bit halves of uint64s: a source value pair
// lo + hi<<32 times a weight k is lo*k + (hi*k)<<32 modulo 2^64, so one 64-bit multiply-add
// advances both rows' sums. Each row's sum is an int32 as in Pillow (it never overflows), so the
// low half is exactly row one's sum and, once that is taken away, the high half row two's.
// line is scratch for one packed row pair plus c.stride zero pixels, so that every output can
// read its taps rounded up to an even count (the extra weight is zero).
func horizontal(tmp []uint8, src *RGB, c *axisCoeffs, x0, cw, rowFirst, rowLast int, line []uint64) {
	st := c.stride
	starts, taps := c.start[x0:x0+cw], c.taps[x0:x0+cw]
	coeff := c.coeff[x0*st : (x0+cw)*st]
	rowBytes := 3 * src.W
	const half = 1 << (precisionBits - 1)
	for y := rowFirst; y < rowLast; y += 2 {
		row0 := src.Pix[rowBytes*y : rowBytes*(y+1)]
		out0 := tmp[3*cw*(y-rowFirst) : 3*cw*(y-rowFirst+1)]
		row1, out1 := row0, []uint8(nil) // the last row of an odd count pairs with itself
		if y+1 < rowLast {
			row1 = src.Pix[rowBytes*(y+1) : rowBytes*(y+2)]
			out1 = tmp[3*cw*(y+1-rowFirst) : 3*cw*(y+2-rowFirst)]
		}
		pk := line[:len(row0)]
		for i := range pk {
			pk[i] = uint64(row0[i]) | uint64(row1[i])<<32
		}
		for xx, first := range starts {
			n := (int(taps[xx]) + 1) &^ 1
			k := coeff[xx*st : xx*st+n]
			p := line[3*int(first) : 3*int(first)+3*n]
			r, g, b := uint64(half|half<<32), uint64(half|half<<32), uint64(half|half<<32)
			for len(k) >= 2 && len(p) >= 6 {
				k0, k1 := uint64(int64(k[0])), uint64(int64(k[1]))
				p2 := (*[6]uint64)(p)
				r += p2[0]*k0 + p2[3]*k1
				g += p2[1]*k0 + p2[4]*k1
				b += p2[2]*k0 + p2[5]*k1
				k, p = k[2:], p[6:]
			}
			r0, g0, b0 := int32(r), int32(g), int32(b)
			o := (*[3]uint8)(out0[3*xx:])
			o[0], o[1], o[2] = clip8(r0), clip8(g0), clip8(b0)
			if out1 != nil {
				o := (*[3]uint8)(out1[3*xx:])
				o[0] = clip8(int32((r - uint64(int64(r0))) >> 32))
				o[1] = clip8(int32((g - uint64(int64(g0))) >> 32))
				o[2] = clip8(int32((b - uint64(int64(b0))) >> 32))
			}
		}
	}
}

// vertical resamples along y into dst (rows of 3*cw bytes), output rows [y0, y0+ch) of the
// full result: ImagingResampleVertical_8bpc. mid holds the horizontally resampled rows from
// rowFirst on, stride bytes apart, the window starting col bytes into each.
func vertical(dst, mid []uint8, stride, col int, c *axisCoeffs, y0, ch, rowFirst int, acc []int32) {
	st := c.stride
	rowBytes := len(acc)
	for yy := 0; yy < ch; yy++ {
		i := y0 + yy
		k := c.coeff[i*st : i*st+int(c.taps[i])]
		off := (int(c.start[i])-rowFirst)*stride + col
		for j := range acc {
			acc[j] = 1 << (precisionBits - 1)
		}
		// Source rows four, two, then one at a time: one pass over acc for each group.
		for ; len(k) >= 4; k, off = k[4:], off+4*stride {
			k0, k1, k2, k3 := k[0], k[1], k[2], k[3]
			r0 := mid[off : off+rowBytes]
			r1 := mid[off+stride : off+stride+rowBytes]
			r2 := mid[off+2*stride : off+2*stride+rowBytes]
			r3 := mid[off+3*stride : off+3*stride+rowBytes]
			for j := range acc {
				acc[j] += int32(r0[j])*k0 + int32(r1[j])*k1 + int32(r2[j])*k2 + int32(r3[j])*k3
			}
		}
		if len(k) >= 2 {
			k0, k1 := k[0], k[1]
			r0 := mid[off : off+rowBytes]
			r1 := mid[off+stride : off+stride+rowBytes]
			for j := range acc {
				acc[j] += int32(r0[j])*k0 + int32(r1[j])*k1
			}
			k, off = k[2:], off+2*stride
		}
		if len(k) == 1 {
			k0 := k[0]
			r0 := mid[off : off+rowBytes]
			for j := range acc {
				acc[j] += int32(r0[j]) * k0
			}
		}
		out := dst[rowBytes*yy : rowBytes*(yy+1)]
		for j, v := range acc {
			out[j] = clip8(v)
		}
	}
}

// clip8 is Pillow's clip8: the sum's integer part, clamped to a byte. (Pillow's lookup table
// covers -640..639, all a 22-bit-fraction sum of bytes can reach; clamping agrees there.)
func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
