// Package wfile is vitc's weights file: a safetensors file whose tensors are already in the
// layout the kernels read, read into memory or mapped read-only at run time (see Load).
//
// The container is safetensors, so standard tools can open it:
//
//	8 bytes      little-endian length N of the header
//	N bytes      JSON header: "__metadata__" (string → string) and, per tensor,
//	             {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
//	             padded with spaces so that the data starts at a multiple of 64 bytes
//	data         the tensors, back to back, each starting at a multiple of 64 bytes
//
// safetensors forbids holes in the data, so where a tensor's size is not a multiple of 64
// bytes a U8 tensor named "__pad__.<k>" fills the gap. vitc's own facts live in the metadata
// under "vitc" keys (see the Key constants); a file without them is refused, as is a file
// whose header disagrees with its size: everything is checked before the data is touched, so
// a truncated file is an error and never a SIGBUS.
package wfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Format facts. Version changes whenever the meaning of the bytes changes (layout, packing,
// metadata); a runtime refuses files of another version.
const (
	Version   = 1
	Align     = 64
	MaxHeader = 64 << 20 // larger headers are refused before being read
	PadPrefix = "__pad__."
)

// Metadata keys.
const (
	KeyMagic        = "vitc"             // always "weights"
	KeyVersion      = "vitc.version"     // Version
	KeyArch         = "vitc.arch"        // architecture name, e.g. "vith14@448"
	KeyEmbed        = "vitc.embed"       // D
	KeyDepth        = "vitc.depth"       // blocks
	KeyHeads        = "vitc.heads"       // attention heads
	KeyImage        = "vitc.image"       // input side in pixels
	KeyPatch        = "vitc.patch"       // patch side in pixels
	KeyMLP          = "vitc.mlp"         // MLP hidden width
	KeyClasses      = "vitc.classes"     // classifier outputs, "0" for a pretrained encoder
	KeyLayout       = "vitc.layout"      // name of the tensor layout, e.g. "panel16pad"
	KeyLayoutHash   = "vitc.layout_hash" // SHA-256 of the encoder's tensor table
	KeySource       = "vitc.source"      // file name of the checkpoint
	KeySourceSHA256 = "vitc.source_sha256"
	KeySourceImage  = "vitc.source_image" // image size the checkpoint was trained at
	KeyDataSHA256   = "vitc.data_sha256"  // SHA-256 of the data section
	KeyDType        = "vitc.dtype"        // precision of the blocks' matrices: f32 (also when absent), bf16, int8
	MagicValue      = "weights"
)

// Tensor is one entry of the header. Begin and End are byte offsets into the data section.
type Tensor struct {
	Name  string
	DType string // safetensors dtype: "F32", "U8", ...
	Shape []int
	Begin int64
	End   int64
}

// Size is the tensor's byte length.
func (t Tensor) Size() int64 { return t.End - t.Begin }

// Header is the parsed header: the metadata and the tensors in data order.
type Header struct {
	Meta    map[string]string
	Tensors []Tensor
}

// Int returns an integer metadata value.
func (h *Header) Int(key string) (int, error) {
	v, ok := h.Meta[key]
	if !ok {
		return 0, fmt.Errorf("metadata %q missing", key)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("metadata %q = %q is not an integer", key, v)
	}
	return n, nil
}

// Tensor returns the named tensor.
func (h *Header) Tensor(name string) (Tensor, bool) {
	for _, t := range h.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// DataSize is the length of the data section the header describes.
func (h *Header) DataSize() int64 {
	if len(h.Tensors) == 0 {
		return 0
	}
	return h.Tensors[len(h.Tensors)-1].End
}

var dtypeSize = map[string]int64{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}

// DTypeSize returns the size in bytes of a safetensors dtype, 0 if unknown.
func DTypeSize(dtype string) int64 { return dtypeSize[dtype] }

// Encode returns the file's prefix: the length word and the padded JSON header. Tensors must
// already carry their offsets (see Plan).
func Encode(h Header) ([]byte, error) {
	var js bytes.Buffer
	js.WriteString(`{"__metadata__":{`)
	keys := make([]string, 0, len(h.Meta))
	for k := range h.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			js.WriteByte(',')
		}
		writeJSONString(&js, k)
		js.WriteByte(':')
		writeJSONString(&js, h.Meta[k])
	}
	js.WriteByte('}')
	for _, t := range h.Tensors {
		js.WriteByte(',')
		writeJSONString(&js, t.Name)
		fmt.Fprintf(&js, `:{"dtype":%q,"shape":[`, t.DType)
		for i, d := range t.Shape {
			if i > 0 {
				js.WriteByte(',')
			}
			js.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&js, `],"data_offsets":[%d,%d]}`, t.Begin, t.End)
	}
	js.WriteByte('}')
	n := js.Len()
	if pad := (8 + n) % Align; pad != 0 {
		js.Write(bytes.Repeat([]byte{' '}, Align-pad))
	}
	out := make([]byte, 8, 8+js.Len())
	binary.LittleEndian.PutUint64(out, uint64(js.Len()))
	return append(out, js.Bytes()...), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

// Plan assigns offsets to tensors given in order (their Begin/End ignored), inserting U8 pad
// tensors so that every tensor starts at a multiple of Align.
func Plan(tensors []Tensor) []Tensor {
	var out []Tensor
	var off int64
	pads := 0
	for _, t := range tensors {
		if r := off % Align; r != 0 {
			n := Align - r
			out = append(out, Tensor{Name: PadPrefix + strconv.Itoa(pads), DType: "U8", Shape: []int{int(n)}, Begin: off, End: off + n})
			pads++
			off += n
		}
		size := DTypeSize(t.DType)
		for _, d := range t.Shape {
			size *= int64(d)
		}
		t.Begin, t.End = off, off+size
		off += size
		out = append(out, t)
	}
	return out
}

// ErrNotWeights marks files that are not vitc weights files at all (as opposed to damaged ones).
var ErrNotWeights = errors.New("not a vitc weights file")

// ReadHeader reads and checks the header of a weights file of the given size. It checks
// everything that can be checked without reading the data: that the header fits, that the
// tensors tile the data section exactly, and that the data section ends where the file
// ends. name is used in messages.
func ReadHeader(r io.ReaderAt, size int64, name string) (Header, int64, error) {
	fail := func(format string, args ...any) (Header, int64, error) {
		return Header{}, 0, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
	var word [8]byte
	if size < 8 {
		return Header{}, 0, fmt.Errorf("%s: %w (%d bytes, too short for a safetensors header)", name, ErrNotWeights, size)
	}
	if _, err := r.ReadAt(word[:], 0); err != nil {
		return fail("reading header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(word[:])
	if n < 2 || n > MaxHeader {
		return Header{}, 0, fmt.Errorf("%s: %w (header length %d is not plausible)", name, ErrNotWeights, n)
	}
	if int64(n) > size-8 {
		return fail("truncated: the header says %d bytes but the file has %d; the file was cut short, compile it again", n, size-8)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 8); err != nil {
		return fail("reading header: %v", err)
	}
	h, err := parseJSON(buf)
	if err != nil {
		return Header{}, 0, fmt.Errorf("%s: %w (header: %v)", name, ErrNotWeights, err)
	}
	dataStart := int64(8 + n)
	var off int64
	for _, t := range h.Tensors {
		if t.Begin != off {
			return fail("tensor %q starts at %d, expected %d (holes or overlaps in the data)", t.Name, t.Begin, off)
		}
		off = t.End
	}
	if want := size - dataStart; off != want {
		if off > want {
			return fail("truncated: the header describes %d bytes of data but the file holds %d; the file was cut short, compile it again", off, want)
		}
		return fail("%d bytes of trailing data after the last tensor", want-off)
	}
	if h.Meta[KeyMagic] != MagicValue {
		return Header{}, 0, fmt.Errorf("%s: %w (a safetensors file without vitc metadata); make one with `vitc compile`", name, ErrNotWeights)
	}
	if v := h.Meta[KeyVersion]; v != strconv.Itoa(Version) {
		return fail("weights format version %q, this vitc reads version %d; compile the checkpoint again with this vitc", v, Version)
	}
	if dataStart%Align != 0 {
		return fail("data starts at %d, not a multiple of %d", dataStart, Align)
	}
	for _, t := range h.Tensors {
		if t.DType != "U8" && t.Begin%Align != 0 {
			return fail("tensor %q at offset %d is not %d-byte aligned", t.Name, t.Begin, Align)
		}
	}
	return h, dataStart, nil
}

func parseJSON(buf []byte) (Header, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimRight(buf, " "), &raw); err != nil {
		return Header{}, err
	}
	h := Header{Meta: map[string]string{}}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &h.Meta); err != nil {
			return Header{}, fmt.Errorf("__metadata__: %v", err)
		}
		delete(raw, "__metadata__")
	}
	for name, msg := range raw {
		var e struct {
			DType   string  `json:"dtype"`
			Shape   []int   `json:"shape"`
			Offsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			return Header{}, fmt.Errorf("tensor %q: %v", name, err)
		}
		size := DTypeSize(e.DType)
		if size == 0 {
			return Header{}, fmt.Errorf("tensor %q: unknown dtype %q", name, e.DType)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] {
			return Header{}, fmt.Errorf("tensor %q: bad data_offsets %v", name, e.Offsets)
		}
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && size > math.MaxInt64/int64(d)) {
				return Header{}, fmt.Errorf("tensor %q: bad shape %v", name, e.Shape)
			}
			size *= int64(d)
		}
		if size != e.Offsets[1]-e.Offsets[0] {
			return Header{}, fmt.Errorf("tensor %q: shape %v %s needs %d bytes, offsets give %d", name, e.Shape, e.DType, size, e.Offsets[1]-e.Offsets[0])
		}
		h.Tensors = append(h.Tensors, Tensor{Name: name, DType: e.DType, Shape: e.Shape, Begin: e.Offsets[0], End: e.Offsets[1]})
	}
	sort.Slice(h.Tensors, func(i, j int) bool {
		a, b := h.Tensors[i], h.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End
	})
	return h, nil
}

