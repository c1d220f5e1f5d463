package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vitc-dev/vitc/runtime/engine"
	"github.com/vitc-dev/vitc/runtime/vit"
)

// quality is what one precision costs against float32 on a set of images.
type quality struct {
	DType     string  `json:"dtype"`
	Images    int     `json:"images"`
	Top1      float64 `json:"top1_agreement,omitempty"` // share of images whose top class is float32's
	Top5      float64 `json:"top5_agreement,omitempty"` // share whose five top classes are float32's (as a set)
	MaxError  float64 `json:"max_error"`                // largest |Δ| of a logit (or embedding element)
	MeanError float64 `json:"mean_error"`               // mean |Δ|
	MaxRange  float64 `json:"max_error_of_range"`       // largest |Δ| of an image over the range (max − min) of its float32 outputs
	MinCosine float64 `json:"min_cosine"`               // smallest cosine similarity of an image's outputs with float32's
	ImagesPS  float64 `json:"images_per_second"`        // forward passes alone, decoding excluded
	FileBytes int64   `json:"file_bytes"`               // the weights file
	Path      string  `json:"path"`
}

func cmdQuality(e *env, args []string) error {
	fs := e.flags("quality", "--model MODEL [--dtype bf16,int8] [--json] IMG|DIR...")
	var mf modelFlags
	mf.registerDefault(e, fs, true)
	fs.Lookup("dtype").Usage = "the precisions to measure against float32, comma-separated (default bf16,int8)"
	batch := fs.Int("batch", 8, "images per forward pass")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("give at least one image or directory: the comparison is on your images")
	}
	if *batch <= 0 {
		return usagef("--batch must be positive")
	}
	var list []string
	for _, d := range strings.Split(cmp.Or(mf.opt.DType, engine.BF16+","+engine.Int8), ",") {
		if d = strings.TrimSpace(d); d == "" || d == engine.F32 {
			continue
		}
		if err := engine.CheckDType(d); err != nil {
			return usageError{"--dtype: " + err.Error()}
		}
		list = append(list, d)
	}
	if len(list) == 0 {
		return usagef("--dtype: name bf16 and/or int8 (float32 is the reference)")
	}
	mf.opt.DType = ""
	paths, err := listImages(fs.Args())
	if err != nil {
		return err
	}
	rows, err := measureQuality(e, mf, list, paths, *batch)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	printQuality(e, rows)
	return nil
}

// measureQuality runs the float32 model and the model in each of dtypes (compiled from the
// same checkpoint) on the images, and compares their outputs: logits for a finetuned model,
// embeddings for a pretrained one. The first row is float32 itself.
func measureQuality(e *env, mf modelFlags, dtypes []string, paths []string, batch int) ([]quality, error) {
	ref := mf
	ref.opt.DType = engine.F32
	m32, err := ref.load(e, len(paths))
	if err != nil {
		return nil, err
	}
	defer m32.Close()
	models := []*vit.Model{m32}
	for _, d := range dtypes {
		lm := mf
		lm.opt.DType = d
		m, err := lm.load(e, len(paths))
		if err != nil {
			return nil, err
		}
		defer m.Close()
		models = append(models, m)
	}
	rows := make([]quality, len(models))
	elapsed := make([]time.Duration, len(models))
	sums := make([]float64, len(models))
	counts := make([]int, len(models))
	for i, m := range models {
		rows[i] = quality{DType: m.DType(), MinCosine: 1, Path: m.Path()}
		if st, err := os.Stat(m.Path()); err == nil {
			rows[i].FileBytes = st.Size()
		}
	}
	width := m32.OutputDim()
	bs, errc := batches(paths, m32.ImageSize(), batch, false)
	for b := range bs {
		n := len(b.paths)
		outs := make([][]float32, len(models))
		for i, m := range models {
			start := time.Now()
			if outs[i], err = m.Forward(b.x, n); err != nil {
				for range bs {
				}
				return nil, err
			}
			elapsed[i] += time.Since(start)
		}
		for i := range models {
			r := &rows[i]
			r.Images += n
			for img := 0; img < n; img++ {
				want, got := outs[0][img*width:(img+1)*width], outs[i][img*width:(img+1)*width]
				lo, hi := math.Inf(1), math.Inf(-1)
				var maxd, dot, nw, ng float64
				for k := range want {
					w, g := float64(want[k]), float64(got[k])
					d := math.Abs(w - g)
					maxd = max(maxd, d)
					sums[i] += d
					lo, hi = min(lo, w), max(hi, w)
					dot, nw, ng = dot+w*g, nw+w*w, ng+g*g
				}
				counts[i] += width
				r.MaxError = max(r.MaxError, maxd)
				if hi > lo {
					r.MaxRange = max(r.MaxRange, maxd/(hi-lo))
				}
				if nw > 0 && ng > 0 {
					r.MinCosine = min(r.MinCosine, dot/math.Sqrt(nw*ng))
				}
				if m32.Finetuned() {
					t1, t5 := topIndices(want, 5), topIndices(got, 5)
					if t1[0] == t5[0] {
						r.Top1++
					}
					if sameSet(t1, t5) {
						r.Top5++
					}
				}
			}
		}
	}
	if err := <-errc; err != nil {
		return nil, err
	}
	if rows[0].Images == 0 {
		return nil, fmt.Errorf("no images to compare on")
	}
	for i := range rows {
		r := &rows[i]
		r.MeanError = sums[i] / float64(counts[i])
		r.ImagesPS = float64(r.Images) / elapsed[i].Seconds()
		if m32.Finetuned() {
			r.Top1 /= float64(r.Images)
			r.Top5 /= float64(r.Images)
		}
	}
	return rows, nil
}

// topIndices returns the indices of the k largest values, largest first.
func topIndices(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
	return idx[:min(k, len(v))]
}

func sameSet(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[int]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

func printQuality(e *env, rows []quality) {
	w := e.stdout
	fmt.Fprintf(w, "%d images, compared with float32 (%s)\n", rows[0].Images, rows[0].Path)
	fmt.Fprintf(w, "%-6s %9s %9s %11s %11s %10s %10s %10s %12s\n", "dtype", "top-1", "top-5", "max |Δ|", "mean |Δ|", "of range", "min cos", "images/s", "file")
	for _, r := range rows {
		top1, top5 := "-", "-"
		if rows[0].Top1 > 0 { // a classifier: float32 agrees with itself
			top1, top5 = fmt.Sprintf("%.2f%%", 100*r.Top1), fmt.Sprintf("%.2f%%", 100*r.Top5)
		}
		fmt.Fprintf(w, "%-6s %9s %9s %11.3g %11.3g %9.3f%% %10.6f %10.2f %9.1f MB (%.2fx speed, %.2fx size)\n",
			r.DType, top1, top5, r.MaxError, r.MeanError, 100*r.MaxRange, r.MinCosine, r.ImagesPS, float64(r.FileBytes)/1e6,
			r.ImagesPS/rows[0].ImagesPS, float64(r.FileBytes)/float64(rows[0].FileBytes))
	}
}
