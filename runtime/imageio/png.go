package imageio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
)

// pngHeader is what decodePNG needs from the chunks before the image data, which Go's decoder
// does not tell: the colour type and depth (a grey 16-bit image with a tRNS chunk comes back
// from Go as NRGBA64, but Pillow opens it as mode "I" all the same) and how many colours PLTE
// holds (Go pads the palette with opaque black for out-of-range indices).
type pngHeader struct {
	depth, colorType byte
	paletteLen       int // entries in PLTE; 0 if none
}

const (
	pngGrey    = 0
	pngPalette = 3
)

func readPNGHeader(data []byte) (*pngHeader, error) {
	h := &pngHeader{}
	for i := 8; i+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		kind := string(data[i+4 : i+8])
		if n < 0 || n > len(data)-i-12 {
			return nil, fmt.Errorf("PNG chunk %q at byte %d claims %d bytes, past the end of the file", kind, i, n)
		}
		body := data[i+8 : i+8+n]
		switch kind {
		case "IHDR":
			if n < 13 {
				return nil, fmt.Errorf("PNG IHDR chunk is %d bytes, want 13", n)
			}
			h.depth, h.colorType = body[8], body[9]
		case "PLTE":
			h.paletteLen = n / 3
		case "IDAT", "IEND":
			return h, nil
		}
		i += 12 + n
	}
	return nil, fmt.Errorf("the file ends before the PNG image data")
}

// decodePNG: Pillow opens PNG as "1", "L", "I" (16-bit grey), "P", "LA", "RGB" or "RGBA"
// (16-bit grey+alpha too), then converts; see fromImage for the general rules.
func decodePNG(data []byte) (*RGB, error) {
	h, err := readPNGHeader(data)
	if err != nil {
		return nil, err
	}
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *image.Paletted:
		if h.colorType == pngPalette {
			return fromPaletted(m, h.paletteLen), nil
		}
	case *image.NRGBA64:
		if h.colorType == pngGrey && h.depth == 16 { // grey with tRNS
			return fromGrey16WithAlpha(m), nil
		}
	}
	return fromImage(m)
}

// fromGrey16WithAlpha is fromGray16 for the NRGBA64 (R = G = B) that Go returns for 16-bit
// grey with a tRNS chunk.
func fromGrey16WithAlpha(m *image.NRGBA64) *RGB {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := newRGB(w, h)
	for y := range h {
		src := m.Pix[y*m.Stride:][:8*w]
		dst := out.Pix[3*w*y:][:3*w]
		for x := range w {
			v := clip16(src[8*x], src[8*x+1])
			dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
		}
	}
	return out
}
