// Package vit runs a compiled model: it loads a weights file, checks it against the compiled
// architecture it names, and computes embeddings or logits for batches of images.
//
//	m, err := vit.Open("vits14_1.0_1.vitc")   // after `vitc compile`
//	defer m.Close()
//	logits, err := m.Forward(images, batch)   // images: batch×3×224×224, normalised
//
// The architecture must be compiled into the program: import its generated package
// (compiled/vits14, ...) or compiled/all. A Model is safe for use by many goroutines at once.
package vit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/vitc-dev/vitc/asm"
	"github.com/vitc-dev/vitc/runtime/engine"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// Model is a loaded model.
type Model struct {
	file    *wfile.File
	arch    *engine.Arch
	w       *engine.Weights
	classes int
	headW   []float32 // packed classes×Embed, nil for an encoder
	headB   []float32
	mu      sync.Mutex
	pools   map[int]*sync.Pool // batch size → reusable *engine.Run
}

// Open loads a weights file (read into memory or mapped, as $VITC_WEIGHTS says: see
// wfile.Load) and checks it against the compiled architecture it names: magic,
// version, size and every tensor's place are checked before any weight is touched.
func Open(path string) (*Model, error) { return OpenSection(path, 0, -1) }

// OpenSection is Open of a weights file stored inside another file (see wfile.OpenSection),
// such as the weights `vitc build` appends to a program.
func OpenSection(path string, off, size int64) (*Model, error) {
	load, err := wfile.DefaultLoad()
	if err != nil {
		return nil, err
	}
	return OpenSectionLoad(path, off, size, load)
}

// OpenSectionLoad is OpenSection with the way of loading the weights given (see wfile.Load)
// rather than taken from $VITC_WEIGHTS.
func OpenSectionLoad(path string, off, size int64, load wfile.Load) (*Model, error) {
	f, err := wfile.OpenSectionLoad(path, off, size, load)
	if err != nil {
		return nil, err
	}
	m, err := New(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return m, nil
}

// New makes a Model of an open weights file after the checks Open describes. The Model owns f
// from then on (Close closes it); on error f is left open.
func New(f *wfile.File) (*Model, error) {
	h := &f.Header
	name := h.Meta[wfile.KeyArch]
	a, ok := engine.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%s: architecture %q is not compiled into this program (it has %v); add it to compiled/generate.go, run go generate ./... and rebuild", f.Path, name, engine.Names())
	}
	dtype := h.Meta[wfile.KeyDType]
	if dtype == "" {
		dtype = engine.F32
	}
	table, err := a.Table(dtype)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.Path, err)
	}
	want := wfile.TableHash(a.Layout, table) // a.LayoutHash for f32
	if got := h.Meta[wfile.KeyLayoutHash]; got != want {
		return nil, fmt.Errorf("%s: made for another layout of %s in %s (layout hash %.12s…, this program has %.12s…); compile the checkpoint again with this vitc", f.Path, name, dtype, got, want)
	}
	for _, c := range []struct {
		key  string
		want int
	}{{wfile.KeyEmbed, a.Embed}, {wfile.KeyDepth, a.Depth}, {wfile.KeyHeads, a.Heads}, {wfile.KeyImage, a.Image}, {wfile.KeyPatch, a.Patch}, {wfile.KeyMLP, a.MLP}} {
		got, err := h.Int(c.key)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Path, err)
		}
		if got != c.want {
			return nil, fmt.Errorf("%s: %s is %d but architecture %s has %d; the file is damaged or made by another program", f.Path, c.key, got, name, c.want)
		}
	}
	if err := engine.CheckTable(a.Name, table, h.Tensors); err != nil {
		return nil, fmt.Errorf("%s: %v", f.Path, err)
	}
	classes, err := h.Int(wfile.KeyClasses)
	if err != nil || classes < 0 {
		return nil, fmt.Errorf("%s: bad class count: %v", f.Path, err)
	}
	data := f.Data()
	if uintptr(unsafe.Pointer(unsafe.SliceData(data)))%4 != 0 {
		return nil, fmt.Errorf("%s: data not aligned", f.Path)
	}
	m := &Model{file: f, arch: a, classes: classes, pools: map[int]*sync.Pool{}}
	if m.w, err = engine.NewWeights(a, dtype, data, h.Tensors); err != nil {
		return nil, fmt.Errorf("%s: %v", f.Path, err)
	}
	rest := h.Tensors[len(table):]
	if classes > 0 {
		var real []wfile.Tensor
		for _, t := range rest {
			if !strings.HasPrefix(t.Name, wfile.PadPrefix) {
				real = append(real, t)
			}
		}
		if len(real) != 2 || real[0].Name != "head.weight" || real[1].Name != "head.bias" {
			return nil, fmt.Errorf("%s: a finetuned model needs head.weight and head.bias after the encoder", f.Path)
		}
		hw, hb := real[0], real[1]
		panels := (classes + asm.PanelWidth - 1) / asm.PanelWidth
		want := []int{panels, asm.PanelRows(a.Embed), asm.PanelWidth}
		if hw.DType != "F32" || fmt.Sprint(hw.Shape) != fmt.Sprint(want) || hb.DType != "F32" || fmt.Sprint(hb.Shape) != fmt.Sprint([]int{classes}) {
			return nil, fmt.Errorf("%s: head tensors have shapes %v and %v, want %v and %v", f.Path, hw.Shape, hb.Shape, want, []int{classes})
		}
		m.headW = m.w.F32[hw.Begin/4 : hw.End/4]
		m.headB = m.w.F32[hb.Begin/4 : hb.End/4]
	} else {
		for _, t := range rest {
			if !strings.HasPrefix(t.Name, wfile.PadPrefix) {
				return nil, fmt.Errorf("%s: unexpected tensor %q after the encoder of a pretrained model", f.Path, t.Name)
			}
		}
	}
	return m, nil
}

