// Package npy reads and writes NumPy .npy files of float32 tensors.
//
// .npy is how vitc trades tensors with Python: reference activations and logits dumped
// from PyTorch for the whole-model tests, and embeddings or logits that vitc writes for
// NumPy users. The format is a magic string, a version, a Python-dict header (dtype, memory
// order, shape) and the raw data (numpy/lib/format.py; NEP 1).
//
// Read accepts what NumPy writes for float arrays: versions 1.0, 2.0 and 3.0; dtypes '<f4'
// and '>f4', which are returned unchanged, and '<f8', '>f8', '<f2', '>f2', which are
// converted to float32 (float64 rounded to nearest, as NumPy's astype(float32) does;
// float16 exactly); Fortran-ordered arrays, which are transposed into C (row-major) order;
// 0-d arrays (Shape is empty, Data has one value). Any other dtype, a malformed header,
// or data that does not match the shape is an error that says what is wrong; Read never
// panics, and it does not trust the header's sizes with memory: it allocates as the data
// arrives (ReadFile compares them with the file's size first).
//
// Write produces exactly what numpy.save (NumPy 1.22 and later) produces for a C-contiguous
// float32 array on a little-endian machine: version 1.0, dtype '<f4', fortran_order False,
// the header padded so that the data starts at a multiple of 64 bytes.
package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/vitc-dev/vitc/runtime/atomicfile"
)

// Array is a dense float32 tensor in C (row-major) order. An empty Shape is a 0-d array
// (a scalar, one value); len(Data) must equal the product of Shape.
type Array struct {
	Shape []int
	Data  []float32
}

const (
	magic    = "\x93NUMPY"
	preamble = len(magic) + 2 // magic and version bytes
	// align is where NumPy starts the data: a multiple of 64 bytes, which keeps it aligned
	// for any SIMD load when the file is mapped.
	align = 64
	// growthAxisMaxDigits is the spare space NumPy (>= 1.22) leaves after the header dict
	// so the first axis can grow in place; Write leaves it too, to write what np.save writes.
	growthAxisMaxDigits = 21
	// maxHeaderLen bounds the header that Read will load. NumPy's own np.load refuses
	// headers over 10000 bytes; a real one is under 200.
	maxHeaderLen = 1 << 20
	// maxDims is NumPy 2's limit on the number of dimensions (NumPy 1: 32).
	maxDims = 64
	// chunk is how many bytes are read or written at a time.
	chunk = 1 << 16
)

// dtype is one of the element types Read understands.
type dtype struct {
	descr     string // as in the header, e.g. "<f4"
	size      int    // bytes per element
	bigEndian bool
}

// header is what the preamble and the header dict say.
type header struct {
	major, minor int
	dtype        dtype
	fortran      bool
	shape        []int
	count        int   // elements: the product of shape
	dataOffset   int64 // bytes before the data
}

// Read reads one array from r. It reads exactly the array's bytes and no more, so several
// arrays written one after another to a stream (as repeated np.save calls to one file
// object do) can be read one after another.
func Read(r io.Reader) (*Array, error) {
	a, err := read(r, -1)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return a, nil
}

