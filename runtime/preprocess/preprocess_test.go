package preprocess

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vitc-dev/vitc/runtime/npy"
)

// The expected outputs in testdata come from Debian bookworm's Pillow 9.4.0 and torchvision
// 0.14.1; testdata/make.py regenerates them.

type testCases struct {
	Versions map[string]string `json:"versions"`
	Cases    []struct {
		Name    string `json:"name"`
		W       int    `json:"w"`
		H       int    `json:"h"`
		Resizes []struct {
			W    int    `json:"w"`
			H    int    `json:"h"`
			File string `json:"file"`
		} `json:"resizes"`
		Evals []struct {
			N    int    `json:"n"`
			File string `json:"file"`
		} `json:"evals"`
	} `json:"cases"`
	Shorter []struct {
		W    int `json:"w"`
		H    int `json:"h"`
		Size int `json:"size"`
		OutW int `json:"out_w"`
		OutH int `json:"out_h"`
	} `json:"shorter"`
	Coeffs []struct {
		In     int    `json:"in"`
		Out    int    `json:"out"`
		SHA256 string `json:"sha256"`
		Sum0   int64  `json:"sum0"`
	} `json:"coeffs"`
	Sweeps []struct {
		Out    int    `json:"out"`
		InMax  int    `json:"in_max"`
		SHA256 string `json:"sha256"`
	} `json:"sweeps"`
	Crops []struct {
		W       int    `json:"w"`
		H       int    `json:"h"`
		Size    int    `json:"size"`
		SHA256  string `json:"sha256"`
		TopLeft []int  `json:"top_left"`
	} `json:"crops"`
}

var (
	casesOnce sync.Once
	cases     testCases
	casesErr  error
)

func loadCases(t testing.TB) *testCases {
	t.Helper()
	casesOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("testdata", "cases.json"))
		if err != nil {
			casesErr = err
			return
		}
		casesErr = json.Unmarshal(b, &cases)
	})
	if casesErr != nil {
		t.Fatalf("testdata/cases.json: %v (regenerate with testdata/make.py)", casesErr)
	}
	return &cases
}

// readPNG loads an 8-bit RGB PNG written by PIL.
func readPNG(t testing.TB, name string) *RGB {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	rgba, ok := m.(*image.RGBA)
	if !ok {
		t.Fatalf("%s: decoded as %T, want an 8-bit RGB PNG (*image.RGBA)", name, m)
	}
	b := rgba.Bounds()
	img := NewRGB(b.Dx(), b.Dy())
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			p := rgba.Pix[rgba.PixOffset(b.Min.X+x, b.Min.Y+y):]
			if p[3] != 255 {
				t.Fatalf("%s: pixel (%d,%d) has alpha %d", name, x, y, p[3])
			}
			copy(img.Pix[3*(y*img.W+x):], p[:3])
		}
	}
	return img
}

func readTensor(t testing.TB, name string) *npy.Array {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a, err := npy.Read(z)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

// diffRGB describes how got differs from want, or returns "" when they are the same bytes.
func diffRGB(got, want *RGB) string {
	if got.W != want.W || got.H != want.H {
		return fmt.Sprintf("size %d×%d, want %d×%d", got.W, got.H, want.W, want.H)
	}
	n, maxd, first := 0, 0, -1
	for i := range want.Pix {
		d := int(got.Pix[i]) - int(want.Pix[i])
		if d != 0 {
			if first < 0 {
				first = i
			}
			n++
			maxd = max(maxd, d, -d)
		}
	}
	if n == 0 {
		return ""
	}
	p := first / 3
	return fmt.Sprintf("%d of %d bytes differ (max %d); first at pixel (%d,%d) channel %d: got %d, want %d",
		n, len(want.Pix), maxd, p%want.W, p/want.W, first%3, got.Pix[first], want.Pix[first])
}

func TestVersions(t *testing.T) {
	c := loadCases(t)
	// Resample.c's arithmetic has not changed since Pillow 4; torchvision's rules were checked
	// for 0.14. Other versions would need a look before the data is regenerated with them.
	if c.Versions["pillow"] != "9.4.0" || !strings.HasPrefix(c.Versions["torchvision"], "0.14.1") {
		t.Errorf("testdata made with Pillow %s, torchvision %s; this package matches Pillow 9.4.0 and torchvision 0.14.1",
			c.Versions["pillow"], c.Versions["torchvision"])
	}
	t.Logf("testdata: %v", c.Versions)
}

// TestResizeBicubicPIL checks every resize against PIL's bytes.
func TestResizeBicubicPIL(t *testing.T) {
	c := loadCases(t)
	n := 0
	for _, tc := range c.Cases {
		src := readPNG(t, tc.Name+".png")
		if src.W != tc.W || src.H != tc.H {
			t.Fatalf("%s: input is %d×%d, cases.json says %d×%d", tc.Name, src.W, src.H, tc.W, tc.H)
		}
		for _, r := range tc.Resizes {
			want := readPNG(t, r.File)
			got := ResizeBicubic(src, r.W, r.H)
			if d := diffRGB(got, want); d != "" {
				t.Errorf("%s %d×%d -> %d×%d: %s", tc.Name, src.W, src.H, r.W, r.H, d)
			} else {
				t.Logf("%s %d×%d -> %d×%d: exact (%d bytes)", tc.Name, src.W, src.H, r.W, r.H, len(want.Pix))
			}
			n++
		}
	}
	if n < 20 {
		t.Fatalf("only %d resize cases in testdata", n)
	}
}

// hashCoeffs feeds h the non-zero weights of a, as make.py's hash_coeffs does: for each output
// pixel the count, then (input pixel, weight) pairs, all little-endian int32.
func hashCoeffs(h hash.Hash, a *axisCoeffs) {
	var buf []byte
	for o := range a.out {
		k := a.coeff[o*a.stride : o*a.stride+int(a.taps[o])]
		n := 0
		for _, w := range k {
			if w != 0 {
				n++
			}
		}
		buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(n))
		for j, w := range k {
			if w != 0 {
				buf = binary.LittleEndian.AppendUint32(buf, uint32(a.start[o])+uint32(j))
				buf = binary.LittleEndian.AppendUint32(buf, uint32(w))
			}
		}
		h.Write(buf)
	}
}

