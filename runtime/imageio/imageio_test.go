package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// diffStats compares an image with PIL's pixels for it.
type diffStats struct {
	max     [3]int
	mean    [3]float64
	differ  float64 // fraction of samples that differ
	samples int
}

func (s diffStats) String() string {
	return fmt.Sprintf("max |d| R %d G %d B %d  mean |d| R %.4f G %.4f B %.4f  differing %6.3f%%",
		s.max[0], s.max[1], s.max[2], s.mean[0], s.mean[1], s.mean[2], 100*s.differ)
}

func (s diffStats) maxAll() int { return slices.Max(s.max[:]) }

func (s diffStats) meanAll() float64 { return (s.mean[0] + s.mean[1] + s.mean[2]) / 3 }

// readWant reads PIL's .convert('RGB') pixels that make.py saved next to path.
func readWant(t testing.TB, path string) *RGB {
	t.Helper()
	f, err := os.Open(path + ".want.png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s.want.png: %v", path, err)
	}
	b := m.Bounds()
	want := newRGB(b.Dx(), b.Dy())
	for y := range want.H {
		for x := range want.W {
			r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA() // opaque: not premultiplied
			i := 3 * (y*want.W + x)
			want.Pix[i], want.Pix[i+1], want.Pix[i+2] = byte(r>>8), byte(g>>8), byte(bl>>8)
		}
	}
	return want
}

func compare(t testing.TB, name string, got, want *RGB) diffStats {
	t.Helper()
	if got.W != want.W || got.H != want.H {
		t.Fatalf("%s: vitc decodes %dx%d, PIL %dx%d", name, got.W, got.H, want.W, want.H)
	}
	if len(got.Pix) != 3*got.W*got.H {
		t.Fatalf("%s: %d bytes of pixels for %dx%d", name, len(got.Pix), got.W, got.H)
	}
	var s diffStats
	var sum [3]int
	differ := 0
	for i, g := range got.Pix {
		d := int(g) - int(want.Pix[i])
		d = max(d, -d)
		c := i % 3
		s.max[c] = max(s.max[c], d)
		sum[c] += d
		if d != 0 {
			differ++
		}
	}
	n := got.W * got.H
	for c := range 3 {
		s.mean[c] = float64(sum[c]) / float64(n)
	}
	s.samples = 3 * n
	s.differ = float64(differ) / float64(3*n)
	return s
}

func testdataImages(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.want.png"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no testdata/*.want.png (run testdata/make.py): %v", err)
	}
	for i, n := range names {
		names[i] = strings.TrimSuffix(n, ".want.png")
	}
	return names
}

