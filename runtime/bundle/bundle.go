// Package bundle is the one-file deployment format: a program with a model's weights file
// appended, as `vitc build` writes it.
//
//	program       the executable, unchanged
//	zeros         up to a multiple of wfile.PageAlign, so that the weights can be mapped in place
//	weights       a vitc weights file (runtime/wfile), byte for byte
//	zeros         up to a multiple of 8
//	manifest      JSON (Manifest): the model, the weights' place and their CRC-32C per chunk
//	length        8 bytes, little-endian: the manifest's length
//	magic         8 bytes: "VITCBDL1"
//
// Loaders of every operating system ignore what lies past the program's last segment, so the
// file still runs; at start the program reads its own tail (Self), maps the weights where they
// lie and checks them against the manifest before using them (Open).
package bundle

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/vitc-dev/vitc/runtime/vit"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// Magic ends every bundle.
const Magic = "VITCBDL1"

// Format is the manifest's format version; a program refuses bundles of another.
const Format = 1

// Chunk is the number of weight bytes each CRC-32C covers: chunks are checked in parallel.
const Chunk = 4 << 20

const (
	footerSize  = 16
	maxManifest = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Manifest says what a bundle holds.
type Manifest struct {
	Format     int      `json:"format"`
	Model      string   `json:"model"`       // what it was built from: a model id or a file name
	Finetuned  bool     `json:"finetuned"`   // with a model id: the finetuned checkpoint
	Arch       string   `json:"arch"`        // the weights' architecture, e.g. "vitb14"
	DType      string   `json:"dtype"`       // the weights' precision (wfile.KeyDType)
	Target     string   `json:"target"`      // GOOS/GOARCH of the program
	Offset     int64    `json:"offset"`      // where the weights start in the file
	Size       int64    `json:"size"`        // the weights file's length
	DataSHA256 string   `json:"data_sha256"` // the weights' vitc.data_sha256 metadata
	Chunk      int64    `json:"chunk"`       // bytes per CRC
	CRC32C     []uint32 `json:"crc32c"`      // CRC-32C (Castagnoli) of each chunk of the weights
}

// Describe names the model for messages: "vitb14_1.0_1 (finetuned)".
func (m *Manifest) Describe() string {
	var notes []string
	if m.Finetuned {
		notes = append(notes, "finetuned")
	}
	if m.DType != "" && m.DType != "f32" {
		notes = append(notes, m.DType)
	}
	if len(notes) == 0 {
		return m.Model
	}
	return m.Model + " (" + strings.Join(notes, ", ") + ")"
}

// Write writes a bundle to w: the program read from program, then the weights (size bytes
// from weights) with m's fields for the model filled in by the caller (Model, Finetuned, Arch,
// DType, Target, DataSHA256); Write sets the rest. progress, if not nil, is told of each weight byte
// copied. It returns the manifest written.
func Write(w io.Writer, program io.Reader, weights io.Reader, size int64, m Manifest, progress func(n int64)) (*Manifest, error) {
	cw := &countWriter{w: w}
	if _, err := io.Copy(cw, program); err != nil {
		return nil, fmt.Errorf("copying the program: %w", err)
	}
	if cw.n == 0 {
		return nil, errors.New("the program is empty")
	}
	if err := cw.pad(wfile.PageAlign); err != nil {
		return nil, err
	}
	m.Format, m.Offset, m.Size, m.Chunk, m.CRC32C = Format, cw.n, size, Chunk, nil
	buf := make([]byte, Chunk)
	for done := int64(0); done < size; {
		n := min(int64(Chunk), size-done)
		if _, err := io.ReadFull(weights, buf[:n]); err != nil {
			return nil, fmt.Errorf("reading the weights: %w", err)
		}
		m.CRC32C = append(m.CRC32C, crc32.Checksum(buf[:n], castagnoli))
		if _, err := cw.Write(buf[:n]); err != nil {
			return nil, err
		}
		done += n
		if progress != nil {
			progress(n)
		}
	}
	if err := cw.pad(8); err != nil {
		return nil, err
	}
	js, err := json.Marshal(&m)
	if err != nil {
		return nil, err
	}
	var foot [footerSize]byte
	binary.LittleEndian.PutUint64(foot[:8], uint64(len(js)))
	copy(foot[8:], Magic)
	if _, err := cw.Write(append(js, foot[:]...)); err != nil {
		return nil, err
	}
	return &m, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// pad writes zeros up to the next multiple of align.
func (c *countWriter) pad(align int64) error {
	if r := c.n % align; r != 0 {
		_, err := c.Write(make([]byte, align-r))
		return err
	}
	return nil
}

// Bundle is a file that holds a bundle.
type Bundle struct {
	Path string
	Manifest
}

// Find reads the manifest at the end of path. It returns nil and no error when the file is not
// a bundle (does not end in Magic), and an error naming the file when it ends in Magic but the
// rest does not add up.
func Find(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < footerSize {
		return nil, nil
	}
	var foot [footerSize]byte
	if _, err := f.ReadAt(foot[:], size-footerSize); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if string(foot[8:]) != Magic {
		return nil, nil
	}
	damaged := func(format string, args ...any) (*Bundle, error) {
		return nil, fmt.Errorf("%s: damaged bundle: %s; build the file again with vitc build", path, fmt.Sprintf(format, args...))
	}
	n := binary.LittleEndian.Uint64(foot[:8])
	if n == 0 || n > maxManifest || int64(n) > size-footerSize {
		return damaged("manifest length %d", n)
	}
	js := make([]byte, n)
	if _, err := f.ReadAt(js, size-footerSize-int64(n)); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	b := &Bundle{Path: path}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b.Manifest); err != nil {
		return damaged("manifest: %v", err)
	}
	m := &b.Manifest
	if m.Format != Format {
		return nil, fmt.Errorf("%s: bundle format %d, this program reads format %d; build the file again with this version of vitc", path, m.Format, Format)
	}
	end := size - footerSize - int64(n)
	switch {
	case m.Offset <= 0 || m.Offset%wfile.PageAlign != 0:
		return damaged("weights offset %d is not a positive multiple of %d", m.Offset, wfile.PageAlign)
	case m.Size <= 0 || m.Size > end-m.Offset:
		return damaged("the weights [%d, %d) do not fit before the manifest at %d (file cut short?)", m.Offset, m.Offset+m.Size, end)
	case m.Chunk <= 0 || int64(len(m.CRC32C)) != (m.Size+m.Chunk-1)/m.Chunk:
		return damaged("%d checksums for %d bytes in chunks of %d", len(m.CRC32C), m.Size, m.Chunk)
	}
	return b, nil
}

// Self finds the bundle in the running executable: nil when it is a plain program.
func Self() (*Bundle, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program's file: %v", err)
	}
	return Find(exe)
}

