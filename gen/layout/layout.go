// Package layout decides where every tensor of a compiled model lives in its weights file and
// in what form: the contract between the weights compiler (gen/pack), the generated packages
// (which hold the offsets as constants) and the kernels (which read the packed matrices).
//
// Matrices of Linear layers (and the patch-embedding convolution, which is a Linear layer over
// flattened 3×P×P patches) are stored packed in column panels of PanelWidth outputs: for a
// weight W of shape (N out, K in), panel p holds W[16p+j][k] at [p][k][j]. A micro-kernel then
// streams one panel row of 16 contiguous floats per k, the same for AVX2 (2 registers), AVX-512
// (1) and NEON (4). The last panel is zero-padded when N is not a multiple of 16, and each
// panel has asm.PanelRows(K) rows, one more than K (zeros) where K rows would be a multiple
// of 4 KiB (see asm.PanelRows). Vectors and the position embeddings are stored as they are.
package layout

import (
	"fmt"
	"strings"

	"github.com/vitc-dev/vitc/asm"
	"github.com/vitc-dev/vitc/gen/arch"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// Name identifies this layout in weights files.
const Name = "panel16pad"

// PanelWidth is the number of output columns in one packed panel.
const PanelWidth = 16

// Kind says how a tensor is made from the checkpoint.
type Kind int

const (
	Vector   Kind = iota + 1 // copied as is (biases, LayerNorm parameters, the class token)
	Matrix                   // a Linear weight (N, K), packed in panels
	PosEmbed                 // (tokens, D), interpolated when the image size differs
	Pad                      // filler for alignment
)

// Entry is one tensor of the file: where it is (Tensor) and how it is made.
type Entry struct {
	wfile.Tensor
	Kind   Kind
	Source string // checkpoint key(s) it comes from
	N, K   int    // for Matrix: logical output and input widths
}

// Panels returns the number of 16-wide panels that hold n columns.
func Panels(n int) int { return (n + PanelWidth - 1) / PanelWidth }

func vector(name string, n int) Entry {
	return Entry{Tensor: wfile.Tensor{Name: name, DType: "F32", Shape: []int{n}}, Kind: Vector, Source: name}
}

func matrix(name, source string, n, k int) Entry {
	return Entry{Tensor: wfile.Tensor{Name: name, DType: "F32", Shape: []int{Panels(n), asm.PanelRows(k), PanelWidth}}, Kind: Matrix, Source: source, N: n, K: k}
}

// Encoder is the tensor table of the encoder (everything but the classifier), with offsets.
func Encoder(c arch.Config) []Entry {
	d, t := c.Embed, c.Tokens()
	es := []Entry{
		vector("cls_token", d),
		{Tensor: wfile.Tensor{Name: "pos_embed", DType: "F32", Shape: []int{t, d}}, Kind: PosEmbed, Source: "pos_embed"},
		matrix("patch_embed.proj.weight", "patch_embed.proj.weight", d, c.PatchInputs()),
		vector("patch_embed.proj.bias", d),
	}
	for i := 0; i < c.Depth; i++ {
		p := fmt.Sprintf("blocks.%d.", i)
		es = append(es,
			vector(p+"norm1.weight", d), vector(p+"norm1.bias", d),
			matrix(p+"attn.qkv.weight", p+"attn.qkv.weight", 3*d, d), vector(p+"attn.qkv.bias", 3*d),
			matrix(p+"attn.proj.weight", p+"attn.proj.weight", d, d), vector(p+"attn.proj.bias", d),
			vector(p+"norm2.weight", d), vector(p+"norm2.bias", d),
			matrix(p+"mlp.fc1.weight", p+"mlp.fc1.weight", c.MLP, d), vector(p+"mlp.fc1.bias", c.MLP),
			matrix(p+"mlp.fc2.weight", p+"mlp.fc2.weight", d, c.MLP), vector(p+"mlp.fc2.bias", d),
		)
	}
	es = append(es, vector("norm.weight", d), vector("norm.bias", d))
	return plan(es)
}

// Full is the table of a whole model: the encoder, then for classes > 0 the classifier with
// the BatchNorm folded in ("head.weight" packed, "head.bias").
func Full(c arch.Config, classes int) []Entry {
	es := Encoder(c)
	if classes == 0 {
		return es
	}
	var logical []Entry
	for _, e := range es {
		if e.Kind != Pad {
			logical = append(logical, e)
		}
	}
	head := matrix("head.weight", "head.0.running_mean,head.0.running_var,head.1.weight", classes, c.Embed)
	bias := vector("head.bias", classes)
	bias.Source = "head.0.running_mean,head.0.running_var,head.1.weight,head.1.bias"
	return plan(append(logical, head, bias))
}

// plan assigns offsets, inserting pad entries where wfile.Plan does.
func plan(es []Entry) []Entry {
	ts := make([]wfile.Tensor, len(es))
	for i, e := range es {
		ts[i] = e.Tensor
	}
	planned := wfile.Plan(ts)
	out := make([]Entry, 0, len(planned))
	j := 0
	for _, t := range planned {
		if strings.HasPrefix(t.Name, wfile.PadPrefix) {
			out = append(out, Entry{Tensor: t, Kind: Pad})
			continue
		}
		e := es[j]
		e.Tensor = t
		out = append(out, e)
		j++
	}
	return out
}

// Tensors returns the file's view of the entries.
func Tensors(es []Entry) []wfile.Tensor {
	out := make([]wfile.Tensor, len(es))
	for i, e := range es {
		out[i] = e.Tensor
	}
	return out
}

// Hash fingerprints the encoder's tensor table (see wfile.TableHash).
func Hash(es []Entry) string { return wfile.TableHash(Name, Tensors(es)) }
