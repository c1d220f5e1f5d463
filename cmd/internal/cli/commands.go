package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vitc-dev/vitc/gen/checkpoint"
	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/gen/pack"
	"github.com/vitc-dev/vitc/runtime/npy"
	"github.com/vitc-dev/vitc/runtime/vit"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

func cmdCompile(e *env, args []string) error {
	fs := e.flags("compile", "--model CHECKPOINT -o FILE [--image N] [--heads N] [--name NAME]")
	var mf modelFlags
	mf.register(e, fs)
	out := fs.String("o", "", "weights file to write (safetensors)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if mf.model == "" || *out == "" {
		return usagef("--model and -o are required")
	}
	path, err := mf.resolve(e)
	if err != nil {
		return err
	}
	if kind, err := compile.Sniff(path); err != nil {
		return err
	} else if kind == compile.Weights {
		return fmt.Errorf("%s is already a compiled weights file", path)
	}
	res, err := compile.File(path, *out, mf.opt)
	if err != nil {
		return err
	}
	m := res.Model
	fmt.Fprintf(e.stdout, "%s: %s, %s\n", path, m.Config, kindOf(m))
	fmt.Fprintf(e.stdout, "%s\n", m.IgnoredSummary())
	if m.SourceImage != m.Config.Image {
		fmt.Fprintf(e.stdout, "position embeddings interpolated from %d to %d px\n", m.SourceImage, m.Config.Image)
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *out)
	return nil
}

func kindOf(m *pack.Model) string {
	switch m.Head {
	case pack.BatchNormHead:
		return fmt.Sprintf("finetuned, %d classes (BatchNorm folded into the classifier)", m.Classes)
	case pack.LinearHead:
		return fmt.Sprintf("finetuned, %d classes", m.Classes)
	}
	return "pretrained encoder"
}

func cmdRun(e *env, args []string) error {
	fs := e.flags("run", "--model MODEL --input x.npy --output y.npy [--embeddings] [--batch N]")
	var mf modelFlags
	mf.register(e, fs)
	in := fs.String("input", "", "float32 images, N×3×S×S, normalised (.npy)")
	outPath := fs.String("output", "", "where to write N×classes logits, or N×D embeddings (.npy)")
	embeddings := fs.Bool("embeddings", false, "write class-token embeddings even for a finetuned model")
	batch := fs.Int("batch", 8, "images per forward pass")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *in == "" || *outPath == "" {
		return usagef("--input and --output are required")
	}
	if *batch <= 0 {
		return usagef("--batch must be positive")
	}
	x, err := npy.ReadFile(*in)
	if err != nil {
		return err
	}
	images := 0
	if len(x.Shape) > 0 {
		images = x.Shape[0]
	}
	m, err := mf.load(e, images)
	if err != nil {
		return err
	}
	defer m.Close()
	s := m.ImageSize()
	if len(x.Shape) != 4 || x.Shape[1] != 3 || x.Shape[2] != s || x.Shape[3] != s {
		return fmt.Errorf("%s: shape %v, model %s wants N×3×%d×%d float32 images", *in, x.Shape, m.Arch().Name, s, s)
	}
	n := x.Shape[0]
	forward := m.Forward
	width := m.OutputDim()
	if *embeddings {
		forward, width = m.Embeddings, m.EmbedDim()
	}
	out := make([]float32, 0, n*width)
	per := 3 * s * s
	for i := 0; i < n; i += *batch {
		b := min(*batch, n-i)
		y, err := forward(x.Data[i*per:(i+b)*per], b)
		if err != nil {
			return err
		}
		out = append(out, y...)
	}
	return npy.WriteFile(*outPath, &npy.Array{Shape: []int{n, width}, Data: out})
}

