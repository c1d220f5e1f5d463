package pack

import (
	"bufio"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"github.com/vitc-dev/vitc/asm"
	"github.com/vitc-dev/vitc/gen/checkpoint"
	"github.com/vitc-dev/vitc/gen/interp"
	"github.com/vitc-dev/vitc/gen/layout"
	"github.com/vitc-dev/vitc/runtime/engine"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// BatchNormEps is the epsilon of the finetuned models' BatchNorm1d.
const BatchNormEps = 1e-6

// Source identifies the checkpoint in the weights file's metadata.
type Source struct {
	Name   string // file name shown to users
	SHA256 string // of the whole checkpoint file, hex
}

// Progress is told how many bytes of weights have been written out of the total.
type Progress func(done, total int64)

// Write compiles the analysed checkpoint into a weights file at path. The file appears only
// when it is complete: it is written to a temporary file in the same directory, synced, and
// renamed.
func Write(ck *checkpoint.Checkpoint, m *Model, src Source, path string, progress Progress) error {
	return write(m, src, path, progress, func(e layout.Entry) ([]float32, error) {
		data, err := tensorData(ck, m, e)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", ck.Path, e.Name, err)
		}
		return data, nil
	})
}

// Table is the tensor table of m's weights file, in m.DType, and the layout hash of its
// encoder part (what runtime/vit checks a file against).
func Table(m *Model) (tensors []wfile.Tensor, encoderHash string, err error) {
	c := m.Config
	dtype := cmp.Or(m.DType, engine.F32)
	es := layout.Full(c, m.Classes)
	if dtype == engine.F32 {
		return layout.Tensors(es), layout.Hash(layout.Encoder(c)), nil
	}
	a := &engine.Arch{Name: c.Name, Layout: layout.Name, Tensors: layout.Tensors(layout.Encoder(c))}
	enc, err := a.Table(dtype)
	if err != nil {
		return nil, "", err
	}
	var all []wfile.Tensor
	for _, t := range enc {
		if !strings.HasPrefix(t.Name, wfile.PadPrefix) {
			all = append(all, t)
		}
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name, "head.") {
			all = append(all, e.Tensor)
		}
	}
	return wfile.Plan(all), wfile.TableHash(layout.Name, enc), nil
}

