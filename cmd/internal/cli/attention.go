package cli

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/vitc-dev/vitc/runtime/atomicfile"
	"github.com/vitc-dev/vitc/runtime/imageio"
	"github.com/vitc-dev/vitc/runtime/preprocess"
)

const attentionUsage = `[flags] IMG --output MAP.png

Draws where the class token looks in the last block: the model's input view (the centre crop
of IMG after resizing its shorter side to size+32, exactly the pixels the model sees) with
the class token's attention over the patches as a heat map (the inferno colour map, blended
at 50%, bilinearly upsampled from the patch grid), and below it a row of small maps, one per
head, numbered 0.. from the left (rows of at most 8). The main map is the mean over heads,
or one head with --head. Every map is normalised to its own minimum (black) and maximum
(pale yellow). Flags may come before or after IMG.`

func cmdAttention(e *env, args []string) error {
	fs := e.flags("attention", attentionUsage)
	var mf modelFlags
	mf.registerDefault(e, fs, true)
	var out string
	fs.StringVar(&out, "output", "", "where to write the picture (.png)")
	fs.StringVar(&out, "o", "", "short for --output")
	head := fs.Int("head", -1, "show this head (0-based) in the main map instead of the mean over heads")
	fs.Lookup("head").DefValue = "none: the mean"
	mean := fs.Bool("mean", false, "show the mean over heads in the main map (the default)")
	noHeads := fs.Bool("no-heads", false, "leave out the row of per-head maps")
	scale := fs.Int("scale", 0, "output pixels per input pixel (default: enough for a main map of at least 448 pixels)")
	pos, err := parseInterspersed(e, fs, args)
	if err != nil {
		return err
	}
	headSet := false
	fs.Visit(func(f *flag.Flag) { headSet = headSet || f.Name == "head" })
	switch {
	case out == "" || len(pos) == 0:
		return usagef("--output and an image are required")
	case len(pos) > 1:
		return usagef("one image at a time (got %d: %v)", len(pos), pos)
	case headSet && *mean:
		return usagef("--head and --mean exclude each other")
	case headSet && *head < 0:
		return usagef("--head %d: heads are numbered from 0", *head)
	case *scale < 0:
		return usagef("--scale must be positive")
	}
	img, err := imageio.DecodeFile(pos[0])
	if err != nil {
		return err
	}
	m, err := mf.load(e, 1)
	if err != nil {
		return err
	}
	defer m.Close()
	a := m.Arch()
	if headSet && *head >= a.Heads {
		return usagef("--head %d: %s has %d heads (0 to %d)", *head, a.Name, a.Heads, a.Heads-1)
	}
	size := m.ImageSize()
	x := make([]float32, 3*size*size)
	preprocess.Eval(x, (*preprocess.RGB)(img), size)
	att, err := m.LastAttention(x, 1)
	if err != nil {
		return err
	}
	// The same pixels as Eval's: Resize(size+32) then CenterCrop(size).
	crop := preprocess.CenterCrop(preprocess.ResizeShorter((*preprocess.RGB)(img), size+32), size)
	maps := attentionMaps(att, a.Heads, a.Grid())
	shown := maps.mean
	what := fmt.Sprintf("mean of %d heads", a.Heads)
	if headSet {
		shown = maps.heads[*head]
		what = fmt.Sprintf("head %d of %d", *head, a.Heads)
	}
	var thumbs [][]float64
	if !*noHeads {
		thumbs = maps.heads
	}
	s := *scale
	if s == 0 {
		s = max(1, (448+size-1)/size)
	}
	pic := drawAttention(crop, a.Patch, a.Grid(), normalise(shown), normalised(thumbs), s, *head)
	var buf bytes.Buffer
	if err := png.Encode(&buf, pic); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(out, buf.Bytes()); err != nil {
		return err
	}
	best := argmax(shown)
	r, c := best/a.Grid(), best%a.Grid()
	fmt.Fprintf(e.stdout, "%s: %d×%d, last-block class-token attention of %s (%s) on %s; strongest patch: row %d, column %d of %d×%d (%.4f)\n",
		out, pic.Bounds().Dx(), pic.Bounds().Dy(), a.Name, what, pos[0], r, c, a.Grid(), a.Grid(), shown[best])
	return nil
}

