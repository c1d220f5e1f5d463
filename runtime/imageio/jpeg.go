package imageio

import (
	"errors"
	"fmt"
)

// jpegConfig reads the size from the frame header.
func jpegConfig(data []byte) (w, h int, err error) {
	d, err := decodeJPEGCoefficients(data, true)
	if err != nil {
		return 0, 0, err
	}
	if d.sof == 0 {
		return 0, 0, errors.New("the JPEG has no frame header (SOF)")
	}
	return d.width, d.height, nil
}

// decodeJPEG decodes as Pillow does: mode "L", "RGB" or "CMYK" by the number of components,
// through libjpeg-turbo with its defaults, then .convert('RGB').
func decodeJPEG(data []byte) (*RGB, error) {
	d, err := decodeJPEGCoefficients(data, false)
	if err != nil {
		return nil, err
	}
	w, h := d.width, d.height
	// Inverse DCT, then every component upsampled to the full size as libjpeg does
	// (upsampleLibjpeg: "fancy" upsampling is on by default, so never the merged kind).
	cur, prev, smooth := d.smoothingLatches()
	full := make([][]byte, len(d.comps))
	for i := range d.comps {
		c := &d.comps[i]
		var plane []byte
		var stride int
		if smooth {
			plane, stride = d.smoothedSamples(i, &cur[i], &prev[i])
		} else {
			plane, stride = c.samples()
		}
		full[i] = upsampleLibjpeg(plane, stride, c.dsW, c.dsH, d.hmax/c.h, d.vmax/c.v, w, h)
	}
	out := newRGB(w, h)
	px := out.Pix
	switch d.space {
	case jcsGrey: // mode "L"; convert('RGB') repeats it
		for i, v := range full[0] {
			px[3*i], px[3*i+1], px[3*i+2] = v, v, v
		}
	case jcsYCbCr:
		y, cb, cr := full[0], full[1], full[2]
		for i := range y {
			px[3*i], px[3*i+1], px[3*i+2] = ycbcrToRGBLibjpeg(y[i], cb[i], cr[i])
		}
	case jcsRGB:
		r, g, b := full[0], full[1], full[2]
		for i := range r {
			px[3*i], px[3*i+1], px[3*i+2] = r[i], g[i], b[i]
		}
	case jcsCMYK:
		// libjpeg passes the samples through; Pillow unpacks them as "CMYK;I", inverted
		// (Adobe's convention, assumed whether or not the file has an Adobe segment).
		c, m, y, k := full[0], full[1], full[2], full[3]
		for i := range c {
			px[3*i], px[3*i+1], px[3*i+2] = cmykToRGBPillow(255-c[i], 255-m[i], 255-y[i], 255-k[i])
		}
	case jcsYCCK:
		// libjpeg's ycck_cmyk_convert gives 255-R, 255-G, 255-B (R, G, B as for YCbCr) and
		// K as stored; Pillow inverts all four.
		y, cb, cr, k := full[0], full[1], full[2], full[3]
		for i := range y {
			r, g, b := ycbcrToRGBLibjpeg(y[i], cb[i], cr[i])
			px[3*i], px[3*i+1], px[3*i+2] = cmykToRGBPillow(r, g, b, 255-k[i])
		}
	default:
		return nil, fmt.Errorf("JPEG colour space %d", d.space)
	}
	return out, nil
}

// zeroQuant stands in for the table of a component that no scan ever named: libjpeg's
// multiplier table stays zeroed then, and every sample comes out 128.
var zeroQuant [64]uint16

// samples runs the inverse DCT over the blocks that cover the component's samples.
func (c *jpegComponent) samples() (plane []byte, stride int) {
	q := c.quant
	if q == nil {
		q = &zeroQuant
	}
	stride = 8 * c.wBlocks
	plane = make([]byte, stride*8*c.hBlocks)
	for by := range c.hBlocks {
		for bx := range c.wBlocks {
			blk := c.coef[64*(by*c.stride+bx):][:64]
			idctIslow(blk, q, plane[8*(by*stride+bx):], stride)
		}
	}
	return plane, stride
}