// DType is the precision of the blocks' matrices: engine.F32, BF16 or Int8.
func (m *Model) DType() string { return m.w.DType }

// Close unmaps the weights. The Model must not be used afterwards.
func (m *Model) Close() error { return m.file.Close() }

// Arch is the compiled architecture.
func (m *Model) Arch() *engine.Arch { return m.arch }

// ImageSize is the side of the square images the model takes.
func (m *Model) ImageSize() int { return m.arch.Image }

// EmbedDim is the width of an embedding.
func (m *Model) EmbedDim() int { return m.arch.Embed }

// Classes is the number of classifier outputs, 0 for a pretrained encoder.
func (m *Model) Classes() int { return m.classes }

// Finetuned reports whether the model has a classifier.
func (m *Model) Finetuned() bool { return m.classes > 0 }

// OutputDim is the width of Forward's output per image.
func (m *Model) OutputDim() int {
	if m.classes > 0 {
		return m.classes
	}
	return m.arch.Embed
}

// Meta returns a metadata value of the weights file (see wfile's Key constants).
func (m *Model) Meta(key string) string { return m.file.Header.Meta[key] }

// Path is the weights file.
func (m *Model) Path() string { return m.file.Path }

// Load returns how the weights came into memory: read into it or mapped (see wfile.Load).
func (m *Model) Load() wfile.Load { return m.file.Load }

// ErrInput marks a badly shaped input.
var ErrInput = errors.New("bad input")

func (m *Model) checkInput(images []float32, batch int) error {
	s := m.arch.Image
	if batch <= 0 {
		return fmt.Errorf("%w: batch %d", ErrInput, batch)
	}
	if want := batch * 3 * s * s; len(images) != want {
		return fmt.Errorf("%w: %d floats for a batch of %d, want %d (batch×3×%d×%d)", ErrInput, len(images), batch, want, s, s)
	}
	return nil
}