// ReadFile reads the .npy file at path. Unlike Read, it requires the file to end where the
// data ends. Errors name the file.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if !st.Mode().IsRegular() { // a pipe or device: its size says nothing
		size = -1
	}
	a, err := read(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// read decodes one array; size is the total size of the input, or -1 if unknown.
func read(r io.Reader, size int64) (*Array, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	dataBytes := int64(h.count) * int64(h.dtype.size) // no overflow: checked in readHeader
	if size >= 0 {
		if have := size - h.dataOffset; have != dataBytes {
			what := "truncated data"
			if have > dataBytes {
				what = "extra bytes after the data"
			}
			return nil, fmt.Errorf("%s: shape %s of %s needs %d bytes of data, the file has %d",
				what, shapeString(h.shape), pyQuote(h.dtype.descr), dataBytes, have)
		}
	}
	data, err := readData(r, h, size >= 0)
	if err != nil {
		return nil, err
	}
	if h.fortran {
		data = fortranToC(data, h.shape)
	}
	return &Array{Shape: h.shape, Data: data}, nil
}

func readHeader(r io.Reader, size int64) (*header, error) {
	var pre [preamble]byte
	if n, err := io.ReadFull(r, pre[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, errors.New("empty input, not a .npy file")
		}
		return nil, fmt.Errorf("truncated preamble (%d bytes): %w", n, io.ErrUnexpectedEOF)
	}
	if string(pre[:len(magic)]) != magic {
		return nil, fmt.Errorf("not a .npy file: starts with %q, want %q", pre[:len(magic)], magic)
	}
	h := &header{major: int(pre[6]), minor: int(pre[7])}
	var lenBytes int
	switch {
	case h.major == 1 && h.minor == 0:
		lenBytes = 2
	case (h.major == 2 || h.major == 3) && h.minor == 0:
		lenBytes = 4
	default:
		return nil, fmt.Errorf("format version %d.%d not supported (vitc reads 1.0, 2.0 and 3.0)", h.major, h.minor)
	}
	var lb [4]byte
	if n, err := io.ReadFull(r, lb[:lenBytes]); err != nil {
		return nil, fmt.Errorf("truncated header length (%d of %d bytes): %w", n, lenBytes, io.ErrUnexpectedEOF)
	}
	var hlen int64
	if lenBytes == 2 {
		hlen = int64(binary.LittleEndian.Uint16(lb[:]))
	} else {
		hlen = int64(binary.LittleEndian.Uint32(lb[:]))
	}
	h.dataOffset = int64(preamble+lenBytes) + hlen
	if size >= 0 && h.dataOffset > size {
		return nil, fmt.Errorf("truncated header: it says it is %d bytes, the file has %d after the preamble",
			hlen, size-int64(preamble+lenBytes))
	}
	if hlen > maxHeaderLen {
		return nil, fmt.Errorf("header length %d is over vitc's limit of %d bytes", hlen, maxHeaderLen)
	}
	raw := make([]byte, hlen)
	if n, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("truncated header (%d of %d bytes): %w", n, hlen, io.ErrUnexpectedEOF)
	}
	text := string(raw) // latin1 (1.0, 2.0) or UTF-8 (3.0); only ASCII matters outside strings
	dict, err := parseHeaderDict(text)
	if err != nil {
		return nil, err
	}
	if err := h.fromDict(dict); err != nil {
		return nil, err
	}
	return h, nil
}

// fromDict checks the header dict and fills in dtype, order and shape. Like NumPy, it
// wants exactly the keys descr, fortran_order and shape.
func (h *header) fromDict(d pyValue) error {
	for _, k := range d.keys {
		if k != "descr" && k != "fortran_order" && k != "shape" {
			return fmt.Errorf("header has an unknown key %q (want descr, fortran_order and shape)", k)
		}
	}
	descr, ok := d.get("descr")
	if !ok {
		return errors.New("header has no 'descr' (the dtype)")
	}
	order, ok := d.get("fortran_order")
	if !ok {
		return errors.New("header has no 'fortran_order'")
	}
	shape, ok := d.get("shape")
	if !ok {
		return errors.New("header has no 'shape'")
	}

	if descr.kind != pyStr {
		if descr.kind == pyList {
			return fmt.Errorf("dtype %s is a structured dtype, not supported: vitc reads float32 (also float64/float16, converted)", descr.text)
		}
		return fmt.Errorf("descr %s is not a dtype string", descr.text)
	}
	dt, err := parseDtype(descr.str)
	if err != nil {
		return err
	}
	h.dtype = dt

	if order.kind != pyBool {
		return fmt.Errorf("fortran_order is %s, want True or False", order.text)
	}
	h.fortran = order.truth

	if shape.kind != pyTuple && shape.kind != pyList {
		return fmt.Errorf("shape is %s, want a tuple of ints such as (2, 3)", shape.text)
	}
	if len(shape.items) > maxDims {
		return fmt.Errorf("shape has %d dimensions, more than %d", len(shape.items), maxDims)
	}
	h.shape = make([]int, len(shape.items))
	for i, d := range shape.items {
		if d.kind != pyInt {
			return fmt.Errorf("shape %s: dimension %d is %s, not an int", shape.text, i, d.text)
		}
		if d.num < 0 {
			return fmt.Errorf("shape %s: dimension %d is negative", shape.text, i)
		}
		if d.tooBig || d.num > math.MaxInt {
			return fmt.Errorf("shape %s: dimension %d is absurdly large", shape.text, i)
		}
		h.shape[i] = int(d.num)
	}
	count, ok := product(h.shape, h.dtype.size)
	if !ok {
		return fmt.Errorf("shape %s of %s is too large: its size overflows", shapeString(h.shape), pyQuote(h.dtype.descr))
	}
	h.count = count
	return nil
}

