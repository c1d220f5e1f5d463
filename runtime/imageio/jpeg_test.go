package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoJPEGIsNotLibjpeg measures why this package decodes JPEG itself: Go's image/jpeg,
// given the same chroma upsampling and colour conversion, is off from PIL wherever its
// inverse DCT rounds differently from libjpeg's islow. It logs the figures, and fails if
// Go ever becomes exact, as this package's own decoder then would no longer be needed.
func TestGoJPEGIsNotLibjpeg(t *testing.T) {
	exact := 0
	n := 0
	for _, path := range testdataImages(t) {
		name := filepath.Base(path)
		if filepath.Ext(name) != ".jpg" || !strings.HasPrefix(name, "chelsea_4") && !strings.HasPrefix(name, "china") &&
			!strings.HasPrefix(name, "hopper") && !strings.HasPrefix(name, "camera") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Logf("%-44s image/jpeg fails: %v", name, err)
			continue
		}
		var got *RGB
		switch m := m.(type) {
		case *image.YCbCr:
			got = goYCbCrToRGB(t, m)
		case *image.Gray:
			got = fromGray(m)
		default:
			continue
		}
		s := compare(t, name, got, readWant(t, path))
		t.Logf("%-44s image/jpeg + libjpeg upsampling: %s", name, s)
		n++
		if s.maxAll() == 0 {
			exact++
		}
	}
	if n == 0 || exact == n {
		t.Errorf("image/jpeg is exact on %d of %d files", exact, n)
	}
}

// goYCbCrToRGB upsamples and converts Go's planes as decodeJPEG does its own.
func goYCbCrToRGB(t *testing.T, m *image.YCbCr) *RGB {
	var hf, vf int
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hf, vf = 1, 1
	case image.YCbCrSubsampleRatio422:
		hf, vf = 2, 1
	case image.YCbCrSubsampleRatio420:
		hf, vf = 2, 2
	case image.YCbCrSubsampleRatio440:
		hf, vf = 1, 2
	case image.YCbCrSubsampleRatio411:
		hf, vf = 4, 1
	default:
		t.Fatalf("subsampling %v", m.SubsampleRatio)
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := ceilDiv(w, hf), ceilDiv(h, vf)
	cb := upsampleLibjpeg(m.Cb, m.CStride, cw, ch, hf, vf, w, h)
	cr := upsampleLibjpeg(m.Cr, m.CStride, cw, ch, hf, vf, w, h)
	out := newRGB(w, h)
	for y := range h {
		for x := range w {
			i := y*w + x
			out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = ycbcrToRGBLibjpeg(m.Y[y*m.YStride+x], cb[i], cr[i])
		}
	}
	return out
}

// TestStandardHuffmanTables: a sequential JPEG without DHT segments decodes with the tables
// of T.81 Annex K, as libjpeg's do (Motion-JPEG frames leave them out). Go's encoder uses
// those tables, so its files decode the same with their DHT segments removed.
func TestStandardHuffmanTables(t *testing.T) {
	src, err := DecodeFile(filepath.Join("testdata", "chelsea_rgb.png"))
	if err != nil {
		t.Fatal(err)
	}
	m := image.NewRGBA(image.Rect(0, 0, src.W, src.H))
	for i := range src.W * src.H {
		copy(m.Pix[4*i:], src.Pix[3*i:3*i+3])
		m.Pix[4*i+3] = 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	withTables := buf.Bytes()
	without := stripSegments(t, withTables, 0xC4)
	if len(without) >= len(withTables) {
		t.Fatal("no DHT segment to strip")
	}
	want, err := Decode(bytes.NewReader(withTables))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(without))
	if err != nil {
		t.Fatalf("without DHT: %v", err)
	}
	if s := compare(t, "no DHT", got, want); s.maxAll() != 0 {
		t.Errorf("without DHT segments the image differs: %s", s)
	}
}

// stripSegments removes every marker segment of the given kind before the first scan.
func stripSegments(t *testing.T, data []byte, marker byte) []byte {
	t.Helper()
	out := append([]byte(nil), data[:2]...)
	i := 2
	for data[i+1] != 0xDA {
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if data[i+1] != marker {
			out = append(out, data[i:i+2+n]...)
		}
		i += 2 + n
	}
	return append(out, data[i:]...)
}

// TestIDCTDC: a block with only a DC coefficient is flat, at 128 + DC*q/8 rounded, for all
// coefficient values a file can hold.
func TestIDCTDC(t *testing.T) {
	var q [64]uint16
	q[0] = 1
	var blk [64]int16
	var out [64]byte
	for dc := -2048; dc <= 2047; dc++ {
		blk[0] = int16(dc)
		idctIslow(blk[:], &q, out[:], 8)
		want := clamp255(int32(128 + (dc*4+16)>>5)) // as libjpeg: DESCALE(dc<<2, 5)
		for i, v := range out {
			if v != want {
				t.Fatalf("DC %d: sample %d is %d, want %d", dc, i, v, want)
			}
		}
	}
}
