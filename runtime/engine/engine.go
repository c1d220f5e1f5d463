// Package engine is what generated packages (compiled/<arch>) are written against: the
// registry of compiled architectures and the steps of a forward pass (Run's methods), each of
// which splits its work across cores and calls the kernels in asm.
//
// A generated forward pass is a straight sequence of calls such as
//
//	r.LayerNorm(r.H, r.X, b0Norm1Weight, b0Norm1Bias)
//	r.Linear(r.QKV, r.H, b0QKVWeight, b0QKVBias, 3*Embed, Embed, asm.Store)
//
// with every shape and weights offset a constant of the generated package.
package engine

import (
	"fmt"
	"sort"
	"sync"

	"github.com/vitc-dev/vitc/runtime/wfile"
)

// EnforceVersion is used by generated code to fail at compile time when it was generated for
// another version of this package:
//
//	const _ = engine.EnforceVersion(GenVersion - engine.MinVersion)
//	const _ = engine.EnforceVersion(engine.MaxVersion - GenVersion)
//
// A negative constant does not convert to the unsigned type, so the build stops there. The
// fix is to regenerate: go generate ./...
type EnforceVersion uint

// The range of generated-code versions this engine runs.
const (
	MinVersion = 1
	MaxVersion = 1
)

// LayerNormEps is the epsilon of every LayerNorm in these models.
const LayerNormEps = 1e-6

// Arch is a compiled architecture, registered by its generated package's init.
type Arch struct {
	Name                                   string
	Embed, Depth, Heads, Image, Patch, MLP int
	Layout                                 string         // tensor layout name, e.g. "panel16pad"
	LayoutHash                             string         // wfile.TableHash of Tensors
	Tensors                                []wfile.Tensor // the encoder's tensors, in file order
	FLOPs                                  int64          // per image, encoder only
	Forward                                func(r *Run)   // the encoder forward pass
	Program                                string         // import path of the program that links this architecture alone ("" if none)
}

// Grid is the number of patches along a side.
func (a *Arch) Grid() int { return a.Image / a.Patch }

// Tokens is the sequence length, class token included.
func (a *Arch) Tokens() int { return 1 + a.Grid()*a.Grid() }

// HeadDim is the width of one attention head.
func (a *Arch) HeadDim() int { return a.Embed / a.Heads }

var (
	mu    sync.RWMutex
	archs = map[string]*Arch{}
)

// Register makes a compiled architecture available to Lookup. Generated packages call it
// from init; registering one name twice is a programming error.
func Register(a *Arch) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := archs[a.Name]; dup {
		panic("engine: architecture " + a.Name + " registered twice")
	}
	if got := wfile.TableHash(a.Layout, a.Tensors); got != a.LayoutHash {
		panic("engine: architecture " + a.Name + ": layout hash does not match its tensor table; regenerate with go generate ./...")
	}
	archs[a.Name] = a
}

// Lookup returns the compiled architecture of that name.
func Lookup(name string) (*Arch, bool) {
	mu.RLock()
	defer mu.RUnlock()
	a, ok := archs[name]
	return a, ok
}

// Names lists the architectures compiled into this binary.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(archs))
	for n := range archs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// CheckTensors compares a weights file's encoder tensors with the architecture's table.
func (a *Arch) CheckTensors(ts []wfile.Tensor) error { return CheckTable(a.Name, a.Tensors, ts) }

// CheckTable compares a weights file's tensors with an architecture's table (Arch.Table):
// the file must begin with exactly those tensors.
func CheckTable(arch string, table, ts []wfile.Tensor) error {
	if len(ts) < len(table) {
		return fmt.Errorf("the file has %d tensors, architecture %s needs at least %d", len(ts), arch, len(table))
	}
	for i, want := range table {
		got := ts[i]
		if got.Name != want.Name || got.DType != want.DType || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) || got.Begin != want.Begin || got.End != want.End {
			return fmt.Errorf("tensor %d is %s %s %v at [%d,%d), architecture %s has %s %s %v at [%d,%d)",
				i, got.Name, got.DType, got.Shape, got.Begin, got.End, arch, want.Name, want.DType, want.Shape, want.Begin, want.End)
		}
	}
	return nil
}
