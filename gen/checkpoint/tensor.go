package checkpoint

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"

	"github.com/nlpodyssey/gopickle/types"
)

const (
	// maxDims bounds a tensor's rank; torch itself stops at 25 or so.
	maxDims = 64
	// maxNumel bounds a tensor's element count. A broadcast view (stride 0) may hold more
	// elements than its storage, so the storage's size alone does not bound it; the largest
	// humanlike-vits weight has 6.5 M elements.
	maxNumel = 1 << 34
	// maxStorageBytes bounds what a persistent id may claim before the file is consulted.
	maxStorageBytes = 1 << 46
)

// Tensor describes one tensor of a checkpoint: where its elements are, not the elements. It is a
// view: element (i0, i1, ...) is storage element Offset + i0*Strides[0] + i1*Strides[1] + ...
type Tensor struct {
	Name    string
	DType   DType
	Shape   []int
	Strides []int // in elements
	Offset  int   // storage offset, in elements

	st *storage
}

// source is the open checkpoint file that storages read from.
type source struct {
	path string
	// ra is the *os.File; tests wrap it to watch what is read.
	ra io.ReaderAt
}

// storage is one torch storage: a flat run of elements that tensors view.
type storage struct {
	key      string // the persistent id's key: the zip entry data/<key>, or the legacy list's
	class    string // torch.FloatStorage, ..., for messages
	dtype    DType
	elemSize int   // 0 for a class this package does not know
	numel    int64 // elements, as the persistent id says

	// A legacy storage view is a window of a root storage, rootOffset bytes in.
	root       *storage
	rootOffset int64

	// Where the bytes are, filled in when a model tensor needs them.
	located bool
	src     *source
	offset  int64 // file offset of byte 0, or offset in the inflated entry when deflated
	size    int64 // bytes available from offset
	deflate *deflatedEntry
}

// deflatedEntry is a compressed zip entry: torch never writes one, but a re-packed file may.
type deflatedEntry struct{ offset, size int64 }

// nbytes is the size the persistent id promises.
func (s *storage) nbytes() int64 { return s.numel * int64(s.elemSize) }

