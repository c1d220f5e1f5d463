// Package arch describes a ViT architecture as vitc compiles it: the shapes that a generated
// package is specialised for, how they are read from a checkpoint, and the names that tie a
// checkpoint, a generated package and a weights file together.
//
// The six architectures of the humanlike-vits hub are built in (Hub); any other
// embed/depth/heads/resolution combination is a Config too, so a user can compile, say,
// ViT-B/14 at 448 px.
package arch

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Config is everything the forward pass is specialised for. Two checkpoints with equal
// Configs run on the same generated package; the number of classes of a finetuned head is
// not part of it (the head is sized at load time from the weights file).
type Config struct {
	Name  string // "vits14", "vith14@448", "vitb14@448", or a user's name
	Embed int    // D
	Depth int    // number of blocks
	Heads int    // attention heads; Embed must be a multiple
	Image int    // input side in pixels
	Patch int    // patch side in pixels; Image must be a multiple
	MLP   int    // hidden width of the MLP (4·D in every hub model)
}

// Family is one of the four hub model sizes, at any resolution.
type Family struct {
	Base  string // "vits14"
	Timm  string // size word in args.model: "small", "base", "large", "huge"
	Embed int
	Depth int
	Heads int
}

// Families are the ViT sizes of the hub, in order of size.
var Families = []Family{
	{"vits14", "small", 384, 12, 6},
	{"vitb14", "base", 768, 12, 12},
	{"vitl14", "large", 1024, 24, 16},
	{"vith14", "huge", 1280, 32, 16},
}

// HubNames are the architectures that have checkpoints on the hub, in the hub's order.
var HubNames = []string{"vits14", "vitb14", "vitl14", "vith14", "vith14@448", "vith14@476"}

// HubPatch is the patch size of every hub model.
const HubPatch = 14

// Hub returns the Config of one of the six hub architectures.
func Hub(name string) (Config, error) {
	for _, n := range HubNames {
		if n == name {
			c, err := Named(name)
			return c, err
		}
	}
	return Config{}, fmt.Errorf("unknown architecture %q: the hub has %s", name, strings.Join(HubNames, ", "))
}

var namedRE = regexp.MustCompile(`^(vit[sblh]14)(?:@(\d+))?$`)

// Named returns the Config of a family name with an optional resolution, "vitb14" or
// "vitb14@448" (any image size that is a multiple of 14).
func Named(name string) (Config, error) {
	m := namedRE.FindStringSubmatch(name)
	if m == nil {
		return Config{}, fmt.Errorf("unknown architecture %q: want one of vits14, vitb14, vitl14, vith14, optionally with @<image size>, e.g. vith14@448", name)
	}
	f := familyByBase(m[1])
	image := 224
	if m[2] != "" {
		image, _ = strconv.Atoi(m[2])
	}
	c := f.Config(image)
	return c, c.Validate()
}

func familyByBase(base string) Family {
	for _, f := range Families {
		if f.Base == base {
			return f
		}
	}
	return Family{}
}

// Config returns the family at the given image size, named as the hub names it
// ("vith14" at 224, "vith14@448" otherwise).
func (f Family) Config(image int) Config {
	name := f.Base
	if image != 224 {
		name = fmt.Sprintf("%s@%d", f.Base, image)
	}
	return Config{Name: name, Embed: f.Embed, Depth: f.Depth, Heads: f.Heads, Image: image, Patch: HubPatch, MLP: 4 * f.Embed}
}

// HeadsForEmbed returns the number of heads the hub uses at embed width d. Heads cannot be
// read from tensor shapes, so a checkpoint without args.model relies on this table.
func HeadsForEmbed(d int) (int, bool) {
	for _, f := range Families {
		if f.Embed == d {
			return f.Heads, true
		}
	}
	return 0, false
}

// Grid is the number of patches along one side.
func (c Config) Grid() int { return c.Image / c.Patch }

// Tokens is the sequence length: the class token and one token per patch.
func (c Config) Tokens() int { return 1 + c.Grid()*c.Grid() }

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.Embed / c.Heads }

// PatchInputs is the length of one flattened patch (3 channels × Patch × Patch).
func (c Config) PatchInputs() int { return 3 * c.Patch * c.Patch }

// Params is the number of encoder parameters (the class head excluded).
func (c Config) Params() int64 {
	d, m := int64(c.Embed), int64(c.MLP)
	block := 2*d + (3*d*d + 3*d) + (d*d + d) + 2*d + (d*m + m) + (m*d + d)
	return d + int64(c.Tokens())*d + (int64(c.PatchInputs())*d + d) + int64(c.Depth)*block + 2*d
}

// ModelFLOPs is the number of floating-point operations (2 per multiply-add) of one image's
// forward pass through the encoder's matrix products and attention, as PyTorch computes it.
func (c Config) ModelFLOPs() int64 {
	t, d, m := int64(c.Tokens()), int64(c.Embed), int64(c.MLP)
	patches := int64(c.Grid() * c.Grid())
	perBlock := 2*t*d*3*d + 2*t*t*d*2 + 2*t*d*d + 2*t*d*m*2
	return 2*patches*int64(c.PatchInputs())*d + int64(c.Depth)*perBlock
}

