package imageio

import (
	"bytes"
	"fmt"
	"image"

	"golang.org/x/image/webp"
)

// decodeWebP: Pillow reads WebP through libwebp's WebPAnimDecoder into non-premultiplied
// RGBA (mode "RGBA" if the file has alpha, else "RGB"), and .convert('RGB') drops alpha.
// Lossless files are ARGB already; lossy ones are 4:2:0 YUV, which x/image/webp returns as
// planes and libwebp would upsample and convert as below.
func decodeWebP(data []byte) (*RGB, error) {
	m, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *image.YCbCr:
		return webpYUVToRGB(m)
	case *image.NYCbCrA:
		return webpYUVToRGB(&m.YCbCr)
	}
	return fromImage(m)
}

// webpYUVToRGB is libwebp's default output path for lossy images (io_dec.c EmitFancyRGB with
// the upsamplers of upsampling.c and the conversion of yuv.h).
func webpYUVToRGB(m *image.YCbCr) (*RGB, error) {
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, fmt.Errorf("unexpected WebP chroma subsampling %v", m.SubsampleRatio)
	}
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	y0, c0 := m.YOffset(b.Min.X, b.Min.Y), m.COffset(b.Min.X, b.Min.Y)
	yRow := func(y int) []byte { return m.Y[y0+y*m.YStride:][:w] }
	uRow := func(cy int) []byte { return m.Cb[c0+cy*m.CStride:][:cw] }
	vRow := func(cy int) []byte { return m.Cr[c0+cy*m.CStride:][:cw] }
	out := newRGB(w, h)
	dst := func(y int) []byte { return out.Pix[3*w*y:][:3*w] }
	// Output row 0 uses chroma row 0 only; then rows 2k-1 and 2k lie between chroma rows k-1
	// and k (3/4 of the nearer one, 1/4 of the other); with an even height the last row
	// uses the last chroma row only.
	webpUpsampleRow(dst(0), yRow(0), uRow(0), vRow(0), uRow(0), vRow(0))
	for y := 1; y+1 < h; y += 2 {
		k := (y + 1) / 2
		webpUpsampleRow(dst(y), yRow(y), uRow(k-1), vRow(k-1), uRow(k), vRow(k))
		webpUpsampleRow(dst(y+1), yRow(y+1), uRow(k), vRow(k), uRow(k-1), vRow(k-1))
	}
	if h > 1 && h%2 == 0 {
		webpUpsampleRow(dst(h-1), yRow(h-1), uRow(ch-1), vRow(ch-1), uRow(ch-1), vRow(ch-1))
	}
	return out, nil
}

// webpUpsampleRow converts one output row whose chroma is 3/4 from the near chroma row and
// 1/4 from the far one, in both directions: 9/16, 3/16, 3/16, 1/16 of the four nearest
// samples, computed as libwebp's UPSAMPLE_FUNC does, in two rounded steps through the
// averages along the diagonals, not in one.
func webpUpsampleRow(dst, lum, nearU, nearV, farU, farV []byte) {
	w := len(lum)
	put := func(x int, u, v int) {
		dst[3*x], dst[3*x+1], dst[3*x+2] = webpYUVToRGBPixel(int(lum[x]), u, v)
	}
	// The first pixel, and the last of an even width, have chroma columns on one side only:
	// only the vertical 3:1 mix applies.
	edge := func(x, cx int) {
		put(x, (3*int(nearU[cx])+int(farU[cx])+2)>>2, (3*int(nearV[cx])+int(farV[cx])+2)>>2)
	}
	edge(0, 0)
	for cx := 1; 2*cx < w; cx++ {
		u0, u1 := webpDiag(int(nearU[cx-1]), int(nearU[cx]), int(farU[cx-1]), int(farU[cx]))
		v0, v1 := webpDiag(int(nearV[cx-1]), int(nearV[cx]), int(farV[cx-1]), int(farV[cx]))
		put(2*cx-1, u0, v0)
		put(2*cx, u1, v1)
	}
	if w%2 == 0 {
		edge(w-1, w/2-1)
	}
}

// webpDiag returns the chroma of the two output pixels between chroma columns cx-1 and cx
// on the near row's side: the left one nearest to nl (near, left), the right one nearest to
// nr. The far row's samples are fl and fr.
func webpDiag(nl, nr, fl, fr int) (left, right int) {
	avg := nl + nr + fl + fr + 8
	diagNrFl := (avg + 2*(nr+fl)) >> 3 // the diagonal through nr and fl
	diagNlFr := (avg + 2*(nl+fr)) >> 3
	return (diagNrFl + nl) >> 1, (diagNlFr + nr) >> 1
}

// webpYUVToRGBPixel is libwebp's VP8YUVToR/G/B (yuv.h): BT.601 with 14-bit constants,
// MultHi(v, c) = v*c >> 8, then a 6-bit descale with clipping.
func webpYUVToRGBPixel(y, u, v int) (r, g, b byte) {
	mulHi := func(v, c int) int { return (v * c) >> 8 }
	clip := func(v int) byte {
		if v&^((256<<6)-1) == 0 {
			return byte(v >> 6)
		}
		if v < 0 {
			return 0
		}
		return 255
	}
	yy := mulHi(y, 19077)
	return clip(yy + mulHi(v, 26149) - 14234),
		clip(yy - mulHi(u, 6419) - mulHi(v, 13320) + 8708),
		clip(yy + mulHi(u, 33050) - 17685)
}
