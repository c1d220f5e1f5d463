package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
)

// decodeGIF gives the first frame as Pillow 9.4 shows it: a canvas of the logical screen's
// size, filled with the transparent index if the frame has one and with index 0 if not, the
// frame's pixels at their place, all through the frame's colour table (local, else global)
// with the transparent entry keeping its colour. Go's decoder blanks that entry, so the
// colour tables are read here.
func decodeGIF(data []byte) (*RGB, error) {
	table, transparent, err := readGIFFirstFrameTable(data)
	if err != nil {
		return nil, err
	}
	cfg, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	frame, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	pm, ok := frame.(*image.Paletted)
	if !ok {
		return nil, fmt.Errorf("unexpected GIF pixel layout %T", frame)
	}
	fill := byte(0)
	if transparent >= 0 {
		fill = byte(transparent)
	}
	canvas := image.NewPaletted(image.Rect(0, 0, cfg.Width, cfg.Height), nil)
	for i := range canvas.Pix {
		canvas.Pix[i] = fill
	}
	r := pm.Rect.Intersect(canvas.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(canvas.Pix[canvas.PixOffset(r.Min.X, y):][:r.Dx()], pm.Pix[pm.PixOffset(r.Min.X, y):][:r.Dx()])
	}
	for i := 0; i+2 < len(table); i += 3 {
		canvas.Palette = append(canvas.Palette, rgbColor(table[i], table[i+1], table[i+2]))
	}
	return fromPaletted(canvas, len(canvas.Palette)), nil
}

// readGIFFirstFrameTable walks the blocks up to the first image descriptor and returns the
// colour table that frame uses (3 bytes an entry) and its transparent index (-1 if none).
func readGIFFirstFrameTable(data []byte) (table []byte, transparent int, err error) {
	short := errors.New("the file ends before the first GIF frame")
	if len(data) < 13 {
		return nil, 0, short
	}
	i := 13
	var global []byte
	if flags := data[10]; flags&0x80 != 0 {
		n := 3 << (flags&7 + 1)
		if i+n > len(data) {
			return nil, 0, short
		}
		global, i = data[i:i+n], i+n
	}
	transparent = -1
	for i < len(data) {
		switch data[i] {
		case 0x21: // extension: label, then sub-blocks
			if i+2 > len(data) {
				return nil, 0, short
			}
			label := data[i+1]
			i += 2
			for first := true; ; first = false {
				if i >= len(data) {
					return nil, 0, short
				}
				n := int(data[i])
				if i+1+n > len(data) {
					return nil, 0, short
				}
				if first && label == 0xF9 && n >= 4 { // graphic control extension
					transparent = -1
					if data[i+1]&1 != 0 {
						transparent = int(data[i+4])
					}
				}
				i += 1 + n
				if n == 0 {
					break
				}
			}
		case 0x2C: // image descriptor
			if i+10 > len(data) {
				return nil, 0, short
			}
			if flags := data[i+9]; flags&0x80 != 0 {
				n := 3 << (flags&7 + 1)
				if i+10+n > len(data) {
					return nil, 0, short
				}
				return data[i+10 : i+10+n], transparent, nil
			}
			if global == nil {
				return nil, 0, errors.New("the first GIF frame has no colour table, local or global")
			}
			return global, transparent, nil
		default:
			return nil, 0, fmt.Errorf("unexpected GIF block %#02x at byte %d", data[i], i)
		}
	}
	return nil, 0, short
}
