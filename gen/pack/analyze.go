// Package pack is the weights compiler: it reads a checkpoint, works out and checks its
// architecture, and writes the weights file (runtime/wfile) that a compiled package maps:
// tensors converted to float32, matrices packed for the kernels, the position embeddings
// interpolated to the target resolution, and a finetuned model's BatchNorm folded into its
// classifier.
package pack

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/vitc-dev/vitc/gen/arch"
	"github.com/vitc-dev/vitc/gen/checkpoint"
)

// Options adjust what is compiled.
type Options struct {
	Image int    // target image size in pixels; 0 keeps the checkpoint's
	Heads int    // attention heads, for checkpoints whose heads cannot be told (0: from args or the hub table)
	Name  string // architecture name to use instead of the derived one
}

// Head says how a checkpoint classifies.
type Head int

const (
	NoHead        Head = iota // pretrained encoder: embeddings out
	BatchNormHead             // MAE finetuning: head.0 BatchNorm1d (affine=False) then head.1 Linear
	LinearHead                // a plain Linear "head"
)

// Model is what a checkpoint holds, as far as compiling it goes.
type Model struct {
	Config      arch.Config // the architecture compiled, at the target image size
	SourceImage int         // the image size of the checkpoint's position embeddings
	Classes     int         // classifier outputs; 0 for a pretrained encoder
	Head        Head
	FromArgs    bool     // whether the architecture came from args.model
	Ignored     []string // checkpoint keys not used (e.g. the MAE decoder), sorted
	DType       string   // precision to write the blocks' matrices in (engine.F32, BF16, Int8); "" is F32
}

// Finetuned reports whether the model has a classifier.
func (m *Model) Finetuned() bool { return m.Head != NoHead }

// IgnoredSummary describes the ignored keys as PyTorch's loader would report them: a count
// and the prefixes.
func (m *Model) IgnoredSummary() string {
	if len(m.Ignored) == 0 {
		return "no unexpected keys"
	}
	count := map[string]int{}
	var order []string
	for _, k := range m.Ignored {
		p, _, _ := strings.Cut(k, ".")
		if count[p] == 0 {
			order = append(order, p)
		}
		count[p]++
	}
	parts := make([]string, len(order))
	for i, p := range order {
		if count[p] == 1 && !strings.Contains(firstWith(m.Ignored, p), ".") {
			parts[i] = p
		} else {
			parts[i] = fmt.Sprintf("%s.* (%d)", p, count[p])
		}
	}
	return fmt.Sprintf("%d unexpected keys ignored: %s", len(m.Ignored), strings.Join(parts, ", "))
}

// firstWith returns the first key whose first component is p.
func firstWith(keys []string, p string) string {
	for _, k := range keys {
		if k == p || strings.HasPrefix(k, p+".") {
			return k
		}
	}
	return ""
}

