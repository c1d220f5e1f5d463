// Package asm holds vitc's arithmetic kernels: the matrix product over weights packed in
// 16-wide panels (see gen/layout), and the row operations around it (LayerNorm, GELU, dot
// products). Each kernel has a pure-Go reference; faster variants plug in behind the same
// functions and are chosen once, centrally (see Use).
//
// Kernels are single-threaded and do one block of work; runtime/engine splits the work
// across cores.
package asm

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// PanelWidth is the number of output columns in one packed panel of b.
const PanelWidth = 16

// Epilogue says what Sgemm does with each result a·b + bias.
type Epilogue int

const (
	Store      Epilogue = iota // c = a·b + bias
	Accumulate                 // c += a·b + bias (a residual connection)
	GELU                       // c = gelu(a·b + bias), the exact (erf) GELU
)

// Sgemm computes the m×n block c = epilogue(a·b + bias) where
//   - a is m×k, row i at a[i*lda:], lda ≥ k;
//   - b is packed: ceil(n/16) panels of k×16 floats, column 16p+j of row kk at b[p*16k + 16kk + j];
//     columns past n in the last panel are ignored;
//   - c is m×n, row i at c[i*ldc:], ldc ≥ n;
//   - bias has n elements, or is nil for none.
//
// Sums are accumulated in float32 in increasing k; a variant may split k into blocks and add
// the blocks' sums in turn.
func Sgemm(m, n, k int, a []float32, lda int, b []float32, c []float32, ldc int, bias []float32, epi Epilogue) {
	SgemmPanels(m, n, k, a, lda, b, k, c, ldc, bias, epi)
}

// SgemmPanels is Sgemm over panels of bk ≥ k rows (b[p*16bk + 16kk + j]), of which it reads
// the first k: the layout of compiled weights (see PanelRows).
func SgemmPanels(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue) {
	if m <= 0 || n <= 0 {
		return
	}
	panels := (n + PanelWidth - 1) / PanelWidth
	if bk < k || len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+n || len(b) < (panels-1)*bk*PanelWidth+k*PanelWidth || (bias != nil && len(bias) < n) {
		panic(fmt.Sprintf("asm.Sgemm: slices too short for m=%d n=%d k=%d lda=%d ldc=%d (panels of %d rows)", m, n, k, lda, ldc, bk))
	}
	active.sgemm(m, n, k, a, lda, b, bk, c, ldc, bias, epi)
}

// PanelRows is the rows a panel of a compiled k-input matrix holds: k, but k + 1 where k rows
// of 64 bytes are a multiple of 4 KiB. The kernels read three or more panels at once, row kk of
// each; panels a multiple of 4 KiB apart put those rows in the same L1 set, with the same low
// 12 address bits, on which loads are first matched with earlier stores. Paired passes, k + 1
// rows over k, one of them a copy of the weights made at the start: with the copy padded,
// vitb14 0.9795 ± 0.0055 (40 pairs), vitl14 0.9761 ± 0.0067 (20), vits14 0.9881 ± 0.0101
// (100); with the copy unpadded (k + 1 the file's layout), vitb14 0.990 ± 0.004 and 1.003 ±
// 0.004 (60 and 40 pairs), vitl14 0.982 ± 0.007 (20), vits14 0.992 ± 0.004 (100).
func PanelRows(k int) int {
	if k%64 == 0 {
		return k + 1
	}
	return k
}

// Fetch is memory that SgemmFetch brings into L2 while it computes, for a step that reads
// it next: Runs runs of Lines cache lines (64 bytes, 16 floats) each, run r from Base[r·Stride]
// on. Done counts the lines already fetched; each SgemmFetch goes on from there and adds the
// lines it fetched, so that consecutive products can share out one Fetch.
type Fetch struct {
	Base                []float32
	Runs, Lines, Stride int
	Done                int
}

// left is the number of lines not yet fetched.
func (f *Fetch) left() int { return max(0, f.Runs*f.Lines-f.Done) }

// take hands the next lines, up to slots of them, to a kernel that fetches one line a slot:
// where it starts (Base[off]), the lines left in that run, the runs it touches (0: none), and
// in bytes the gap from the end of a run to the next and the runs' stride. It counts them done.
func (f *Fetch) take(slots int) (off, lines, runs, gap, stride int) {
	n := min(slots, f.left())
	if n <= 0 {
		return 0, 0, 0, 0, 0
	}
	r, l := f.Done/f.Lines, f.Done%f.Lines
	f.Done += n
	return r*f.Stride + l*PanelWidth, f.Lines - l, (l + n + f.Lines - 1) / f.Lines, 4*f.Stride - 64*f.Lines, 4 * f.Stride
}

