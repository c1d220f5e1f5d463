package imageio

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/webp"
)

// TestGoWebPIsNotLibwebp measures why lossy WebP is converted here: x/image/webp's planes
// through Go's own conversion (image.YCbCr.At: nearest chroma sample, image/color's
// YCbCr->RGB) are off from PIL's libwebp output by several levels. It logs the figures.
func TestGoWebPIsNotLibwebp(t *testing.T) {
	n := 0
	for _, path := range testdataImages(t) {
		name := filepath.Base(path)
		if !strings.HasSuffix(name, ".webp") || !strings.Contains(name, "lossy") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := webp.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := m.(*image.NYCbCrA); ok {
			m = &a.YCbCr
		}
		got, err := fromImage(m) // the generic path: color.NRGBAModel on each pixel
		if err != nil {
			t.Fatal(err)
		}
		s := compare(t, name, got, readWant(t, path))
		t.Logf("%-44s x/image/webp + image/color: %s", name, s)
		if s.maxAll() > 0 {
			n++
		}
	}
	if n == 0 {
		t.Error("Go's own conversion of lossy WebP matches PIL everywhere: webpYUVToRGB may be unnecessary")
	}
}