// readAt fills p with the storage's bytes from off on.
func (s *storage) readAt(p []byte, off int64) error {
	if off < 0 || int64(len(p)) > s.size-off {
		return fmt.Errorf("read of %d bytes at %d is outside storage %q of %d bytes", len(p), off, s.key, s.size)
	}
	if s.deflate == nil {
		n, err := s.src.ra.ReadAt(p, s.offset+off)
		if n == len(p) {
			return nil
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	// Inflate this entry only, up to the bytes wanted.
	zr := flate.NewReader(io.NewSectionReader(s.src.ra, s.deflate.offset, s.deflate.size))
	defer zr.Close()
	if _, err := io.CopyN(io.Discard, zr, s.offset+off); err != nil {
		return fmt.Errorf("inflating storage %q: %w", s.key, noEOF(err))
	}
	if _, err := io.ReadFull(zr, p); err != nil {
		return fmt.Errorf("inflating storage %q: %w", s.key, noEOF(err))
	}
	return nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// newTensor builds a tensor from the arguments of torch's _rebuild_tensor functions. It checks
// only the types; the view is checked against the storage once the tensor is known to belong to
// the model (see check).
func newTensor(storageArg, offsetArg, sizeArg, strideArg any, dtype DType) (*Tensor, error) {
	st, ok := storageArg.(*storage)
	if !ok {
		return nil, fmt.Errorf("storage argument is %s, not a storage", describe(storageArg))
	}
	offset, ok := toInt(offsetArg)
	if !ok {
		return nil, fmt.Errorf("storage offset is %s, not an int", describe(offsetArg))
	}
	shape, err := intList(sizeArg, "size")
	if err != nil {
		return nil, err
	}
	strides, err := intList(strideArg, "stride")
	if err != nil {
		return nil, err
	}
	if len(shape) != len(strides) {
		return nil, fmt.Errorf("size has %d dimensions but stride %d", len(shape), len(strides))
	}
	if dtype == 0 {
		dtype = st.dtype
	}
	return &Tensor{DType: dtype, Shape: shape, Strides: strides, Offset: offset, st: st}, nil
}

func intList(v any, what string) ([]int, error) {
	var items []any
	switch x := v.(type) {
	case *types.Tuple:
		items = *x
	case *types.List:
		items = *x
	default:
		return nil, fmt.Errorf("%s is %s, not a tuple", what, describe(v))
	}
	if len(items) > maxDims {
		return nil, fmt.Errorf("%s has %d dimensions, more than %d", what, len(items), maxDims)
	}
	out := make([]int, len(items))
	for i, item := range items {
		n, ok := toInt(item)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %s, not a 64-bit int", what, i, describe(item))
		}
		out[i] = n
	}
	return out, nil
}

// Numel returns the number of elements, the product of Shape.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// check verifies that the view fits in its storage, without overflow on absurd sizes, so that
// Float32 can trust it.
func (t *Tensor) check() error {
	numel := int64(1)
	for i, n := range t.Shape {
		if n < 0 {
			return fmt.Errorf("negative size %d in dimension %d", n, i)
		}
		if t.Strides[i] < 0 {
			return fmt.Errorf("negative stride %d in dimension %d (torch never saves one)", t.Strides[i], i)
		}
		if n != 0 && numel > maxNumel/int64(n) {
			return fmt.Errorf("shape %v has more than %d elements", t.Shape, int64(maxNumel))
		}
		numel *= int64(n)
	}
	if t.Offset < 0 {
		return fmt.Errorf("negative storage offset %d", t.Offset)
	}
	es := t.DType.Size()
	if numel == 0 || es == 0 || t.st.elemSize == 0 {
		// Nothing to read, or nothing this package can read.
		return nil
	}
	if _, err := t.span(); err != nil {
		return err
	}
	return nil
}

// span returns the index of the last storage element the view touches; check has ruled out
// negative sizes and strides. The bound is taken before each multiplication, so no intermediate
// can overflow.
func (t *Tensor) span() (int64, error) {
	avail := t.st.nbytes() / int64(t.DType.Size())
	last := int64(t.Offset)
	pastEnd := func() error {
		return fmt.Errorf("view (offset %d, shape %v, strides %v) reaches past the end of its storage "+
			"of %d %s elements (corrupt file)", t.Offset, t.Shape, t.Strides, avail, t.DType)
	}
	if last >= avail {
		return 0, pastEnd()
	}
	for i, n := range t.Shape {
		if n > 1 && t.Strides[i] > 0 {
			stride := int64(t.Strides[i])
			if stride > (avail-1-last)/int64(n-1) {
				return 0, pastEnd()
			}
			last += int64(n-1) * stride
		}
	}
	return last, nil
}

// Float32 reads the tensor's elements in row-major (C) order, honouring offset and strides, and
// widens float16, bfloat16 and float64 elements to float32. It reads only the bytes between the
// view's first and last element, straight from the file. It is safe to call from several
// goroutines at once, also on different tensors of one checkpoint.
func (t *Tensor) Float32() ([]float32, error) {
	if t.st == nil || !t.st.located {
		return nil, fmt.Errorf("checkpoint: tensor %q does not come from Checkpoint.Tensors", t.Name)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint %s: tensor %q: %s", t.st.src.path, t.Name, fmt.Sprintf(format, args...))
	}
	if !t.DType.isFloat() {
		return nil, fail("dtype %s cannot be read as float32 (only float32, float16, bfloat16 and float64 can)", t.DType)
	}
	if err := t.check(); err != nil {
		return nil, fail("%v", err)
	}
	numel := t.Numel()
	out := make([]float32, numel)
	if numel == 0 {
		return out, nil
	}
	last, err := t.span()
	if err != nil {
		return nil, fail("%v", err)
	}
	es := t.DType.Size()
	first := int64(t.Offset)
	buf := make([]byte, (last-first+1)*int64(es))
	if err := t.st.readAt(buf, first*int64(es)); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fail("file ends inside the tensor's data (truncated?): %v", err)
		}
		return nil, fail("%v", err)
	}
	if t.contiguous() {
		decodeFloats(out, buf, t.DType)
		return out, nil
	}
	t.gather(out, buf)
	return out, nil
}

func (t *Tensor) contiguous() bool {
	want := 1
	for i := len(t.Shape) - 1; i >= 0; i-- {
		if t.Shape[i] != 1 && t.Strides[i] != want {
			return false
		}
		want *= t.Shape[i]
	}
	return true
}

// gather copies a strided view out of buf, which starts at the view's first element. An odometer
// walks the outer dimensions; the innermost runs as one loop.
func (t *Tensor) gather(out []float32, buf []byte) {
	nd := len(t.Shape)
	es := t.DType.Size()
	inner, innerStride := t.Shape[nd-1], t.Strides[nd-1]
	idx := make([]int, nd)
	pos := 0 // element index relative to the first
	for o := 0; o < len(out); o += inner {
		if innerStride == 1 {
			decodeFloats(out[o:o+inner], buf[pos*es:], t.DType)
		} else {
			p := pos
			for j := 0; j < inner; j++ {
				out[o+j] = decodeFloat(buf[p*es:], t.DType)
				p += innerStride
			}
		}
		for k := nd - 2; k >= 0; k-- {
			idx[k]++
			pos += t.Strides[k]
			if idx[k] < t.Shape[k] {
				break
			}
			pos -= t.Strides[k] * t.Shape[k]
			idx[k] = 0
		}
	}
}