func parseDtype(descr string) (dtype, error) {
	unsupported := fmt.Errorf("dtype %s not supported: vitc reads float32 (also float64/float16, converted)", pyQuote(descr))
	if len(descr) != 3 || descr[1] != 'f' {
		return dtype{}, unsupported
	}
	var dt dtype
	switch descr[0] {
	case '<':
	case '>':
		dt.bigEndian = true
	case '|', '=':
		// '|' means "byte order does not apply", which is wrong for multi-byte floats,
		// and NumPy writes '<' or '>' explicitly rather than '=' (native).
		return dtype{}, fmt.Errorf("dtype %s: byte order %q is not valid for a float in a .npy file (want '<' or '>')", pyQuote(descr), descr[0])
	default:
		return dtype{}, unsupported
	}
	switch descr[2] {
	case '2', '4', '8':
		dt.size = int(descr[2] - '0')
	default:
		return dtype{}, unsupported
	}
	dt.descr = descr
	return dt, nil
}

// pyQuote writes s the way Python's repr writes a simple string, to echo header values.
func pyQuote(s string) string {
	q := strconv.Quote(s)
	return "'" + strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`) + "'"
}

// product returns the number of elements of shape, or false if it, or that many elements
// of elemSize bytes, does not fit in an int.
func product(shape []int, elemSize int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	if n > math.MaxInt/max(elemSize, 4) { // Data holds 4-byte floats
		return 0, false
	}
	return n, true
}

// shapeString writes shape as Python writes a tuple: (), (3,), (2, 3).
func shapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// readData reads h.count elements and converts them to float32. When the input's size is
// known it was already checked against the header, so all of Data is allocated at once;
// otherwise Data grows only as bytes arrive, so a header that lies about the shape cannot
// make Read allocate more than the input really holds.
func readData(r io.Reader, h *header, sizeChecked bool) ([]float32, error) {
	perChunk := chunk / h.dtype.size
	var data []float32
	if sizeChecked {
		data = make([]float32, 0, h.count)
	} else {
		data = make([]float32, 0, min(h.count, perChunk))
	}
	buf := make([]byte, min(h.count, perChunk)*h.dtype.size)
	for len(data) < h.count {
		n := min(h.count-len(data), perChunk)
		b := buf[:n*h.dtype.size]
		if got, err := io.ReadFull(r, b); err != nil {
			have := int64(len(data))*int64(h.dtype.size) + int64(got)
			return nil, fmt.Errorf("truncated data: shape %s of %s needs %d bytes, got %d: %w",
				shapeString(h.shape), pyQuote(h.dtype.descr), int64(h.count)*int64(h.dtype.size), have, io.ErrUnexpectedEOF)
		}
		data = decode(data, b, h.dtype)
	}
	return data, nil
}

// decode appends the float32 values of the elements in b.
func decode(dst []float32, b []byte, dt dtype) []float32 {
	var order binary.ByteOrder = binary.LittleEndian
	if dt.bigEndian {
		order = binary.BigEndian
	}
	switch dt.size {
	case 4:
		for i := 0; i < len(b); i += 4 {
			dst = append(dst, math.Float32frombits(order.Uint32(b[i:])))
		}
	case 8:
		for i := 0; i < len(b); i += 8 {
			dst = append(dst, float32(math.Float64frombits(order.Uint64(b[i:]))))
		}
	case 2:
		for i := 0; i < len(b); i += 2 {
			dst = append(dst, halfToFloat32(order.Uint16(b[i:])))
		}
	}
	return dst
}

// halfToFloat32 converts IEEE binary16 to float32 exactly. NaN payloads are kept, shifted
// into the top of float32's mantissa as NumPy's npy_halfbits_to_floatbits does.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero, subnormal: mant * 2^-24, a normal float32
		return math.Float32frombits(sign | math.Float32bits(float32(mant)*(1.0/(1<<24))))
	default: // rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// fortranToC reorders column-major data (the first index varies fastest) into row-major.
func fortranToC(data []float32, shape []int) []float32 {
	if len(shape) < 2 || len(data) == 0 {
		return data
	}
	// fstride[k] is how far apart consecutive values of index k are in Fortran order.
	fstride := make([]int, len(shape))
	s := 1
	for k, d := range shape {
		fstride[k] = s
		s *= d
	}
	out := make([]float32, len(data))
	idx := make([]int, len(shape)) // C-order odometer; the last index varies fastest
	src := 0
	for i := range out {
		out[i] = data[src]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			src += fstride[k]
			if idx[k] < shape[k] {
				break
			}
			src -= fstride[k] * shape[k]
			idx[k] = 0
		}
	}
	return out
}

// Write writes a as a version 1.0 .npy file with dtype '<f4' in C order, byte for byte
// what numpy.save writes for the same float32 array.
func Write(w io.Writer, a *Array) error {
	if err := a.check(); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	if err := write(w, a); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

func (a *Array) check() error {
	if a == nil {
		return errors.New("nil *Array")
	}
	if len(a.Shape) > maxDims {
		return fmt.Errorf("shape has %d dimensions, more than %d", len(a.Shape), maxDims)
	}
	for i, d := range a.Shape {
		if d < 0 {
			return fmt.Errorf("shape %s: dimension %d is negative", shapeString(a.Shape), i)
		}
	}
	n, ok := product(a.Shape, 4)
	if !ok {
		return fmt.Errorf("shape %s is too large: its size overflows", shapeString(a.Shape))
	}
	if n != len(a.Data) {
		return fmt.Errorf("shape %s holds %d values, Data has %d", shapeString(a.Shape), n, len(a.Data))
	}
	return nil
}

// encodeHeader returns the preamble and header that numpy.save writes (numpy/lib/format.py
// _write_array_header and _wrap_header, version 1.0).
func encodeHeader(shape []int) []byte {
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeString(shape) + ", }"
	if len(shape) > 0 {
		dict += strings.Repeat(" ", max(0, growthAxisMaxDigits-len(strconv.Itoa(shape[0]))))
	}
	hlen := len(dict) + 1 // the final newline
	pad := align - (preamble+2+hlen)%align
	b := make([]byte, 0, preamble+2+hlen+pad)
	b = append(b, magic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen+pad))
	b = append(b, dict...)
	for range pad {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

func write(w io.Writer, a *Array) error {
	if _, err := w.Write(encodeHeader(a.Shape)); err != nil {
		return err
	}
	buf := make([]byte, 0, min(len(a.Data)*4, chunk))
	for i := 0; i < len(a.Data); {
		buf = buf[:0]
		for ; i < len(a.Data) && len(buf) < cap(buf); i++ {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(a.Data[i]))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes a to path as Write does, atomically: it writes a temporary file in the
// same directory, syncs it to disk and renames it over path, so path holds either its old
// contents or the whole new array, never part of it, even if vitc or the machine stops
// midway. A new file gets mode 0644; an existing file keeps its mode.
func WriteFile(path string, a *Array) error {
	if err := a.check(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return write(w, a) }); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