func cmdInspect(e *env, args []string) error {
	fs := e.flags("inspect", "[--tensors] FILE | --model MODEL")
	var mf modelFlags
	mf.register(e, fs)
	tensors := fs.Bool("tensors", false, "list every tensor")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if mf.model == "" && fs.NArg() == 1 {
		mf.model = fs.Arg(0)
	}
	if mf.model == "" || fs.NArg() > 1 {
		return usagef("give one model")
	}
	path, err := mf.resolve(e)
	if err != nil {
		return err
	}
	kind, err := compile.Sniff(path)
	if err != nil {
		return err
	}
	if kind == compile.Weights {
		return inspectWeights(e, path, *tensors)
	}
	return inspectCheckpoint(e, path, mf.opt, *tensors)
}

func inspectWeights(e *env, path string, list bool) error {
	f, err := wfile.OpenSectionLoad(path, 0, -1, wfile.Map) // the header alone
	if err != nil {
		return err
	}
	defer f.Close()
	w := e.stdout
	fmt.Fprintf(w, "%s: vitc weights file, format version %s, %d tensors, %.1f MB of data\n", path, f.Header.Meta[wfile.KeyVersion], len(f.Header.Tensors), float64(f.Header.DataSize())/1e6)
	keys := make([]string, 0, len(f.Header.Meta))
	for k := range f.Header.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-20s %s\n", k, f.Header.Meta[k])
	}
	if m, err := vit.OpenSectionLoad(path, 0, -1, wfile.Map); err != nil {
		fmt.Fprintf(w, "not runnable by this program: %v\n", err)
	} else {
		fmt.Fprintf(w, "runs on the compiled architecture %s\n", m.Arch().Name)
		m.Close()
	}
	if list {
		for _, t := range f.Header.Tensors {
			fmt.Fprintf(w, "  %-36s %-4s %-18v [%d, %d)\n", t.Name, t.DType, t.Shape, t.Begin, t.End)
		}
	}
	return nil
}

func inspectCheckpoint(e *env, path string, opt compile.Options, list bool) error {
	popt := pack.Options{Image: opt.Image, Heads: opt.Heads, Name: opt.Name}
	ck, err := checkpoint.Open(path)
	if err != nil {
		return err
	}
	defer ck.Close()
	w := e.stdout
	layout := "MAE training dictionary"
	if ck.Bare {
		layout = "bare state dict"
	}
	fmt.Fprintf(w, "%s: PyTorch checkpoint (%s format), %s, %d tensors in the model\n", path, ck.Format, layout, len(ck.Tensors))
	if len(ck.Extras) > 0 {
		fmt.Fprintf(w, "  other entries: %s (not read)\n", strings.Join(ck.Extras, ", "))
	}
	if ck.Epoch >= 0 {
		fmt.Fprintf(w, "  epoch: %d\n", ck.Epoch)
	}
	if ck.Args != nil {
		keys := make([]string, 0, len(ck.Args))
		for k := range ck.Args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, ck.Args[k]))
		}
		fmt.Fprintf(w, "  args: %s\n", strings.Join(parts, " "))
	}
	dtypes := map[string]int{}
	for _, t := range ck.Tensors {
		dtypes[t.DType.String()]++
	}
	var dt []string
	for k, v := range dtypes {
		dt = append(dt, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(dt)
	fmt.Fprintf(w, "  dtypes: %s\n", strings.Join(dt, ", "))
	if m, err := pack.Analyze(ck, popt); err != nil {
		fmt.Fprintf(w, "  not compilable: %v\n", err)
	} else {
		src := "the tensors' shapes"
		if m.FromArgs {
			src = "args.model, checked against the tensors"
		}
		fmt.Fprintf(w, "  architecture: %s (from %s)\n  %s\n  %s\n", m.Config, src, kindOf(m), m.IgnoredSummary())
	}
	if list {
		for _, n := range ck.Names() {
			t := ck.Tensors[n]
			fmt.Fprintf(w, "  %-40s %-8s %v\n", n, t.DType, t.Shape)
		}
	}
	return nil
}