// File is an open weights file with its bytes in memory, read-only (see Load).
type File struct {
	Path      string
	Header    Header
	DataStart int64
	Load      Load // how the bytes came into memory
	mapping   []byte
	closer    func() error
}

// Open reads and checks the header, then brings the file into memory as DefaultLoad says.
func Open(path string) (*File, error) { return OpenSection(path, 0, -1) }

// OpenSection is Open of a weights file stored inside another file: the size bytes at offset
// off of path (size < 0: up to the end), e.g. the weights that `vitc build` appends to a
// program. off must be a multiple of the page size (PageAlign is one on every platform vitc
// builds for), because the section may be mapped where it lies.
func OpenSection(path string, off, size int64) (*File, error) {
	load, err := DefaultLoad()
	if err != nil {
		return nil, err
	}
	return OpenSectionLoad(path, off, size, load)
}

// OpenSectionLoad is OpenSection with the Load given rather than taken from the environment.
func OpenSectionLoad(path string, off, size int64, load Load) (*File, error) {
	if load != Copy && load != Map {
		return nil, fmt.Errorf("%s: unknown way to load weights %q (want %q or %q)", path, load, Copy, Map)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if size < 0 {
		size = st.Size() - off
	}
	if off < 0 || size < 0 || off > st.Size() || size > st.Size()-off {
		return nil, fmt.Errorf("%s: the weights at [%d, %d) lie outside the file's %d bytes; the file was cut short", path, off, off+size, st.Size())
	}
	if off%int64(os.Getpagesize()) != 0 {
		return nil, fmt.Errorf("%s: weights at offset %d are not page-aligned", path, off)
	}
	h, start, err := ReadHeader(io.NewSectionReader(f, off, size), size, path)
	if err != nil {
		return nil, err
	}
	var m []byte
	var closer func() error
	if load == Copy {
		if m, closer, err = copyFile(f, off, size); err != nil {
			return nil, fmt.Errorf("%s: reading the weights into memory: %v (%s=%s maps the file instead)", path, err, EnvLoad, Map)
		}
	} else if m, closer, err = mapFile(f, off, size); err != nil {
		return nil, fmt.Errorf("%s: mapping: %v", path, err)
	}
	return &File{Path: path, Header: h, DataStart: start, Load: load, mapping: m, closer: closer}, nil
}

// PageAlign is an alignment that is a multiple of the page size of every platform vitc runs
// on (4 KiB, 16 KiB on Apple silicon, 64 KiB on some arm64 Linux kernels).
const PageAlign = 64 << 10

// Mapped returns the whole file (or section) as it is in memory: header and data.
func (f *File) Mapped() []byte { return f.mapping }

// Data returns the data section.
func (f *File) Data() []byte { return f.mapping[f.DataStart:] }

// Bytes returns one tensor's bytes.
func (f *File) Bytes(t Tensor) []byte { return f.Data()[t.Begin:t.End] }

// Close unmaps the file or frees its copy. No slice obtained from it may be used afterwards.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer()
	f.closer, f.mapping = nil, nil
	return err
}

// TableHash fingerprints a tensor table: the layout's name, the format version, and each
// tensor's name, dtype, shape and offsets. A generated package and a weights file agree on
// the layout iff their hashes do.
func TableHash(layout string, ts []Tensor) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s v%d\n", layout, Version)
	for _, t := range ts {
		fmt.Fprintf(h, "%s %s %v %d %d\n", t.Name, t.DType, t.Shape, t.Begin, t.End)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Describe is a short human-readable summary of the metadata, for messages.
func (h *Header) Describe() string {
	var parts []string
	for _, k := range []string{KeyArch, KeyImage, KeyClasses, KeySource} {
		if v, ok := h.Meta[k]; ok {
			parts = append(parts, strings.TrimPrefix(k, "vitc.")+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