// write writes the weights file of m, asking data for each float32 tensor of the layout
// (gen/layout) in file order; the blocks' matrices are converted to m.DType.
func write(m *Model, src Source, path string, progress Progress, data func(layout.Entry) ([]float32, error)) (err error) {
	c := m.Config
	dtype := cmp.Or(m.DType, engine.F32)
	tensors, hash, err := Table(m)
	if err != nil {
		return err
	}
	entries := map[string]layout.Entry{}
	for _, e := range layout.Full(c, m.Classes) {
		entries[e.Name] = e
	}
	meta := map[string]string{
		wfile.KeyMagic:        wfile.MagicValue,
		wfile.KeyVersion:      strconv.Itoa(wfile.Version),
		wfile.KeyArch:         c.Name,
		wfile.KeyEmbed:        strconv.Itoa(c.Embed),
		wfile.KeyDepth:        strconv.Itoa(c.Depth),
		wfile.KeyHeads:        strconv.Itoa(c.Heads),
		wfile.KeyImage:        strconv.Itoa(c.Image),
		wfile.KeyPatch:        strconv.Itoa(c.Patch),
		wfile.KeyMLP:          strconv.Itoa(c.MLP),
		wfile.KeyClasses:      strconv.Itoa(m.Classes),
		wfile.KeyLayout:       layout.Name,
		wfile.KeyLayoutHash:   hash,
		wfile.KeyDType:        dtype,
		wfile.KeySource:       src.Name,
		wfile.KeySourceSHA256: src.SHA256,
		wfile.KeySourceImage:  strconv.Itoa(m.SourceImage),
		// Filled in once the data has been written; the placeholder has the final length so
		// the header keeps its size.
		wfile.KeyDataSHA256: strings.Repeat("0", 64),
	}
	hdr := wfile.Header{Meta: meta, Tensors: tensors}
	prefix, err := wfile.Encode(hdr)
	if err != nil {
		return err
	}

	dir := filepath.Dir(path)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("writing weights: %v", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(prefix); err != nil {
		return fmt.Errorf("writing %s: %v", tmp, err)
	}
	sum := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, sum), 1<<20)
	total := hdr.DataSize()
	var done int64
	var scales []float32 // of the last int8 matrix, written after it
	var sums []int32
	for _, t := range tensors {
		var err error
		switch e, ok := entries[strings.TrimSuffix(strings.TrimSuffix(t.Name, engine.ScaleSuffix), engine.SumSuffix)]; {
		case strings.HasPrefix(t.Name, wfile.PadPrefix):
			_, err = w.Write(make([]byte, t.Size()))
		case !ok:
			return fmt.Errorf("internal error: no layout entry for %s", t.Name)
		case strings.HasSuffix(t.Name, engine.ScaleSuffix):
			err = writeWords(w, t, len(scales), func(i int) uint32 { return math.Float32bits(scales[i]) })
		case strings.HasSuffix(t.Name, engine.SumSuffix):
			err = writeWords(w, t, len(sums), func(i int) uint32 { return uint32(sums[i]) })
		default:
			values, derr := data(e)
			if derr != nil {
				return derr
			}
			switch t.DType {
			case "F32":
				err = writeWords(w, t, len(values), func(i int) uint32 { return math.Float32bits(values[i]) })
			case "BF16":
				err = writeBF16(w, t, asm.PackBF16(UnpackPanels(values, e.N, e.K), e.N, e.K))
			case "I8":
				var q []int8
				q, scales, sums = asm.PackInt8(UnpackPanels(values, e.N, e.K), e.N, e.K)
				err = writeI8(w, t, q)
			default:
				return fmt.Errorf("internal error: %s has dtype %s", t.Name, t.DType)
			}
		}
		if err != nil {
			return fmt.Errorf("writing %s: %v", tmp, err)
		}
		done += t.Size()
		if progress != nil {
			progress(done, total)
		}
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %v", tmp, err)
	}
	meta[wfile.KeyDataSHA256] = hex.EncodeToString(sum.Sum(nil))
	final, err := wfile.Encode(hdr)
	if err != nil {
		return err
	}
	if len(final) != len(prefix) {
		return fmt.Errorf("internal error: header changed size (%d → %d)", len(prefix), len(final))
	}
	if _, err = f.WriteAt(final, 0); err != nil {
		return fmt.Errorf("writing %s: %v", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %v", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %v", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing weights: %v", err)
	}
	return nil
}

// writeWords writes a tensor of n 4-byte little-endian words, word(i) each.
func writeWords(w io.Writer, t wfile.Tensor, n int, word func(i int) uint32) error {
	if int64(n)*4 != t.Size() {
		return fmt.Errorf("internal error: %s has %d values, layout wants %d bytes", t.Name, n, t.Size())
	}
	buf := make([]byte, 4*4096)
	for i := 0; i < n; i += 4096 {
		m := min(n-i, 4096)
		for j := range m {
			binary.LittleEndian.PutUint32(buf[4*j:], word(i+j))
		}
		if _, err := w.Write(buf[:4*m]); err != nil {
			return err
		}
	}
	return nil
}

func writeBF16(w io.Writer, t wfile.Tensor, v []uint16) error {
	if int64(len(v))*2 != t.Size() {
		return fmt.Errorf("internal error: %s has %d bfloat16 values, layout wants %d bytes", t.Name, len(v), t.Size())
	}
	buf := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(buf[2*i:], x)
	}
	_, err := w.Write(buf)
	return err
}

func writeI8(w io.Writer, t wfile.Tensor, v []int8) error {
	if int64(len(v)) != t.Size() {
		return fmt.Errorf("internal error: %s has %d int8 values, layout wants %d bytes", t.Name, len(v), t.Size())
	}
	_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)))
	return err
}