// run takes a Run for the batch from its pool (or makes one) and runs the encoder over
// images; give it back with done. After the first call for a batch size, nothing of this
// is allocated: only the result that Embeddings or Logits returns is new.
func (m *Model) run(images []float32, batch int, lastAttention []float32, prof *engine.Profile) (*engine.Run, error) {
	if err := m.checkInput(images, batch); err != nil {
		return nil, err
	}
	m.mu.Lock()
	p, ok := m.pools[batch]
	if !ok {
		p = &sync.Pool{}
		m.pools[batch] = p
	}
	m.mu.Unlock()
	r, _ := p.Get().(*engine.Run)
	if r == nil {
		r = engine.NewRun(m.arch, m.w, batch)
	}
	r.Images, r.LastAttention, r.Profile = images, lastAttention, prof
	r.Forward()
	return r, nil
}

// done gives r back to the pool of its batch size.
func (m *Model) done(r *engine.Run) {
	r.Images, r.LastAttention, r.Profile = nil, nil, nil
	m.mu.Lock()
	p := m.pools[r.Batch]
	m.mu.Unlock()
	p.Put(r)
}

// Embeddings returns the class-token embeddings (batch×EmbedDim), the final LayerNorm
// applied: the output of a pretrained model, and the classifier's input of a finetuned one.
// images are batch×3×ImageSize×ImageSize floats, normalised as in training.
func (m *Model) Embeddings(images []float32, batch int) ([]float32, error) {
	r, err := m.run(images, batch, nil, nil)
	if err != nil {
		return nil, err
	}
	defer m.done(r)
	return append([]float32(nil), r.Out...), nil
}

// Logits returns the classifier's outputs (batch×Classes) of a finetuned model.
func (m *Model) Logits(images []float32, batch int) ([]float32, error) {
	if m.classes == 0 {
		return nil, fmt.Errorf("%s is a pretrained encoder without a classifier: it gives embeddings, not logits", m.file.Path)
	}
	r, err := m.run(images, batch, nil, nil)
	if err != nil {
		return nil, err
	}
	defer m.done(r)
	out := make([]float32, batch*m.classes)
	engine.MatMul(out, r.Out, m.headW, m.headB, batch, m.classes, m.arch.Embed, asm.Store)
	return out, nil
}

// Forward is what the PyTorch model returns: logits for a finetuned model, embeddings for a
// pretrained one.
func (m *Model) Forward(images []float32, batch int) ([]float32, error) {
	if m.classes > 0 {
		return m.Logits(images, batch)
	}
	return m.Embeddings(images, batch)
}

// Profile runs the encoder over a batch as Embeddings does, adding the time of each of its
// steps to p (see engine.Profile).
func (m *Model) Profile(images []float32, batch int, p *engine.Profile) error {
	r, err := m.run(images, batch, nil, p)
	if err != nil {
		return err
	}
	m.done(r)
	return nil
}

// LastAttention runs the model and returns, per image and head, the last block's attention
// from the class token to every token (batch×Heads×Tokens), as the Python model's
// get_last_selfattention()[:, :, 0, :].
func (m *Model) LastAttention(images []float32, batch int) ([]float32, error) {
	if err := m.checkInput(images, batch); err != nil {
		return nil, err
	}
	att := make([]float32, batch*m.arch.Heads*m.arch.Tokens())
	r, err := m.run(images, batch, att, nil)
	if err != nil {
		return nil, err
	}
	m.done(r)
	return att, nil
}

// String describes the model in one line.
func (m *Model) String() string {
	kind := "pretrained encoder"
	if m.classes > 0 {
		kind = "finetuned, " + strconv.Itoa(m.classes) + " classes"
	}
	if m.w.DType != engine.F32 {
		kind += ", " + m.w.DType + " weights"
	}
	return fmt.Sprintf("%s (%s) from %s", m.arch.Name, kind, m.file.Path)
}