// parseInterspersed parses flags that may come before, between or after the positional
// arguments (vitc attention IMG --output MAP.png), as far as a "--".
func parseInterspersed(e *env, fs *flag.FlagSet, args []string) ([]string, error) {
	if err := e.parse(fs, args); err != nil {
		return nil, err
	}
	var pos []string
	for {
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err.Error()}
		}
	}
}

// attention are the class token's attention maps over the patch grid (row-major), the
// class token's attention to itself left out.
type attention struct {
	heads [][]float64 // per head, grid×grid
	mean  []float64   // the mean over heads
}

func attentionMaps(att []float32, heads, grid int) attention {
	t := 1 + grid*grid
	var a attention
	a.mean = make([]float64, grid*grid)
	for h := 0; h < heads; h++ {
		row := make([]float64, grid*grid)
		for i := range row {
			row[i] = float64(att[h*t+1+i])
			a.mean[i] += row[i] / float64(heads)
		}
		a.heads = append(a.heads, row)
	}
	return a
}

// normalise maps v linearly onto [0, 1], its minimum to 0 and maximum to 1 (a constant map to 0).
func normalise(v []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	out := make([]float64, len(v))
	if hi > lo {
		for i, x := range v {
			out[i] = (x - lo) / (hi - lo)
		}
	}
	return out
}