// tensorData makes one tensor of the weights file from the checkpoint.
func tensorData(ck *checkpoint.Checkpoint, m *Model, e layout.Entry) ([]float32, error) {
	read := func(name string) ([]float32, error) {
		t, ok := ck.Tensors[name]
		if !ok {
			return nil, fmt.Errorf("missing %s", name)
		}
		return t.Float32()
	}
	switch e.Kind {
	case layout.Pad:
		return nil, nil
	case layout.Vector:
		if e.Name == "head.bias" {
			_, b, err := head(ck, m, read)
			return b, err
		}
		return read(e.Source)
	case layout.PosEmbed:
		pos, err := read(e.Source)
		if err != nil {
			return nil, err
		}
		return resizePosEmbed(pos, m.Config.Embed, m.SourceImage/m.Config.Patch, m.Config.Grid()), nil
	case layout.Matrix:
		var w []float32
		var err error
		if e.Name == "head.weight" {
			w, _, err = head(ck, m, read)
		} else {
			w, err = read(e.Source)
		}
		if err != nil {
			return nil, err
		}
		return PackPanels(w, e.N, e.K), nil
	}
	return nil, fmt.Errorf("internal error: unknown kind %d", e.Kind)
}

// UnpackPanels is the inverse of PackPanels: the row-major (n, k) matrix of packed panels.
func UnpackPanels(p []float32, n, k int) []float32 {
	pw, rows := layout.PanelWidth, asm.PanelRows(k)
	out := make([]float32, n*k)
	for j := 0; j < n; j++ {
		base := (j/pw)*rows*pw + j%pw
		row := out[j*k : (j+1)*k]
		for kk := range row {
			row[kk] = p[base+kk*pw]
		}
	}
	return out
}

// PackPanels lays out a row-major (n, k) matrix in 16-wide column panels of asm.PanelRows(k)
// rows, the rows past k zero (see gen/layout).
func PackPanels(w []float32, n, k int) []float32 {
	pw, rows := layout.PanelWidth, asm.PanelRows(k)
	out := make([]float32, layout.Panels(n)*rows*pw)
	for j := 0; j < n; j++ {
		p, jj := j/pw, j%pw
		row := w[j*k : (j+1)*k]
		base := p * rows * pw
		for kk, v := range row {
			out[base+kk*pw+jj] = v
		}
	}
	return out
}

// head returns the classifier's weight (classes, D) and bias with the BatchNorm folded in:
// W·((x − μ)/√(σ²+ε)) + b = (W·s)·x + (b − (W·s)·μ) with s = 1/√(σ²+ε), computed in float64.
func head(ck *checkpoint.Checkpoint, m *Model, read func(string) ([]float32, error)) ([]float32, []float32, error) {
	if m.Head == LinearHead {
		w, err := read("head.weight")
		if err != nil {
			return nil, nil, err
		}
		b, err := read("head.bias")
		return w, b, err
	}
	w, err := read("head.1.weight")
	if err != nil {
		return nil, nil, err
	}
	b, err := read("head.1.bias")
	if err != nil {
		return nil, nil, err
	}
	mean, err := read("head.0.running_mean")
	if err != nil {
		return nil, nil, err
	}
	variance, err := read("head.0.running_var")
	if err != nil {
		return nil, nil, err
	}
	d := m.Config.Embed
	scale := make([]float64, d)
	for k := range scale {
		scale[k] = 1 / math.Sqrt(float64(variance[k])+BatchNormEps)
	}
	fw := make([]float32, len(w))
	fb := make([]float32, len(b))
	for c := 0; c < m.Classes; c++ {
		acc := float64(b[c])
		for k := 0; k < d; k++ {
			ws := float64(w[c*d+k]) * scale[k]
			fw[c*d+k] = float32(ws)
			acc -= ws * float64(mean[k])
		}
		fb[c] = float32(acc)
	}
	return fw, fb, nil
}

// resizePosEmbed keeps the class token's row and resizes the patch rows, seen as a D-channel
// g×g image, to newG×newG with PyTorch's bicubic interpolation, as the Python loader does.
func resizePosEmbed(pos []float32, d, g, newG int) []float32 {
	if g == newG {
		return pos
	}
	planes := make([]float32, d*g*g)
	for t := 0; t < g*g; t++ {
		for c := 0; c < d; c++ {
			planes[c*g*g+t] = pos[(1+t)*d+c]
		}
	}
	resized := interp.Bicubic(planes, d, g, g, newG, newG)
	out := make([]float32, (1+newG*newG)*d)
	copy(out, pos[:d])
	for t := 0; t < newG*newG; t++ {
		for c := 0; c < d; c++ {
			out[(1+t)*d+c] = resized[c*newG*newG+t]
		}
	}
	return out
}

// FileSHA256 hashes a file (a checkpoint's identity in the weights' metadata and caches).
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