// SgemmFetch is SgemmPanels that also fetches some of f's lines into L2 (prefetches: the
// result is SgemmPanels'), as many as its kernel's loops have room for, one every few k
// steps; a variant without such kernels fetches none.
func SgemmFetch(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue, f *Fetch) {
	if f != nil && (f.Lines <= 0 || f.Stride < 0 || len(f.Base) < (f.Runs-1)*f.Stride+f.Lines*PanelWidth) {
		panic(fmt.Sprintf("asm.SgemmFetch: %d floats do not hold %d runs of %d lines, %d floats apart", len(f.Base), f.Runs, f.Lines, f.Stride))
	}
	if f == nil || f.left() == 0 || active.sgemmFetch == nil {
		SgemmPanels(m, n, k, a, lda, b, bk, c, ldc, bias, epi)
		return
	}
	if m <= 0 || n <= 0 {
		return
	}
	if bk < k || len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+n || len(b) < ((n+PanelWidth-1)/PanelWidth-1)*bk*PanelWidth+k*PanelWidth || (bias != nil && len(bias) < n) {
		panic(fmt.Sprintf("asm.SgemmFetch: slices too short for m=%d n=%d k=%d lda=%d ldc=%d (panels of %d rows)", m, n, k, lda, ldc, bk))
	}
	active.sgemmFetch(m, n, k, a, lda, b, bk, c, ldc, bias, epi, f)
}

// Variant is one implementation of the kernels.
type Variant struct {
	Name      string // e.g. "generic", "avx2", "avx512", "neon"
	Available bool   // whether this CPU can run it
	TileRows  int    // rows × columns of the kernel's register tile: the engine splits the
	TileCols  int    // work at multiples of it (0: any)
	sgemm     func(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue)
	// sgemmFetch is sgemm that fetches lines of f (nil: the variant fetches nothing).
	sgemmFetch func(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue, f *Fetch)
}

var (
	variants = map[string]*Variant{}
	active   *Variant
)

// register adds a variant. Architecture files call it while package variables are
// initialised (var _ = register(...)), which happens before init chooses a variant.
func register(v *Variant) bool {
	variants[v.Name] = v
	return true
}

var _ = register(&Variant{Name: "generic", Available: true, TileRows: 4, TileCols: PanelWidth, sgemm: sgemmGeneric})

func init() {
	name := os.Getenv("VITC_KERNEL")
	if name == "" {
		name = best()
	}
	if err := Use(name); err != nil {
		fmt.Fprintf(os.Stderr, "vitc: VITC_KERNEL: %v; using %s\n", err, best())
		_ = Use(best())
	}
}

// best returns the fastest available variant.
func best() string {
	for _, n := range []string{"avx512", "avx2", "neon"} {
		if v, ok := variants[n]; ok && v.Available {
			return n
		}
	}
	return "generic"
}

// Use selects the kernel variant by name (VITC_KERNEL does the same at start-up). It is meant
// for start-up, tests and benchmarks: do not call it while kernels run.
func Use(name string) error {
	v, ok := variants[name]
	if !ok {
		return fmt.Errorf("no kernel variant %q (have %s)", name, strings.Join(Names(), ", "))
	}
	if !v.Available {
		return fmt.Errorf("kernel variant %q needs instructions this CPU does not have", name)
	}
	active = v
	useRows(name)
	useLowp(name) // GemmBF16 and GemmInt8 (see lowp.go)
	return nil
}

// Active is the name of the selected variant.
func Active() string { return active.Name }

// Tile is the selected variant's register tile, rows × columns (at least 1 × PanelWidth).
func Tile() (rows, cols int) {
	return max(active.TileRows, 1), max(active.TileCols, PanelWidth)
}

// Names lists every variant built into this binary, available or not.
func Names() []string {
	out := make([]string, 0, len(variants))
	for n := range variants {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Available lists the variants this CPU can run.
func Available() []string {
	var out []string
	for _, n := range Names() {
		if variants[n].Available {
			out = append(out, n)
		}
	}
	return out
}