// FLOPs is ModelFLOPs as vitc computes the pass: the output is the class token after the
// final LayerNorm, so past its keys and values the last block runs on the class token
// alone (one query; its projection and MLP one row).
func (c Config) FLOPs() int64 {
	t, d, m := int64(c.Tokens()), int64(c.Embed), int64(c.MLP)
	full := 2*t*d*3*d + 2*t*t*d*2 + 2*t*d*d + 2*t*d*m*2
	last := 2*t*d*2*d + 2*d*d + 2*t*d*2 + 2*d*d + 2*d*m*2
	return c.ModelFLOPs() - full + last
}

// Package is the Go package name of the generated code: the name with every character
// that Go does not allow in an identifier replaced by '_' ("vith14@448" → "vith14_448").
func (c Config) Package() string {
	var b strings.Builder
	for i, r := range c.Name {
		switch {
		case r >= 'a' && r <= 'z', r == '_', r >= '0' && r <= '9' && i > 0:
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r - 'A' + 'a')
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Validate checks that the shapes are consistent.
func (c Config) Validate() error {
	var bad []string
	if c.Name == "" {
		bad = append(bad, "no name")
	}
	if c.Embed <= 0 || c.Depth <= 0 || c.Heads <= 0 || c.Image <= 0 || c.Patch <= 0 || c.MLP <= 0 {
		bad = append(bad, "every size must be positive")
	} else {
		if c.Embed%c.Heads != 0 {
			bad = append(bad, fmt.Sprintf("embed %d is not a multiple of heads %d", c.Embed, c.Heads))
		}
		if c.Image%c.Patch != 0 {
			bad = append(bad, fmt.Sprintf("image %d is not a multiple of patch %d", c.Image, c.Patch))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("architecture %s: %s", c, strings.Join(bad, "; "))
	}
	return nil
}

// String is a one-line description for messages.
func (c Config) String() string {
	return fmt.Sprintf("%s (embed %d, depth %d, heads %d, image %d, patch %d, mlp %d)",
		c.Name, c.Embed, c.Depth, c.Heads, c.Image, c.Patch, c.MLP)
}

// SameShapes reports whether two configs run on the same generated code (names aside).
func (c Config) SameShapes(o Config) bool {
	c.Name, o.Name = "", ""
	return c == o
}

var timmRE = regexp.MustCompile(`^(mae_)?vit_(small|base|large|huge)_patch(\d+)(?:_(\d+))?$`)

// FromModelName reads MAE's args.model ("mae_vit_huge_patch14_448", "vit_small_patch14")
// together with args.input_size. It returns ok=false for names outside the hub's scheme.
// pretrained reports the "mae_" prefix that MAE's pretraining script uses.
func FromModelName(model string, inputSize int) (c Config, pretrained, ok bool) {
	m := timmRE.FindStringSubmatch(model)
	if m == nil {
		return Config{}, false, false
	}
	var f Family
	for _, ff := range Families {
		if ff.Timm == m[2] {
			f = ff
		}
	}
	patch, _ := strconv.Atoi(m[3])
	image := inputSize
	if image == 0 && m[4] != "" {
		image, _ = strconv.Atoi(m[4])
	}
	if image == 0 {
		image = 224
	}
	c = f.Config(image)
	if patch != HubPatch {
		c.Patch = patch
		c.Name = fmt.Sprintf("vit%c%d", f.Base[3], patch)
		if image != 224 {
			c.Name += "@" + strconv.Itoa(image)
		}
	}
	return c, m[1] != "", true
}

// NameFor gives a Config a name: the hub family name when the shapes are a hub family's,
// otherwise a descriptive one ("vit_d32_l2_h2_p14@42").
func NameFor(c Config) string {
	for _, f := range Families {
		if f.Embed == c.Embed && f.Depth == c.Depth && f.Heads == c.Heads && c.Patch == HubPatch && c.MLP == 4*c.Embed {
			return f.Config(c.Image).Name
		}
	}
	return fmt.Sprintf("vit_d%d_l%d_h%d_p%d_m%d@%d", c.Embed, c.Depth, c.Heads, c.Patch, c.MLP, c.Image)
}

// Parse reads an architecture as the command line gives it: a family name with an optional
// resolution ("vitb14", "vith14@448"), or a full description
// "name=NAME,embed=D,depth=L,heads=H,image=S[,patch=P][,mlp=M]" (patch defaults to 14, mlp to 4·D).
func Parse(spec string) (Config, error) {
	if !strings.Contains(spec, "=") {
		return Named(spec)
	}
	c := Config{Patch: HubPatch}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return Config{}, fmt.Errorf("architecture %q: %q is not key=value", spec, kv)
		}
		if k == "name" {
			c.Name = v
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return Config{}, fmt.Errorf("architecture %q: %s=%q is not a number", spec, k, v)
		}
		switch k {
		case "embed":
			c.Embed = n
		case "depth":
			c.Depth = n
		case "heads":
			c.Heads = n
		case "image":
			c.Image = n
		case "patch":
			c.Patch = n
		case "mlp":
			c.MLP = n
		default:
			return Config{}, fmt.Errorf("architecture %q: unknown key %q (want name, embed, depth, heads, image, patch, mlp)", spec, k)
		}
	}
	if c.MLP == 0 {
		c.MLP = 4 * c.Embed
	}
	if c.Name == "" {
		c.Name = NameFor(c)
	}
	return c, c.Validate()
}
