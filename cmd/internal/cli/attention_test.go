package cli

import (
	"context"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/runtime/imageio"
	"github.com/vitc-dev/vitc/runtime/preprocess"
)

const photo = "../../../runtime/imageio/testdata/chelsea_rgb.jpg"

var tinyArgs = []string{"--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny"}

func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := m.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x, y, m.At(x, y))
		}
	}
	return out
}

// recoveredHeat undoes the 50% blend at output pixel (x, y) of the main map, whose photo
// pixel is px, and returns the colour-map position of the heat colour found there.
func recoveredHeat(pic *image.RGBA, x, y int, px []uint8) float64 {
	o := pic.RGBAAt(x, y)
	c := [3]float64{2*float64(o.R) - float64(px[0]), 2*float64(o.G) - float64(px[1]), 2*float64(o.B) - float64(px[2])}
	best, bestD := 0.0, math.Inf(1)
	for i := 0; i <= 1000; i++ {
		h := float64(i) / 1000
		m := colourOf(h)
		d := (m[0]-c[0])*(m[0]-c[0]) + (m[1]-c[1])*(m[1]-c[1]) + (m[2]-c[2])*(m[2]-c[2])
		if d < bestD {
			best, bestD = h, d
		}
	}
	return best
}

// TestAttentionMap: vitc attention on a real photograph with the tiny finetuned fixture draws
// the input view with the mean attention over it, whose strongest patch is the Go API's.
func TestAttentionMap(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	dir := t.TempDir()
	out := filepath.Join(dir, "map.png")
	// The image first, flags after it, as the usage line shows.
	stdout := mustRun(t, append([]string{"attention", photo, "--output", out}, tinyArgs...)...)
	if !strings.Contains(stdout, "mean of 2 heads") || !strings.Contains(stdout, "strongest patch") {
		t.Errorf("stdout: %s", stdout)
	}

	// What the model sees and its attention, through the Go API.
	m, err := compile.Load(context.Background(), fx("tiny_finetuned_zip_f32.pth"), compile.Options{Finetuned: true, Heads: 2, Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a := m.Arch()
	size, grid, patch := m.ImageSize(), a.Grid(), a.Patch
	x := make([]float32, 3*size*size)
	if err := loadImage(photo, size, x); err != nil {
		t.Fatal(err)
	}
	att, err := m.LastAttention(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	maps := attentionMaps(att, a.Heads, grid)
	img, err := imageio.DecodeFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	crop := preprocess.CenterCrop(preprocess.ResizeShorter((*preprocess.RGB)(img), size+32), size)
	// The picture's photo is exactly the model's input.
	y := make([]float32, 3*size*size)
	preprocess.ToTensor(y, crop)
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("the crop drawn is not the model's input (value %d: %g vs %g)", i, y[i], x[i])
		}
	}

	pic := readPNG(t, out)
	scale := (448 + size - 1) / size // 11 for 42 pixels
	side := size * scale
	thumb := (side - attentionGap) / 2
	if w, h := pic.Bounds().Dx(), pic.Bounds().Dy(); w != side || h != side+attentionGap+thumb {
		t.Fatalf("picture %d×%d, want %d×%d", w, h, side, side+attentionGap+thumb)
	}

	// Undo the blend at each patch's centre: the colour there is the normalised mean
	// attention of that patch, and the hottest is the API's argmax.
	check := func(pic *image.RGBA, want []float64, what string) {
		t.Helper()
		norm := normalise(want)
		got := make([]float64, grid*grid)
		var worst float64
		for p := range got {
			cx, cy := scale*(patch*(p%grid)+patch/2), scale*(patch*(p/grid)+patch/2)
			got[p] = recoveredHeat(pic, cx, cy, crop.Pix[3*((cy/scale)*size+cx/scale):])
			worst = math.Max(worst, math.Abs(got[p]-norm[p]))
		}
		if worst > 0.03 {
			t.Errorf("%s: heat at the patch centres %.3f, want %.3f", what, got, norm)
		}
		if argmax(got) != argmax(want) {
			t.Errorf("%s: hottest patch %d in the picture, the attention's strongest is %d (%v)", what, argmax(got), argmax(want), want)
		}
		lo, hi := got[0], got[0]
		for _, v := range got {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if hi-lo < 0.9 {
			t.Errorf("%s: heat spans %.3f to %.3f: not normalised to min/max", what, lo, hi)
		}
		t.Logf("%s: strongest patch %d, heat recovered within %.3f", what, argmax(want), worst)
	}
	check(pic, maps.mean, "mean")
	// The per-head maps: the same colours at their thumbnails' patch centres, roughly.
	for h, hm := range maps.heads {
		x0, y0 := layoutFor(size, scale, a.Heads).thumbAt(h)
		best := argmax(hm)
		cx, cy := (patch*(best%grid)+patch/2)*thumb/size, (patch*(best/grid)+patch/2)*thumb/size
		px := boxAverage(crop, cx, cy, thumb)
		if got := recoveredHeat(pic, x0+cx, y0+cy, px[:]); got < 0.8 {
			t.Errorf("head %d: heat %.3f at its strongest patch's thumbnail centre", h, got)
		}
	}

	// One head in the main map, no per-head row; a pretrained model works too.
	mustRun(t, append([]string{"attention", "--head", "1", "--no-heads", "--output", out, photo}, tinyArgs...)...)
	pic = readPNG(t, out)
	if pic.Bounds().Dx() != side || pic.Bounds().Dy() != side {
		t.Fatalf("--no-heads: %v", pic.Bounds())
	}
	check(pic, maps.heads[1], "head 1")
	mustRun(t, "attention", "--model", fx("tiny_pretrained_zip_f32.pth"), "--heads", "2", "--name", "tiny", "--scale", "1", "-o", out, photo)
	if pic = readPNG(t, out); pic.Bounds().Dx() != 42 || pic.Bounds().Dy() != 42+attentionGap+(42-attentionGap)/2 {
		t.Errorf("--scale 1: %v", pic.Bounds())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left in the output directory: %v", entries)
	}
}

func TestAttentionErrors(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	dir := t.TempDir()
	out := filepath.Join(dir, "map.png")
	bad := filepath.Join(dir, "bad.jpg")
	os.WriteFile(bad, []byte("not a jpeg"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no output", []string{photo}, 2, "--output"},
		{"no image", []string{"--output", out}, 2, "an image"},
		{"two images", []string{photo, photo, "--output", out}, 2, "one image at a time"},
		{"head out of range", []string{photo, "--output", out, "--head", "2"}, 2, "tiny has 2 heads (0 to 1)"},
		{"negative head", []string{photo, "--output", out, "--head", "-1"}, 2, "numbered from 0"},
		{"head and mean", []string{photo, "--output", out, "--head", "0", "--mean"}, 2, "exclude each other"},
		{"unknown flag", []string{photo, "--output", out, "--colour", "red"}, 2, "colour"},
		{"unreadable image", []string{bad, "--output", out}, 1, "bad.jpg"},
		{"missing image", []string{filepath.Join(dir, "nope.png"), "--output", out}, 1, "nope.png"},
		{"output directory missing", []string{photo, "--output", filepath.Join(dir, "no", "map.png")}, 1, "map.png"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errs := vitc(t, append(append([]string{"attention"}, c.args...), tinyArgs...)...)
			if code != c.code || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q?\nstdout: %s\nstderr: %s", code, c.code, c.want, stdout, errs)
			}
			if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") {
				t.Errorf("stack trace on stderr:\n%s", errs)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	code, stdout, _ := vitc(t, "attention", "--help")
	if code != 0 || !strings.Contains(stdout, "Usage: vitc attention") || !strings.Contains(stdout, "--head") || !strings.Contains(stdout, "inferno") {
		t.Errorf("--help: exit %d\n%s", code, stdout)
	}
	if _, stdout, _ = vitc(t, "help"); !strings.Contains(stdout, "attention") {
		t.Errorf("vitc help does not list attention:\n%s", stdout)
	}
}
