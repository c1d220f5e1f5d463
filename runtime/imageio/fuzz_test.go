package imageio

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode feeds Decode arbitrary bytes. It must never panic or hang, and what it returns
// must be an image whose pixels fill W×H exactly. The seeds are every test image.
func FuzzDecode(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	seeds := 0
	for _, name := range names {
		if strings.HasSuffix(name, ".want.png") || strings.HasSuffix(name, ".py") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		seeds++
	}
	if seeds < 50 {
		f.Fatalf("only %d seed files in testdata (run testdata/make.py)", seeds)
	}
	f.Add(fakePNGHeader(1<<20, 1<<20))
	f.Add(fakeJPEGHeader(4000, 4000, 3))

	defer func(old int64) { MaxPixels = old }(MaxPixels)
	MaxPixels = 1 << 20 // keep each input's memory small: 2 Mpixel at most
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Decode(bytes.NewReader(b))
		if err != nil {
			if img != nil {
				t.Fatalf("an image and an error: %v", err)
			}
			return
		}
		if img.W <= 0 || img.H <= 0 || len(img.Pix) != 3*img.W*img.H {
			t.Fatalf("%dx%d image with %d bytes of pixels", img.W, img.H, len(img.Pix))
		}
		if int64(img.W)*int64(img.H) > 2*MaxPixels {
			t.Fatalf("%dx%d image passed the MaxPixels check", img.W, img.H)
		}
	})
}