func normalised(maps [][]float64) [][]float64 {
	out := make([][]float64, len(maps))
	for i, m := range maps {
		out[i] = normalise(m)
	}
	return out
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// heatAt is the map bilinearly interpolated between patch centres at (u, v) in input
// pixels (clamped to the outer patch centres at the edges).
func heatAt(m []float64, grid, patch int, u, v float64) float64 {
	coord := func(p float64) (int, int, float64) {
		g := math.Max(0, math.Min(float64(grid-1), p/float64(patch)-0.5))
		i := int(g)
		return i, min(i+1, grid-1), g - float64(i)
	}
	x0, x1, fx := coord(u)
	y0, y1, fy := coord(v)
	top := m[y0*grid+x0]*(1-fx) + m[y0*grid+x1]*fx
	bottom := m[y1*grid+x0]*(1-fx) + m[y1*grid+x1]*fx
	return top*(1-fy) + bottom*fy
}

// inferno is matplotlib's inferno colour map at 17 evenly spaced points.
var inferno = [17][3]float64{
	{0, 0, 4}, {11, 7, 36}, {33, 12, 74}, {61, 9, 101}, {87, 16, 110}, {113, 25, 110},
	{138, 34, 106}, {163, 44, 97}, {188, 55, 84}, {210, 70, 68}, {228, 90, 49}, {241, 115, 29},
	{249, 142, 9}, {252, 172, 17}, {249, 203, 53}, {242, 234, 105}, {252, 255, 164},
}

// colourOf is the inferno colour of h in [0, 1], linearly interpolated.
func colourOf(h float64) [3]float64 {
	p := math.Max(0, math.Min(1, h)) * float64(len(inferno)-1)
	i := min(int(p), len(inferno)-2)
	f := p - float64(i)
	var c [3]float64
	for k := range c {
		c[k] = inferno[i][k]*(1-f) + inferno[i+1][k]*f
	}
	return c
}

// blend is half the photo's pixel and half the heat map's colour.
func blend(px []uint8, h float64) color.RGBA {
	c := colourOf(h)
	at := func(k int) uint8 { return uint8(math.Round(0.5*float64(px[k]) + 0.5*c[k])) }
	return color.RGBA{at(0), at(1), at(2), 255}
}

const attentionGap = 4

// attentionLayout is where drawAttention puts things: the main map at the top left, side
// main pixels, then the per-head maps in rows of cols, each thumb pixels square.
type attentionLayout struct {
	main, cols, thumb, w, h int
}

func layoutFor(size, scale, heads int) attentionLayout {
	l := attentionLayout{main: size * scale}
	l.w, l.h = l.main, l.main
	if heads == 0 {
		return l
	}
	l.cols = heads
	if heads > 8 {
		l.cols = (heads + 1) / 2
		for l.cols > 8 {
			l.cols = (l.cols + 1) / 2
		}
	}
	rows := (heads + l.cols - 1) / l.cols
	l.thumb = max(8, (l.main-(l.cols-1)*attentionGap)/l.cols)
	l.w = max(l.w, l.cols*l.thumb+(l.cols-1)*attentionGap)
	l.h += rows * (attentionGap + l.thumb)
	return l
}

// thumbAt is the top-left corner of head h's map.
func (l attentionLayout) thumbAt(h int) (int, int) {
	return (h % l.cols) * (l.thumb + attentionGap), l.main + attentionGap + (h/l.cols)*(l.thumb+attentionGap)
}

// drawAttention draws the crop scaled up scale times (nearest neighbour, so every input
// pixel stays a sharp square) under the main map, and below it each head's map over the crop
// shrunk to a thumbnail (box filter). The selected head's map, if any, is framed.
func drawAttention(crop *preprocess.RGB, patch, grid int, main []float64, heads [][]float64, scale, selected int) *image.RGBA {
	size := crop.W
	l := layoutFor(size, scale, len(heads))
	pic := image.NewRGBA(image.Rect(0, 0, l.w, l.h))
	bg := color.RGBA{24, 24, 24, 255}
	for i := 0; i < len(pic.Pix); i += 4 {
		copy(pic.Pix[i:i+4], []uint8{bg.R, bg.G, bg.B, bg.A})
	}
	for y := 0; y < l.main; y++ {
		for x := 0; x < l.main; x++ {
			u, v := (float64(x)+0.5)/float64(scale), (float64(y)+0.5)/float64(scale)
			px := crop.Pix[3*((y/scale)*size+x/scale):]
			pic.SetRGBA(x, y, blend(px, heatAt(main, grid, patch, u, v)))
		}
	}
	for h, m := range heads {
		x0, y0 := l.thumbAt(h)
		for y := 0; y < l.thumb; y++ {
			for x := 0; x < l.thumb; x++ {
				px := boxAverage(crop, x, y, l.thumb)
				u, v := (float64(x)+0.5)*float64(size)/float64(l.thumb), (float64(y)+0.5)*float64(size)/float64(l.thumb)
				pic.SetRGBA(x0+x, y0+y, blend(px[:], heatAt(m, grid, patch, u, v)))
			}
		}
		if h == selected {
			frame(pic, x0, y0, l.thumb, color.RGBA{252, 255, 164, 255})
		}
	}
	return pic
}

// boxAverage is the mean colour of the crop's pixels under thumbnail pixel (x, y) of a
// thumb×thumb thumbnail.
func boxAverage(crop *preprocess.RGB, x, y, thumb int) [3]uint8 {
	size := crop.W
	span := func(i int) (int, int) {
		a := i * size / thumb
		b := max(a+1, ((i+1)*size+thumb-1)/thumb)
		return a, min(b, size)
	}
	xa, xb := span(x)
	ya, yb := span(y)
	var sum [3]int
	for sy := ya; sy < yb; sy++ {
		for sx := xa; sx < xb; sx++ {
			p := crop.Pix[3*(sy*size+sx):]
			sum[0] += int(p[0])
			sum[1] += int(p[1])
			sum[2] += int(p[2])
		}
	}
	n := (xb - xa) * (yb - ya)
	return [3]uint8{uint8((sum[0] + n/2) / n), uint8((sum[1] + n/2) / n), uint8((sum[2] + n/2) / n)}
}

// frame draws a 2-pixel border just inside the side×side square at (x0, y0).
func frame(pic *image.RGBA, x0, y0, side int, c color.RGBA) {
	for i := 0; i < side; i++ {
		for d := 0; d < 2; d++ {
			pic.SetRGBA(x0+i, y0+d, c)
			pic.SetRGBA(x0+i, y0+side-1-d, c)
			pic.SetRGBA(x0+d, y0+i, c)
			pic.SetRGBA(x0+side-1-d, y0+i, c)
		}
	}
}
