package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/vitc-dev/vitc/runtime/atomicfile"
	"github.com/vitc-dev/vitc/runtime/labels"
	"github.com/vitc-dev/vitc/runtime/npy"
)

// DefaultModel is the model classify and embed use without --model.
const DefaultModel = "vits14_1.0_1"

func cmdPreprocess(e *env, args []string) error {
	fs := e.flags("preprocess", "--size N --output x.npy IMG...")
	size := fs.Int("size", 224, "the model's input size: Resize(size+32), CenterCrop(size), ToTensor, Normalize, as test_model.py")
	out := fs.String("output", "", "where to write the N×3×size×size float32 tensors (.npy)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return usagef("--output and at least one image are required")
	}
	if *size <= 0 {
		return usagef("--size must be positive")
	}
	paths, err := listImages(fs.Args())
	if err != nil {
		return err
	}
	x := make([]float32, 0, len(paths)*3**size**size)
	bs, errc := batches(paths, *size, 16, false)
	for b := range bs {
		x = append(x, b.x...)
	}
	if err := <-errc; err != nil {
		return err
	}
	return npy.WriteFile(*out, &npy.Array{Shape: []int{len(paths), 3, *size, *size}, Data: x})
}

type prediction struct {
	Index       int     `json:"index"`
	WNID        string  `json:"wnid"`
	Label       string  `json:"label"`
	Probability float64 `json:"probability"`
}

type classified struct {
	Path  string       `json:"path"`
	Top   []prediction `json:"top,omitempty"`
	Error string       `json:"error,omitempty"`
}

func cmdClassify(e *env, args []string) error {
	fs := e.flags("classify", "[--model MODEL] [--top K] [--json] IMG|DIR...")
	var mf modelFlags
	mf.registerDefault(e, fs, true)
	top := fs.Int("top", 5, "how many classes to show per image")
	asJSON := fs.Bool("json", false, "print JSON: [{path, top: [{index, wnid, label, probability}]}]")
	batch := fs.Int("batch", 8, "images per forward pass")
	skipBad := fs.Bool("skip-bad", false, "report unreadable images and go on (default: stop at the first)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("give at least one image or directory")
	}
	if *top <= 0 || *batch <= 0 {
		return usagef("--top and --batch must be positive")
	}
	paths, err := listImages(fs.Args())
	if err != nil {
		return err
	}
	m, err := mf.loadClassifier(e, "classify", true, len(paths))
	if err != nil {
		return err
	}
	defer m.Close()
	var results []classified
	bs, errc := batches(paths, m.ImageSize(), *batch, *skipBad)
	k := min(*top, m.Classes())
	for b := range bs {
		for _, s := range b.skipped {
			fmt.Fprintf(e.stderr, "skipping: %v\n", s.err)
			results = append(results, classified{Path: s.path, Error: s.err.Error()})
		}
		if len(b.paths) == 0 {
			continue
		}
		logits, err := m.Logits(b.x, len(b.paths))
		if err != nil {
			return err
		}
		for i, p := range b.paths {
			results = append(results, classified{Path: p, Top: topK(logits[i*m.Classes():(i+1)*m.Classes()], k)})
		}
	}
	if err := <-errc; err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		if r.Error != "" {
			continue
		}
		fmt.Fprintln(e.stdout, r.Path)
		for _, p := range r.Top {
			fmt.Fprintf(e.stdout, "  %6.2f%%  %s  %s\n", 100*p.Probability, p.WNID, p.Label)
		}
	}
	return nil
}

// topK returns the k most probable classes of one image's logits (softmax in float64).
func topK(logits []float32, k int) []prediction {
	maxv := math.Inf(-1)
	for _, v := range logits {
		maxv = math.Max(maxv, float64(v))
	}
	probs := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp(float64(v) - maxv)
		sum += probs[i]
	}
	idx := topIndices(logits, k)
	out := make([]prediction, len(idx))
	for i := range out {
		c := labels.ImageNet[idx[i]]
		out[i] = prediction{Index: c.Index, WNID: c.WNID, Label: c.Name, Probability: probs[idx[i]] / sum}
	}
	return out
}

func cmdEmbed(e *env, args []string) error {
	fs := e.flags("embed", "[--model MODEL] --output F.npy IMG|DIR...")
	var mf modelFlags
	mf.registerDefault(e, fs, false)
	out := fs.String("output", "", "where to write the N×D class-token embeddings (.npy); the image paths go to F.npy.paths.txt, one per row")
	batch := fs.Int("batch", 8, "images per forward pass")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return usagef("--output and at least one image or directory are required")
	}
	if *batch <= 0 {
		return usagef("--batch must be positive")
	}
	paths, err := listImages(fs.Args())
	if err != nil {
		return err
	}
	m, err := mf.load(e, len(paths))
	if err != nil {
		return err
	}
	defer m.Close()
	emb := make([]float32, 0, len(paths)*m.EmbedDim())
	bs, errc := batches(paths, m.ImageSize(), *batch, false)
	for b := range bs {
		y, err := m.Embeddings(b.x, len(b.paths))
		if err != nil {
			return err
		}
		emb = append(emb, y...)
	}
	if err := <-errc; err != nil {
		return err
	}
	if err := npy.WriteFile(*out, &npy.Array{Shape: []int{len(paths), m.EmbedDim()}, Data: emb}); err != nil {
		return err
	}
	return atomicfile.WriteFile(*out+".paths.txt", []byte(strings.Join(paths, "\n")+"\n"))
}