// ErrChecksum is the error of a bundle whose weights differ from what was built.
var ErrChecksum = errors.New("weights damaged")

// Open loads the bundle's weights and checks them before a model runs on them: that they are
// for arch (the architecture the running program links), that they are the weights the
// manifest names, and that every chunk's CRC-32C matches (in parallel over the CPUs; this also
// brings the weights into memory, which the first forward pass needs anyway). The weights are
// read into memory or mapped as $VITC_WEIGHTS says (see wfile.Load).
func (b *Bundle) Open(arch string) (*vit.Model, error) {
	load, err := wfile.DefaultLoad()
	if err != nil {
		return nil, err
	}
	return b.OpenLoad(arch, load)
}

// OpenLoad is Open with the way of loading the weights given.
func (b *Bundle) OpenLoad(arch string, load wfile.Load) (*vit.Model, error) {
	if b.Arch != arch {
		return nil, fmt.Errorf("%s holds %s weights (%s) but this program runs %s only; build it with vitc build --model %s", b.Path, b.Arch, b.Describe(), arch, b.Model)
	}
	f, err := wfile.OpenSectionLoad(b.Path, b.Offset, b.Size, load)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*vit.Model, error) {
		f.Close()
		return nil, err
	}
	if got := f.Header.Meta[wfile.KeyArch]; got != arch {
		return fail(fmt.Errorf("%s: the weights inside are for %s, this program runs %s only; build the file again with vitc build", b.Path, got, arch))
	}
	if got := f.Header.Meta[wfile.KeyDataSHA256]; got != b.DataSHA256 {
		return fail(fmt.Errorf("%s: the weights inside are not the ones it was built with (%s): data SHA-256 %.12s…, built with %.12s…; build the file again with vitc build", b.Path, b.Describe(), got, b.DataSHA256))
	}
	if bad := verify(f.Mapped(), b.Chunk, b.CRC32C); bad >= 0 {
		return fail(fmt.Errorf("%s: %w: bytes [%d, %d) of the weights differ from what was built (CRC-32C); copy the file again or build it again", b.Path, ErrChecksum, int64(bad)*b.Chunk, min(int64(bad+1)*b.Chunk, b.Size)))
	}
	m, err := vit.New(f)
	if err != nil {
		return fail(err)
	}
	return m, nil
}

// verify checks data against a CRC-32C per chunk, on all CPUs, and returns the first chunk
// that differs, or -1.
func verify(data []byte, chunk int64, sums []uint32) int {
	if int64(len(data)) > int64(len(sums))*chunk || int64(len(data)) <= int64(len(sums)-1)*chunk {
		return 0
	}
	workers := min(runtime.GOMAXPROCS(0), len(sums))
	bad := make([]bool, len(sums))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(sums); i += workers {
				lo, hi := int64(i)*chunk, min(int64(i+1)*chunk, int64(len(data)))
				bad[i] = crc32.Checksum(data[lo:hi], castagnoli) != sums[i]
			}
		})
	}
	wg.Wait()
	for i, b := range bad {
		if b {
			return i
		}
	}
	return -1
}