// Analyze works out the architecture of an open checkpoint and checks every encoder tensor
// against it. All missing or mis-shaped tensors are listed in one error.
func Analyze(ck *checkpoint.Checkpoint, opt Options) (*Model, error) {
	name := ck.Path
	get := func(k string) []int {
		if t, ok := ck.Tensors[k]; ok {
			return t.Shape
		}
		return nil
	}
	if len(ck.Tensors) == 0 {
		return nil, fmt.Errorf("%s: holds no tensors: not a ViT checkpoint", name)
	}

	// The architecture from the shapes.
	var shaped arch.Config
	var problems []string
	if s := get("cls_token"); len(s) == 3 && s[0] == 1 && s[1] == 1 {
		shaped.Embed = s[2]
	} else if s := get("patch_embed.proj.weight"); len(s) == 4 {
		shaped.Embed = s[0]
	}
	if s := get("patch_embed.proj.weight"); len(s) == 4 && s[1] == 3 && s[2] == s[3] {
		shaped.Patch = s[2]
	}
	for _, k := range sortedKeys(ck.Tensors) {
		var i int
		var rest string
		if n, _ := fmt.Sscanf(k, "blocks.%d.%s", &i, &rest); n == 2 && i+1 > shaped.Depth {
			shaped.Depth = i + 1
		}
	}
	if s := get("blocks.0.mlp.fc1.weight"); len(s) == 2 {
		shaped.MLP = s[0]
	}
	sourceImage := 0
	if s := get("pos_embed"); len(s) == 3 && s[0] == 1 && shaped.Patch > 0 {
		g := int(math.Round(math.Sqrt(float64(s[1] - 1))))
		if g*g == s[1]-1 {
			sourceImage = g * shaped.Patch
		} else {
			problems = append(problems, fmt.Sprintf("pos_embed has %d tokens, not 1 + a square number of patches", s[1]))
		}
	}
	if shaped.Embed == 0 || shaped.Patch == 0 || shaped.Depth == 0 || shaped.MLP == 0 || sourceImage == 0 {
		missing := []string{}
		for _, k := range []string{"cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.mlp.fc1.weight"} {
			if get(k) == nil {
				missing = append(missing, k)
			}
		}
		return nil, fmt.Errorf("%s: not a ViT checkpoint vitc can read: cannot tell the architecture (missing or odd: %s; %d tensors such as %s)",
			name, strings.Join(append(missing, problems...), ", "), len(ck.Tensors), strings.Join(firstKeys(ck.Tensors, 5), ", "))
	}
	shaped.Image = sourceImage

	// The architecture from args.model, when the checkpoint has it.
	m := &Model{SourceImage: sourceImage}
	cfg := shaped
	model, _ := ck.ArgString("model")
	inputSize, _ := ck.ArgInt("input_size")
	if c, _, ok := arch.FromModelName(model, inputSize); ok {
		m.FromArgs = true
		var diff []string
		if c.Embed != shaped.Embed {
			diff = append(diff, fmt.Sprintf("embed %d, tensors say %d", c.Embed, shaped.Embed))
		}
		if c.Depth != shaped.Depth {
			diff = append(diff, fmt.Sprintf("depth %d, tensors say %d", c.Depth, shaped.Depth))
		}
		if c.Patch != shaped.Patch {
			diff = append(diff, fmt.Sprintf("patch %d, tensors say %d", c.Patch, shaped.Patch))
		}
		if c.MLP != shaped.MLP {
			diff = append(diff, fmt.Sprintf("mlp %d, tensors say %d", c.MLP, shaped.MLP))
		}
		if c.Image != sourceImage {
			diff = append(diff, fmt.Sprintf("image %d, pos_embed says %d", c.Image, sourceImage))
		}
		if len(diff) > 0 {
			return nil, fmt.Errorf("%s: args.model=%q input_size=%d disagree with the tensors: %s", name, model, inputSize, strings.Join(diff, "; "))
		}
		cfg = c
	}
	switch {
	case opt.Heads > 0:
		cfg.Heads = opt.Heads
	case m.FromArgs:
	default:
		h, ok := arch.HeadsForEmbed(cfg.Embed)
		if !ok {
			return nil, fmt.Errorf("%s: embed width %d is not a hub model's, so the number of attention heads cannot be told from the tensors (args.model=%q); pass --heads", name, cfg.Embed, model)
		}
		cfg.Heads = h
	}
	if opt.Image > 0 {
		cfg.Image = opt.Image
	}
	cfg.Name = arch.NameFor(cfg)
	if opt.Name != "" {
		cfg.Name = opt.Name
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	m.Config = cfg

	// The classifier.
	switch {
	case get("head.1.weight") != nil:
		m.Head = BatchNormHead
		if s := get("head.1.weight"); len(s) == 2 {
			m.Classes = s[0]
		}
	case get("head.weight") != nil:
		m.Head = LinearHead
		if s := get("head.weight"); len(s) == 2 {
			m.Classes = s[0]
		}
	}

	// Every tensor used, with its checkpoint shape.
	want := expectedShapes(m)
	var missing, misshaped []string
	for _, k := range sortedKeys(want) {
		got := get(k)
		switch {
		case got == nil:
			missing = append(missing, k)
		case fmt.Sprint(got) != fmt.Sprint(want[k]):
			misshaped = append(misshaped, fmt.Sprintf("%s %v (want %v)", k, got, want[k]))
		}
	}
	if len(missing) > 0 || len(misshaped) > 0 {
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, fmt.Sprintf("missing %d: %s", len(missing), strings.Join(missing, ", ")))
		}
		if len(misshaped) > 0 {
			parts = append(parts, fmt.Sprintf("wrong shape %d: %s", len(misshaped), strings.Join(misshaped, ", ")))
		}
		return nil, fmt.Errorf("%s: not a complete %s checkpoint: %s", name, m.Config.Name, strings.Join(parts, "; "))
	}
	for _, k := range sortedKeys(ck.Tensors) {
		if _, used := want[k]; !used && k != "head.0.num_batches_tracked" {
			m.Ignored = append(m.Ignored, k)
		}
	}
	for _, k := range sortedKeys(want) {
		if t := ck.Tensors[k]; t.DType != checkpoint.Float32 && t.DType != checkpoint.Float16 && t.DType != checkpoint.BFloat16 && t.DType != checkpoint.Float64 {
			return nil, fmt.Errorf("%s: tensor %s is %s; vitc reads float32, float16, bfloat16 and float64 weights", name, k, t.DType)
		}
	}
	return m, nil
}

// expectedShapes lists the checkpoint tensors a model uses, with their shapes in the
// checkpoint (at the source image size).
func expectedShapes(m *Model) map[string][]int {
	c := m.Config
	d, p := c.Embed, c.Patch
	g := m.SourceImage / p
	w := map[string][]int{
		"cls_token":               {1, 1, d},
		"pos_embed":               {1, 1 + g*g, d},
		"patch_embed.proj.weight": {d, 3, p, p},
		"patch_embed.proj.bias":   {d},
		"norm.weight":             {d},
		"norm.bias":               {d},
	}
	for i := 0; i < c.Depth; i++ {
		b := fmt.Sprintf("blocks.%d.", i)
		w[b+"norm1.weight"], w[b+"norm1.bias"] = []int{d}, []int{d}
		w[b+"attn.qkv.weight"], w[b+"attn.qkv.bias"] = []int{3 * d, d}, []int{3 * d}
		w[b+"attn.proj.weight"], w[b+"attn.proj.bias"] = []int{d, d}, []int{d}
		w[b+"norm2.weight"], w[b+"norm2.bias"] = []int{d}, []int{d}
		w[b+"mlp.fc1.weight"], w[b+"mlp.fc1.bias"] = []int{c.MLP, d}, []int{c.MLP}
		w[b+"mlp.fc2.weight"], w[b+"mlp.fc2.bias"] = []int{d, c.MLP}, []int{d}
	}
	switch m.Head {
	case BatchNormHead:
		w["head.0.running_mean"], w["head.0.running_var"] = []int{d}, []int{d}
		w["head.1.weight"], w["head.1.bias"] = []int{m.Classes, d}, []int{m.Classes}
	case LinearHead:
		w["head.weight"], w["head.bias"] = []int{m.Classes, d}, []int{m.Classes}
	}
	return w
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func firstKeys[V any](m map[string]V, n int) []string {
	k := sortedKeys(m)
	if len(k) > n {
		k = append(k[:n], "...")
	}
	return k
}
