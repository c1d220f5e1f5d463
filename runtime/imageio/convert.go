package imageio

import (
	"image"
	"image/color"
)

// Pillow's .convert('RGB') from the modes that the Go decoders' pixel types stand for.
// Alpha is always dropped, never composited (Convert.c rgba2rgb, la2rgb); colours under
// transparent pixels stay as they were stored, so non-premultiplied pixels are read as they
// are and never through color.Color's premultiplied RGBA().

// fromImage converts the pixel types the decoders return; anything else goes through
// color.NRGBAModel, which is right for opaque pixels.
func fromImage(m image.Image) (*RGB, error) {
	switch m := m.(type) {
	case *image.Gray:
		return fromGray(m), nil
	case *image.Gray16:
		return fromGray16(m), nil
	case *image.RGBA:
		return from4x8(m.Pix, m.Stride, m.Rect), nil
	case *image.NRGBA:
		return from4x8(m.Pix, m.Stride, m.Rect), nil
	case *image.RGBA64:
		return from4x16(m.Pix, m.Stride, m.Rect), nil
	case *image.NRGBA64:
		return from4x16(m.Pix, m.Stride, m.Rect), nil
	case *image.CMYK:
		return fromCMYK(m), nil
	case *image.Paletted:
		return fromPaletted(m, len(m.Palette)), nil
	}
	b := m.Bounds()
	out := newRGB(b.Dx(), b.Dy())
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = c.R, c.G, c.B
			i += 3
		}
	}
	return out, nil
}

// fromGray is Pillow's l2rgb (also "1" to RGB, whose pixels are 0 or 255 already).
func fromGray(m *image.Gray) *RGB {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := newRGB(w, h)
	for y := range h {
		src := m.Pix[y*m.Stride:][:w]
		dst := out.Pix[3*w*y:][:3*w]
		for x, v := range src {
			dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
		}
	}
	return out
}

// fromGray16: Pillow opens 16-bit greyscale PNG as mode "I" (32-bit integers) and TIFF as
// "I;16"; both convert to RGB by clipping to 0..255 (Convert.c i2rgb, I16_RGB), not by
// scaling, so everything from 255 up is white.
func fromGray16(m *image.Gray16) *RGB {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := newRGB(w, h)
	for y := range h {
		src := m.Pix[y*m.Stride:][:2*w]
		dst := out.Pix[3*w*y:][:3*w]
		for x := range w {
			v := clip16(src[2*x], src[2*x+1])
			dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
		}
	}
	return out
}

// clip16 is min(v, 255) for the big-endian 16-bit sample hi, lo.
func clip16(hi, lo byte) byte {
	if hi != 0 {
		return 255
	}
	return lo
}

// from4x8 keeps R, G and B of 8-bit RGBA or NRGBA pixels.
func from4x8(pix []byte, stride int, r image.Rectangle) *RGB {
	w, h := r.Dx(), r.Dy()
	out := newRGB(w, h)
	for y := range h {
		src := pix[y*stride:][:4*w]
		dst := out.Pix[3*w*y:][:3*w]
		for x := range w {
			dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
		}
	}
	return out
}

// from4x16 keeps the high bytes of R, G and B of 16-bit pixels: Pillow unpacks 16-bit PNG
// RGB, RGBA and grey+alpha ("RGB;16B", "RGBA;16B", "LA;16B") by taking the high byte,
// without rounding.
func from4x16(pix []byte, stride int, r image.Rectangle) *RGB {
	w, h := r.Dx(), r.Dy()
	out := newRGB(w, h)
	for y := range h {
		src := pix[y*stride:][:8*w]
		dst := out.Pix[3*w*y:][:3*w]
		for x := range w {
			dst[3*x], dst[3*x+1], dst[3*x+2] = src[8*x], src[8*x+2], src[8*x+4]
		}
	}
	return out
}

// fromCMYK is Pillow's cmyk2rgb (Convert.c, Pillow 9.4): with nk = 255-K,
// R = nk - round(C*nk/255), and so for G from M and B from Y, where the division by 255 is
// MULDIV255's ((t>>8)+t)>>8 with t = C*nk+128. It is neither 255-(C+K) (older Pillow) nor
// colour-managed. Go's image.CMYK holds C, M, Y, K with 0 meaning no ink, as Pillow's mode
// "CMYK" does.
func fromCMYK(m *image.CMYK) *RGB {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := newRGB(w, h)
	for y := range h {
		src := m.Pix[y*m.Stride:][:4*w]
		dst := out.Pix[3*w*y:][:3*w]
		for x := range w {
			dst[3*x], dst[3*x+1], dst[3*x+2] = cmykToRGBPillow(src[4*x], src[4*x+1], src[4*x+2], src[4*x+3])
		}
	}
	return out
}

func cmykToRGBPillow(c, m, y, k byte) (r, g, b byte) {
	nk := 255 - int(k)
	return byte(nk - mulDiv255(int(c), nk)), byte(nk - mulDiv255(int(m), nk)), byte(nk - mulDiv255(int(y), nk))
}

// mulDiv255 is a*b/255 rounded, for a, b in 0..255, as Pillow's MULDIV255 computes it.
func mulDiv255(a, b int) int {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}

// fromPaletted looks the indices up in the palette. Entries at and past n (the number of
// colours the file defines) are Pillow's default for a palette it was given too few
// colours for: the grey ramp (i, i, i) (ImagingPaletteNew). Go's decoders show colours with
// a tRNS or transparent index as color.NRGBA; the RGB that Pillow shows is kept.
func fromPaletted(m *image.Paletted, n int) *RGB {
	var lut [256][3]byte
	for i := range lut {
		lut[i] = [3]byte{byte(i), byte(i), byte(i)}
		if i < n && i < len(m.Palette) {
			lut[i] = paletteRGB(m.Palette[i])
		}
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := newRGB(w, h)
	for y := range h {
		src := m.Pix[y*m.Stride:][:w]
		dst := out.Pix[3*w*y:][:3*w]
		for x, idx := range src {
			c := lut[idx]
			dst[3*x], dst[3*x+1], dst[3*x+2] = c[0], c[1], c[2]
		}
	}
	return out
}

func paletteRGB(c color.Color) [3]byte {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]byte{c.R, c.G, c.B}
	case color.RGBA:
		if c.A == 0xFF {
			return [3]byte{c.R, c.G, c.B}
		}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]byte{n.R, n.G, n.B}
}

func rgbColor(r, g, b byte) color.Color { return color.RGBA{r, g, b, 0xFF} }
