package engine

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/vitc-dev/vitc/asm"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// The precisions a weights file can hold its blocks' matrices in (metadata key
// wfile.KeyDType). Everything else (biases, LayerNorm, embeddings, the patch embedding and the
// classifier) stays float32, as do the activations between the matrix products.
const (
	F32  = "f32"  // float32 panels (gen/layout)
	BF16 = "bf16" // bfloat16, round to nearest even (asm.PackBF16)
	Int8 = "int8" // int8 per output channel, activations quantized per row (asm.PackInt8)
)

// DTypes lists the precisions, widest first.
var DTypes = []string{F32, BF16, Int8}

// CheckDType returns an error for a name that is not one of DTypes.
func CheckDType(dtype string) error {
	for _, d := range DTypes {
		if d == dtype {
			return nil
		}
	}
	return fmt.Errorf("unknown dtype %q: want one of %s", dtype, strings.Join(DTypes, ", "))
}

// Suffixes of the int8 per-column tensors that follow a quantized matrix.
const (
	ScaleSuffix = ".scale" // F32 [N]: the column's scale
	SumSuffix   = ".qsum"  // I32 [N]: the sum of the column's quantized weights
)

// lowpMatrix reports whether t is a matrix that a low-precision file stores in its dtype: the
// Linear layers of the blocks (qkv, proj, fc1, fc2), which hold nearly all the weights and
// the arithmetic.
func lowpMatrix(t wfile.Tensor) bool {
	return strings.HasPrefix(t.Name, "blocks.") && strings.HasSuffix(t.Name, ".weight") && len(t.Shape) == 3 && t.DType == "F32"
}

// Table is the encoder's tensor table of a weights file in dtype, planned (offsets and pads
// as wfile.Plan makes them): Tensors for F32; for BF16 and Int8 the blocks' matrices replaced
// by their packed forms (int8 followed by the per-column scales and sums). The weights
// compiler writes this table and the runtime checks a file against it.
func (a *Arch) Table(dtype string) ([]wfile.Tensor, error) {
	if err := CheckDType(dtype); err != nil {
		return nil, err
	}
	if dtype == F32 {
		return a.Tensors, nil
	}
	width := map[string]int{}
	for _, t := range a.Tensors {
		if strings.HasSuffix(t.Name, ".bias") && len(t.Shape) == 1 {
			width[strings.TrimSuffix(t.Name, ".bias")] = t.Shape[0]
		}
	}
	var out []wfile.Tensor
	for _, t := range a.Tensors {
		switch {
		case strings.HasPrefix(t.Name, wfile.PadPrefix):
			continue
		case !lowpMatrix(t):
			out = append(out, wfile.Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape})
			continue
		}
		n, ok := width[strings.TrimSuffix(t.Name, ".weight")]
		if !ok {
			return nil, fmt.Errorf("architecture %s: %s has no bias to give its width", a.Name, t.Name)
		}
		// The input width: the block's (proj's outputs), or for fc2 fc1's outputs; the
		// panels hold asm.PanelRows(k) rows.
		num, _, _ := strings.Cut(strings.TrimPrefix(t.Name, "blocks."), ".")
		block := "blocks." + num + "."
		from := block + "attn.proj"
		if strings.HasSuffix(t.Name, ".mlp.fc2.weight") {
			from = block + "mlp.fc1"
		}
		k, ok := width[from]
		if !ok || t.Shape[1] != asm.PanelRows(k) {
			return nil, fmt.Errorf("architecture %s: %s has panels of %d rows, want %d for %d inputs", a.Name, t.Name, t.Shape[1], asm.PanelRows(k), k)
		}
		switch dtype {
		case BF16:
			out = append(out, wfile.Tensor{Name: t.Name, DType: "BF16", Shape: []int{asm.BF16Len(n, k)}})
		case Int8:
			out = append(out,
				wfile.Tensor{Name: t.Name, DType: "I8", Shape: []int{asm.Int8Len(n, k)}},
				wfile.Tensor{Name: t.Name + ScaleSuffix, DType: "F32", Shape: []int{n}},
				wfile.Tensor{Name: t.Name + SumSuffix, DType: "I32", Shape: []int{n}})
		}
	}
	return wfile.Plan(out), nil
}