// TestPIL decodes every test image and compares it with what PIL gives: they must be equal.
func TestPIL(t *testing.T) {
	for _, path := range testdataImages(t) {
		name := filepath.Base(path)
		if strings.HasPrefix(name, "unsupported_") {
			continue
		}
		got, err := DecodeFile(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		s := compare(t, name, got, readWant(t, path))
		t.Logf("%-44s %4dx%-4d %s", name, got.W, got.H, s)
		if s.maxAll() != 0 {
			t.Errorf("%s: differs from PIL by up to %d (mean %.4f); it should be exact", name, s.maxAll(), s.meanAll())
		}
	}
}

// TestPILDir compares every FILE with a FILE.want.png in $IMAGEIO_PIL_DIR (written by
// make.py --refs) and prints the differences, e.g. for full-size photographs or ImageNet.
func TestPILDir(t *testing.T) {
	dir := os.Getenv("IMAGEIO_PIL_DIR")
	if dir == "" {
		t.Skip("set IMAGEIO_PIL_DIR to a directory written by testdata/make.py --refs")
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.want.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range names {
		path := strings.TrimSuffix(w, ".want.png")
		got, err := DecodeFile(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		s := compare(t, path, got, readWant(t, path))
		t.Logf("%-44s %4dx%-4d %s", filepath.Base(path), got.W, got.H, s)
	}
}

// TestBroken: files that PIL fails on, or that vitc does not support, give an error that
// names the file.
func TestBroken(t *testing.T) {
	var names []string
	for _, pattern := range []string{"bad_*", "unsupported_*"} {
		m, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, n := range m {
			if !strings.HasSuffix(n, ".want.png") {
				names = append(names, n)
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("only %d broken test files (run testdata/make.py)", len(names))
	}
	for _, path := range names {
		img, err := DecodeFile(path)
		if err == nil {
			t.Errorf("%s: decoded to %dx%d, want an error", path, img.W, img.H)
			continue
		}
		t.Logf("%v", err)
		if !strings.Contains(err.Error(), path) {
			t.Errorf("the error does not name the file: %v", err)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string // in the error message
		is   error
	}{
		{"empty", nil, "empty", ErrUnknownFormat},
		{"text", []byte("hello, world"), "starts with 68 65 6c", ErrUnknownFormat},
		{"bomb png", fakePNGHeader(100000, 100000), "100000x100000 = 10000000000 pixels", ErrDecompressionBomb},
		{"bomb jpeg", fakeJPEGHeader(65000, 65000, 3), "65000x65000", ErrDecompressionBomb},
		{"zero width png", fakePNGHeader(0, 10), "invalid", nil},
		{"arithmetic", fakeJPEGSOF(0xC9, 10, 10, 3), "arithmetic", nil},
		{"12-bit", fakeJPEGSOFPrecision(0xC1, 12, 10, 10, 1), "12-bit", nil},
		{"lossless", fakeJPEGSOF(0xC3, 10, 10, 1), "lossless", nil},
		{"jpeg no sof", []byte("\xff\xd8\xff\xda\x00\x02"), "before the frame header", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "some-image.jpg")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			img, err := DecodeFile(path)
			if err == nil {
				t.Fatalf("decoded to %dx%d, want an error", img.W, img.H)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want the file name and %q in it", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
	if _, err := DecodeFile(filepath.Join(t.TempDir(), "missing.png")); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestMaxPixels: the limit is PIL's, 2*MaxPixels pixels are allowed and one more is not,
// and it can be changed or turned off.
func TestMaxPixels(t *testing.T) {
	defer func(old int64) { MaxPixels = old }(MaxPixels)
	data, err := os.ReadFile(filepath.Join("testdata", "chelsea_rgb.png")) // 121x83 = 10043 pixels
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		max int64
		ok  bool
	}{{5022, true}, {5021, false}, {0, true}, {-1, true}, {89478485, true}} {
		MaxPixels = tc.max
		_, err := Decode(bytes.NewReader(data))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrDecompressionBomb)) {
			t.Errorf("MaxPixels %d: error %v, want ok=%v", tc.max, err, tc.ok)
		}
	}
}

// TestTruncated: every prefix of a valid file is an error or an image of the right size,
// never a panic.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"chelsea_420.jpg", "chelsea_420_progressive.jpg", "face_ycck.jpg",
		"chelsea_rgba.png", "chelsea_rgb_interlaced.png", "chelsea_lossy_alpha.webp", "chelsea_lossless.webp",
		"coffee.gif"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(data)/300)
		for n := 0; n < len(data); n += step {
			img, err := Decode(bytes.NewReader(data[:n]))
			if err == nil && len(img.Pix) != 3*img.W*img.H {
				t.Errorf("%s cut to %d bytes: %d bytes of pixels for %dx%d", name, n, len(img.Pix), img.W, img.H)
			}
		}
	}
}

// TestLibjpegTables checks the colour tables against the values libjpeg's FIX() gives.
func TestLibjpegTables(t *testing.T) {
	// FIX(1.40200) = 91881, FIX(1.77200) = 116130, FIX(0.71414) = 46802, FIX(0.34414) = 22554.
	if crR[255] != (91881*127+32768)>>16 || cbB[0] != (116130*-128+32768)>>16 ||
		crG[0] != 46802*128 || cbG[255] != -22554*127+32768 {
		t.Errorf("tables: crR[255]=%d cbB[0]=%d crG[0]=%d cbG[255]=%d", crR[255], cbB[0], crG[0], cbG[255])
	}
	// Neutral chroma is an exact grey.
	for y := range 256 {
		if r, g, b := ycbcrToRGBLibjpeg(byte(y), 128, 128); r != byte(y) || g != byte(y) || b != byte(y) {
			t.Fatalf("Y=%d Cb=Cr=128 gives %d %d %d", y, r, g, b)
		}
	}
}

// fakePNGHeader is the start of a PNG that claims w×h pixels of 8-bit RGB.
func fakePNGHeader(w, h uint32) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	chunk := append([]byte("IHDR"), ihdr[:]...)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func fakeJPEGHeader(w, h uint16, comps int) []byte { return fakeJPEGSOF(0xC0, w, h, comps) }

func fakeJPEGSOF(sof byte, w, h uint16, comps int) []byte {
	return fakeJPEGSOFPrecision(sof, 8, w, h, comps)
}

// fakeJPEGSOFPrecision is SOI, a quantisation table and a frame header, without scans.
func fakeJPEGSOFPrecision(sof byte, precision byte, w, h uint16, comps int) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0}
	for range 64 {
		b = append(b, 1)
	}
	b = append(b, 0xFF, sof)
	b = binary.BigEndian.AppendUint16(b, uint16(8+3*comps))
	b = append(b, precision)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, byte(comps))
	for i := range comps {
		b = append(b, byte(i+1), 0x11, 0)
	}
	return b
}

// BenchmarkDecode decodes one test image of each kind; set IMAGEIO_BENCH_FILE to time a
// real photograph instead (ImageNet's are about 500x375).
func BenchmarkDecode(b *testing.B) {
	names := []string{"hopper_420.jpg", "hopper_420_progressive.jpg", "chelsea_444.jpg", "chelsea_rgb.png",
		"chelsea_lossy.webp", "chelsea_lossless.webp"}
	if f := os.Getenv("IMAGEIO_BENCH_FILE"); f != "" {
		names = []string{f}
	}
	for _, name := range names {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join("testdata", name)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			var px int
			for b.Loop() {
				img, err := Decode(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				px = img.W * img.H
			}
			b.ReportMetric(float64(px)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpixel/s")
		})
	}
}