// TestCoefficientsPIL compares the fixed-point weights with Pillow's: for a spread of (in, out)
// sizes, and for every input size up to 1024 to the shorter sides Resize(n + 32) produces.
// make.py reads Pillow's weights out exactly (see coeff_matrix there). A weight one unit off
// often leaves every resized byte unchanged, so this is finer than comparing images.
func TestCoefficientsPIL(t *testing.T) {
	c := loadCases(t)
	if len(c.Coeffs) < 200 || len(c.Sweeps) < 3 {
		t.Fatalf("only %d coefficient cases and %d sweeps in testdata", len(c.Coeffs), len(c.Sweeps))
	}
	bad := 0
	for _, tc := range c.Coeffs {
		a := newAxisCoeffs(tc.In, tc.Out)
		h := sha256.New()
		hashCoeffs(h, a)
		if hex.EncodeToString(h.Sum(nil)) != tc.SHA256 {
			var sum0 int64
			for _, w := range a.coeff[:a.taps[0]] {
				sum0 += int64(w)
			}
			if bad++; bad <= 10 {
				t.Errorf("weights for %d -> %d pixels differ from Pillow's (first output's sum %d, Pillow's %d)", tc.In, tc.Out, sum0, tc.Sum0)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d coefficient sets differ", bad, len(c.Coeffs))
	}
	for _, sw := range c.Sweeps {
		h := sha256.New()
		for in := 1; in <= sw.InMax; in++ {
			hashCoeffs(h, newAxisCoeffs(in, sw.Out))
		}
		if hex.EncodeToString(h.Sum(nil)) != sw.SHA256 {
			t.Errorf("weights for some input size 1..%d -> %d pixels differ from Pillow's", sw.InMax, sw.Out)
		}
	}
	t.Logf("%d (in, out) pairs and %d sweeps of 1..1024 -> out: all weights equal Pillow's", len(c.Coeffs), len(c.Sweeps))
}

// TestEvalTorchvision checks the whole test_model.py transform against torchvision's tensors.
func TestEvalTorchvision(t *testing.T) {
	c := loadCases(t)
	total := 0
	for _, tc := range c.Cases {
		src := readPNG(t, tc.Name+".png")
		for _, e := range tc.Evals {
			want := readTensor(t, e.File)
			if len(want.Shape) != 3 || want.Shape[0] != 3 || want.Shape[1] != e.N || want.Shape[2] != e.N {
				t.Fatalf("%s: shape %v, want (3, %d, %d)", e.File, want.Shape, e.N, e.N)
			}
			got := make([]float32, 3*e.N*e.N)
			Eval(got, src, e.N)
			maxd, inexact := 0.0, 0
			for i, w := range want.Data {
				d := math.Abs(float64(got[i]) - float64(w))
				if got[i] != w {
					inexact++
				}
				maxd = max(maxd, d)
			}
			if maxd > 1e-6 || inexact > 0 {
				t.Errorf("%s Eval(%d): maxdiff = %e, %d of %d floats not bit-identical", tc.Name, e.N, maxd, inexact, len(got))
			} else {
				t.Logf("%s %d×%d Eval(%d): TENSOR OK, maxdiff = %e (bit-identical)", tc.Name, src.W, src.H, e.N, maxd)
			}
			// The fast windowed path must agree with the plain composition of the steps.
			plain := make([]float32, len(got))
			ToTensor(plain, CenterCrop(ResizeShorter(src, e.N+32), e.N))
			for i := range plain {
				if plain[i] != got[i] {
					t.Fatalf("%s Eval(%d) differs from ToTensor(CenterCrop(ResizeShorter)) at %d", tc.Name, e.N, i)
				}
			}
			total++
		}
	}
	if total < 4 {
		t.Fatalf("only %d evaluation cases in testdata", total)
	}
}

func TestShorterSize(t *testing.T) {
	c := loadCases(t)
	if len(c.Shorter) < 100 {
		t.Fatalf("only %d Resize size cases in testdata", len(c.Shorter))
	}
	for _, r := range c.Shorter {
		w, h := ShorterSize(r.W, r.H, r.Size)
		if w != r.OutW || h != r.OutH {
			t.Errorf("Resize(%d) of %d×%d: %d×%d, torchvision %d×%d", r.Size, r.W, r.H, w, h, r.OutW, r.OutH)
		}
	}
}

func TestResizeShorter(t *testing.T) {
	src := randomImage(rand.New(rand.NewPCG(1, 2)), 300, 256)
	if got := ResizeShorter(src, 256); got != src {
		t.Errorf("ResizeShorter(256) of 300×256 made a new image; torchvision returns the input")
	}
	got := ResizeShorter(src, 100)
	if got.W != 117 || got.H != 100 {
		t.Errorf("ResizeShorter(100) of 300×256: %d×%d, want 117×100", got.W, got.H)
	}
	if d := diffRGB(got, ResizeBicubic(src, 117, 100)); d != "" {
		t.Errorf("ResizeShorter(100) is not ResizeBicubic(117, 100): %s", d)
	}
}

// coordImage is make.py's coord_image: each pixel encodes its own coordinates.
func coordImage(w, h int) *RGB {
	img := NewRGB(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := img.Pix[3*(y*w+x):]
			p[0], p[1], p[2] = uint8(x), uint8(y), uint8(0x80|(x>>8)&7|((y>>8)&7)<<3)
		}
	}
	return img
}

func TestCenterCropTorchvision(t *testing.T) {
	c := loadCases(t)
	if len(c.Crops) < 20 {
		t.Fatalf("only %d CenterCrop cases in testdata", len(c.Crops))
	}
	for _, r := range c.Crops {
		got := CenterCrop(coordImage(r.W, r.H), r.Size)
		sum := sha256.Sum256(got.Pix)
		if got.W != r.Size || got.H != r.Size || hex.EncodeToString(sum[:]) != r.SHA256 {
			left, top, pl, pt := CropOffsets(r.W, r.H, r.Size)
			t.Errorf("CenterCrop(%d) of %d×%d differs from torchvision (offsets %d,%d padding %d,%d; top-left %v, torchvision %v)",
				r.Size, r.W, r.H, left, top, pl, pt, got.Pix[:3], r.TopLeft)
		}
	}
}

// TestCropOffsets pins the rounding: Python's round() sends halves to the even neighbour.
func TestCropOffsets(t *testing.T) {
	for _, c := range []struct{ w, h, size, left, top, padLeft, padTop int }{
		{224, 224, 224, 0, 0, 0, 0},
		{225, 226, 224, 0, 1, 0, 0}, // round(0.5) = 0
		{227, 228, 224, 2, 2, 0, 0}, // round(1.5) = 2
		{229, 230, 224, 2, 3, 0, 0}, // round(2.5) = 2
		{231, 232, 224, 4, 4, 0, 0}, // round(3.5) = 4
		{341, 256, 224, 58, 16, 0, 0},
		{3, 5, 8, 0, 0, 2, 1},
		{13, 5, 8, 2, 0, 0, 1},
	} {
		left, top, pl, pt := CropOffsets(c.w, c.h, c.size)
		if left != c.left || top != c.top || pl != c.padLeft || pt != c.padTop {
			t.Errorf("CropOffsets(%d, %d, %d) = %d,%d pad %d,%d; want %d,%d pad %d,%d",
				c.w, c.h, c.size, left, top, pl, pt, c.left, c.top, c.padLeft, c.padTop)
		}
	}
}

// TestNormalisationConstants: torchvision turns the Python floats (float64) into float32
// tensors; Go rounds the decimal constants to float32 directly. Both must give the same floats.
func TestNormalisationConstants(t *testing.T) {
	mean := []float64{0.485, 0.456, 0.406}
	std := []float64{0.229, 0.224, 0.225}
	for c := range 3 {
		if float32(mean[c]) != Mean[c] || float32(std[c]) != Std[c] {
			t.Errorf("channel %d: Mean/Std %v/%v, via float64 %v/%v", c, Mean[c], Std[c], float32(mean[c]), float32(std[c]))
		}
	}
}

func randomImage(r *rand.Rand, w, h int) *RGB {
	img := NewRGB(w, h)
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	return img
}

// TestWindowMatchesFull checks that any window of a resize equals that part of the full
// resize, on random images and sizes (including extreme ones where sums clip).
func TestWindowMatchesFull(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := new(scratch)
	for i := range 300 {
		sw, sh := 1+r.IntN(60), 1+r.IntN(60)
		w, h := 1+r.IntN(80), 1+r.IntN(80)
		if i%10 == 0 {
			w = sw
		} else if i%10 == 1 {
			h = sh
		}
		src := randomImage(r, sw, sh)
		full := ResizeBicubic(src, w, h)
		cw, ch := 1+r.IntN(w), 1+r.IntN(h)
		x0, y0 := r.IntN(w-cw+1), r.IntN(h-ch+1)
		win := NewRGB(cw, ch)
		resampleWindow(win, src, w, h, x0, y0, s)
		for y := 0; y < ch; y++ {
			a := full.Pix[3*((y0+y)*w+x0) : 3*((y0+y)*w+x0+cw)]
			b := win.Pix[3*y*cw : 3*(y+1)*cw]
			if !bytes.Equal(a, b) {
				t.Fatalf("%d×%d -> %d×%d, window %d×%d at (%d,%d): row %d differs", sw, sh, w, h, cw, ch, x0, y0, y)
			}
		}
	}
}

// TestConcurrent runs resizes and evaluations of the real cases from several goroutines at once
// (for -race, and for the shared coefficient cache and scratch pool) and checks each result.
func TestConcurrent(t *testing.T) {
	c := loadCases(t)
	var jobs []func() string
	for _, tc := range c.Cases[:5] {
		src := readPNG(t, tc.Name+".png")
		for _, r := range tc.Resizes {
			want := readPNG(t, r.File)
			jobs = append(jobs, func() string {
				if d := diffRGB(ResizeBicubic(src, want.W, want.H), want); d != "" {
					return r.File + ": " + d
				}
				return ""
			})
		}
		for _, e := range tc.Evals {
			want := readTensor(t, e.File).Data
			jobs = append(jobs, func() string {
				got := make([]float32, len(want))
				Eval(got, src, e.N)
				for i := range got {
					if got[i] != want[i] {
						return fmt.Sprintf("%s: element %d is %v, want %v", e.File, i, got[i], want[i])
					}
				}
				return ""
			})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(jobs))
	for g := range 4 {
		wg.Go(func() {
			for i := range jobs {
				if e := jobs[(i+g*len(jobs)/4)%len(jobs)](); e != "" {
					errs <- e
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation count: not under -short or -race")
	}
	src := randomImage(rand.New(rand.NewPCG(5, 6)), 500, 375)
	dst := make([]float32, 3*224*224)
	Eval(dst, src, 224) // warm the coefficient cache and scratch pool
	if n := testing.AllocsPerRun(20, func() { Eval(dst, src, 224) }); n > 1 {
		t.Errorf("Eval allocates %v times a call in steady state, want at most 1", n)
	}
}

// BenchmarkResizeBicubic: the ImageNet case, a 500×375 photo to 256 on the shorter side.
func BenchmarkResizeBicubic(b *testing.B) {
	src := readPNG(b, "china_500x375.png")
	for _, sz := range []struct{ w, h int }{{341, 256}, {603, 452}} {
		b.Run(fmt.Sprintf("500x375_to_%dx%d", sz.w, sz.h), func(b *testing.B) {
			ResizeBicubic(src, sz.w, sz.h)
			b.ReportAllocs()
			for b.Loop() {
				ResizeBicubic(src, sz.w, sz.h)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkEval: the whole transform for the models' input sizes, from the 500×375 photo.
func BenchmarkEval(b *testing.B) {
	src := readPNG(b, "china_500x375.png")
	for _, n := range []int{224, 448, 476} {
		b.Run(fmt.Sprintf("500x375_n=%d", n), func(b *testing.B) {
			dst := make([]float32, 3*n*n)
			Eval(dst, src, n)
			b.ReportAllocs()
			for b.Loop() {
				Eval(dst, src, n)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