// LowpMatrix is a block's matrix in a low-precision file, as the asm kernels take it.
type LowpMatrix struct {
	BF16   []uint16  // asm.PackBF16's form, or nil
	I8     []int8    // asm.PackInt8's form, or nil
	Scales []float32 // int8: per output column
	Sums   []int32   // int8: per output column
}

// cols is the matrix's outputs from c0 on (a multiple of asm.PanelWidth), of k inputs.
func (m *LowpMatrix) cols(c0, k int) LowpMatrix {
	p := c0 / asm.PanelWidth
	var s LowpMatrix
	if m.BF16 != nil {
		s.BF16 = m.BF16[p*asm.BF16Len(asm.PanelWidth, k):]
	}
	if m.I8 != nil {
		s.I8, s.Scales, s.Sums = m.I8[p*asm.Int8Len(asm.PanelWidth, k):], m.Scales[c0:], m.Sums[c0:]
	}
	return s
}

// Weights is the data of a weights file as the generated code addresses it: by the element
// offsets of the float32 layout (Arch.Tensors), whatever the file's dtype.
type Weights struct {
	DType string
	F32   []float32           // the data section viewed as float32
	at    map[int]int         // float32-layout offset → offset in F32; nil for an F32 file
	lowp  map[int]*LowpMatrix // float32-layout offset of a block matrix → its packed form
}

// F32Weights is the Weights of a float32 file whose data section is w.
func F32Weights(w []float32) *Weights { return &Weights{DType: F32, F32: w} }

// NewWeights maps a file's data section (64-byte aligned, its encoder tensors first as
// a.Table(dtype) lists them, already checked) to the offsets the generated code uses.
func NewWeights(a *Arch, dtype string, data []byte, tensors []wfile.Tensor) (*Weights, error) {
	base := unsafe.Pointer(unsafe.SliceData(data))
	w := &Weights{DType: dtype, F32: unsafe.Slice((*float32)(base), len(data)/4)}
	if dtype == F32 {
		return w, nil
	}
	byName := map[string]wfile.Tensor{}
	for _, t := range tensors {
		byName[t.Name] = t
	}
	w.at, w.lowp = map[int]int{}, map[int]*LowpMatrix{}
	for _, t := range a.Tensors {
		if strings.HasPrefix(t.Name, wfile.PadPrefix) {
			continue
		}
		ft, ok := byName[t.Name]
		if !ok {
			return nil, fmt.Errorf("no tensor %s", t.Name)
		}
		off := int(t.Begin / 4)
		if !lowpMatrix(t) {
			w.at[off] = int(ft.Begin / 4)
			continue
		}
		m := &LowpMatrix{}
		switch dtype {
		case BF16:
			m.BF16 = unsafe.Slice((*uint16)(unsafe.Add(base, ft.Begin)), ft.Size()/2)
		case Int8:
			sc, ok1 := byName[t.Name+ScaleSuffix]
			su, ok2 := byName[t.Name+SumSuffix]
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s lacks its scales or sums", t.Name)
			}
			m.I8 = unsafe.Slice((*int8)(unsafe.Add(base, ft.Begin)), ft.Size())
			m.Scales = unsafe.Slice((*float32)(unsafe.Add(base, sc.Begin)), sc.Size()/4)
			m.Sums = unsafe.Slice((*int32)(unsafe.Add(base, su.Begin)), su.Size()/4)
		}
		w.lowp[off] = m
	}
	return w, nil
}

// offset translates a float32-layout offset into F32.
func (w *Weights) offset(off int) int {
	if w.at == nil {
		return off
	}
	o, ok := w.at[off]
	if !ok {
		panic(fmt.Sprintf("engine: no float32 tensor at offset %d of the %s layout", off, w.DType))
	}
	return o
}
