package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// Limits on what a pickle may ask for. gopickle allocates whatever length an opcode announces
// before reading it, and decodes long integers in quadratic time, so a corrupt length could
// exhaust memory (a fatal error, beyond recover) or time. scanPickle enforces these limits before
// gopickle sees a byte.
const (
	// maxPickleBytes bounds one pickle held in memory. A checkpoint's pickles describe tensors
	// in about a hundred bytes each; a vith14 file with its optimizer needs well under 1 MiB.
	maxPickleBytes = 256 << 20
	// maxLineBytes bounds the text arguments of protocol-0 opcodes (GLOBAL's module and name, INT,
	// FLOAT, ...).
	maxLineBytes = 64 << 10
	// maxLongBytes bounds the two's-complement bytes of one LONG1/LONG4 integer.
	maxLongBytes = 1 << 10
)

// How each pickle opcode's argument is laid out, as in CPython's pickletools.
const (
	argInvalid  = iota // not an opcode
	argNone            // no argument
	argFixed           // n bytes
	argLine            // one newline-terminated line
	argTwoLines        // two lines (GLOBAL, INST)
	argCounted         // an n-byte little-endian length, then that many bytes
	argLong            // like argCounted, for LONG1/LONG4: bounded by maxLongBytes, not empty
	argFrame           // an 8-byte frame length; the frame's opcodes follow as usual
)

type opcodeArg struct {
	kind uint8
	n    uint8 // bytes of a fixed argument or of a length
}

// opcodeArgs lists the opcodes of pickle protocols 0 to 5 (CPython's pickletools.opcodes).
var opcodeArgs = [256]opcodeArg{
	'(':  {argNone, 0},     // MARK
	'.':  {argNone, 0},     // STOP
	'0':  {argNone, 0},     // POP
	'1':  {argNone, 0},     // POP_MARK
	'2':  {argNone, 0},     // DUP
	'N':  {argNone, 0},     // NONE
	'R':  {argNone, 0},     // REDUCE
	'Q':  {argNone, 0},     // BINPERSID
	'a':  {argNone, 0},     // APPEND
	'b':  {argNone, 0},     // BUILD
	'd':  {argNone, 0},     // DICT
	'}':  {argNone, 0},     // EMPTY_DICT
	'e':  {argNone, 0},     // APPENDS
	'l':  {argNone, 0},     // LIST
	']':  {argNone, 0},     // EMPTY_LIST
	'o':  {argNone, 0},     // OBJ
	's':  {argNone, 0},     // SETITEM
	't':  {argNone, 0},     // TUPLE
	')':  {argNone, 0},     // EMPTY_TUPLE
	'u':  {argNone, 0},     // SETITEMS
	0x81: {argNone, 0},     // NEWOBJ
	0x85: {argNone, 0},     // TUPLE1
	0x86: {argNone, 0},     // TUPLE2
	0x87: {argNone, 0},     // TUPLE3
	0x88: {argNone, 0},     // NEWTRUE
	0x89: {argNone, 0},     // NEWFALSE
	0x8f: {argNone, 0},     // EMPTY_SET
	0x90: {argNone, 0},     // ADDITEMS
	0x91: {argNone, 0},     // FROZENSET
	0x92: {argNone, 0},     // NEWOBJ_EX
	0x93: {argNone, 0},     // STACK_GLOBAL
	0x94: {argNone, 0},     // MEMOIZE
	0x97: {argNone, 0},     // NEXT_BUFFER
	0x98: {argNone, 0},     // READONLY_BUFFER
	'I':  {argLine, 0},     // INT
	'L':  {argLine, 0},     // LONG
	'F':  {argLine, 0},     // FLOAT
	'S':  {argLine, 0},     // STRING
	'V':  {argLine, 0},     // UNICODE
	'P':  {argLine, 0},     // PERSID
	'g':  {argLine, 0},     // GET
	'p':  {argLine, 0},     // PUT
	'c':  {argTwoLines, 0}, // GLOBAL
	'i':  {argTwoLines, 0}, // INST
	'J':  {argFixed, 4},    // BININT
	'K':  {argFixed, 1},    // BININT1
	'M':  {argFixed, 2},    // BININT2
	'G':  {argFixed, 8},    // BINFLOAT
	'h':  {argFixed, 1},    // BINGET
	'j':  {argFixed, 4},    // LONG_BINGET
	'q':  {argFixed, 1},    // BINPUT
	'r':  {argFixed, 4},    // LONG_BINPUT
	0x80: {argFixed, 1},    // PROTO
	0x82: {argFixed, 1},    // EXT1
	0x83: {argFixed, 2},    // EXT2
	0x84: {argFixed, 4},    // EXT4
	'T':  {argCounted, 4},  // BINSTRING (signed length)
	'U':  {argCounted, 1},  // SHORT_BINSTRING
	'B':  {argCounted, 4},  // BINBYTES
	'C':  {argCounted, 1},  // SHORT_BINBYTES
	'X':  {argCounted, 4},  // BINUNICODE
	0x8c: {argCounted, 1},  // SHORT_BINUNICODE
	0x8d: {argCounted, 8},  // BINUNICODE8
	0x8e: {argCounted, 8},  // BINBYTES8
	0x96: {argCounted, 8},  // BYTEARRAY8
	0x8a: {argLong, 1},     // LONG1
	0x8b: {argLong, 4},     // LONG4 (signed length)
	0x95: {argFrame, 8},    // FRAME
}

// errNoStop marks a pickle that ends (or hits the end of the file) before its STOP opcode.
var errNoStop = errors.New("pickle ends before its STOP opcode (truncated file?)")

// scanReadAhead is how far scanPickle may read past the end of a pickle. Storage data follow the
// last pickle of a legacy file, so this bounds what Open reads of them.
const scanReadAhead = 4096

// scanPickle walks the opcodes of the pickle that r yields from file offset start on (limit is
// the offset of the end of the bytes available), without building anything. It checks every
// announced length against the bytes that remain and returns the offset just past the pickle's
// STOP opcode. Legacy files hold several pickles back to back, so this is also how their
// boundaries are found.
func scanPickle(r io.Reader, start, limit int64) (int64, error) {
	if limit-start > maxPickleBytes {
		limit = start + maxPickleBytes
	}
	br := bufio.NewReaderSize(io.LimitReader(r, limit-start), scanReadAhead)
	pos := start
	discard := func(n int64) error {
		m, err := br.Discard(int(n))
		pos += int64(m)
		if err != nil {
			return noStop(err)
		}
		return nil
	}
	line := func() error {
		for n := 0; n < maxLineBytes; n++ {
			b, err := br.ReadByte()
			if err != nil {
				return noStop(err)
			}
			pos++
			if b == '\n' {
				return nil
			}
		}
		return fmt.Errorf("pickle text argument at offset %d is longer than %d bytes", pos, maxLineBytes)
	}
	for {
		at := pos
		op, err := br.ReadByte()
		if err != nil {
			return 0, noStop(err)
		}
		pos++
		a := opcodeArgs[op]
		switch a.kind {
		case argInvalid:
			return 0, fmt.Errorf("invalid pickle opcode 0x%02x at offset %d", op, at)
		case argNone:
			if op == '.' {
				return pos, nil
			}
		case argFixed:
			err = discard(int64(a.n))
		case argLine:
			err = line()
		case argTwoLines:
			if err = line(); err == nil {
				err = line()
			}
		case argCounted, argLong, argFrame:
			var buf [8]byte
			if _, err = io.ReadFull(br, buf[:a.n]); err != nil {
				return 0, noStop(err)
			}
			pos += int64(a.n)
			n := binary.LittleEndian.Uint64(buf[:])
			if a.n == 4 && (op == 'T' || op == 0x8b) && n >= 1<<31 {
				return 0, fmt.Errorf("negative length in pickle opcode 0x%02x at offset %d", op, at)
			}
			switch {
			case n > uint64(limit-pos):
				return 0, fmt.Errorf("pickle opcode 0x%02x at offset %d announces %d bytes, "+
					"but only %d remain (truncated file?)", op, at, n, limit-pos)
			case a.kind == argLong && (n == 0 || n > maxLongBytes):
				return 0, fmt.Errorf("pickle integer at offset %d has %d bytes", at, n)
			case a.kind != argFrame:
				err = discard(int64(n))
			}
		}
		if err != nil {
			return 0, err
		}
	}
}

func noStop(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errNoStop
	}
	return err
}

// loadPickle reads the pickle at [start, limit) of r into memory and unpickles it. It returns the
// object and the offset just past the pickle. The bytes are read once, as the scan goes.
func loadPickle(r io.ReaderAt, start, limit int64, persistentLoad func(any) (any, error)) (any, int64, error) {
	var seen bytes.Buffer
	end, err := scanPickle(io.TeeReader(io.NewSectionReader(r, start, limit-start), &seen), start, limit)
	if err != nil {
		return nil, 0, err
	}
	v, err := unpickle(seen.Bytes()[:end-start], persistentLoad)
	return v, end, err
}

// unpickle runs gopickle's machine over a pickle that scanPickle has accepted. gopickle still
// panics on some malformed streams (a DICT with an odd item count, a set of unhashable values),
// which the recover turns into an error.
func unpickle(data []byte, persistentLoad func(any) (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			// Print only the panic's own message: a pickled value's String method may recurse
			// forever on the cycles a pickle can build.
			msg := fmt.Sprintf("%T", r)
			if e, ok := r.(error); ok {
				msg = e.Error()
			}
			v, err = nil, fmt.Errorf("malformed pickle (%s)", msg)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = findClass
	u.PersistentLoad = persistentLoad
	if persistentLoad == nil {
		u.PersistentLoad = func(any) (any, error) {
			return nil, errors.New("unexpected persistent id in a header pickle")
		}
	}
	return u.Load()
}

// pyClass is a class or function that has no meaning here. Calling or instantiating it builds a
// pyObject, so that whatever a checkpoint holds besides tensors (argparse.Namespace, numpy
// scalars, a training script's own classes) parses.
type pyClass struct{ module, name string }

func (c *pyClass) String() string { return c.module + "." + c.name }

func (c *pyClass) Call(args ...any) (any, error)  { return &pyObject{class: c, args: args}, nil }
func (c *pyClass) PyNew(args ...any) (any, error) { return &pyObject{class: c, args: args}, nil }

// pyObject records an instance of a pyClass: its constructor arguments, the state BUILD gave it
// (for argparse.Namespace, the dict of its fields) and, for dict or list subclasses, the items
// SETITEMS or APPENDS added.
type pyObject struct {
	class *pyClass
	args  []any
	state any
	items []types.DictEntry
	list  []any
}

func (o *pyObject) PySetState(state any) error { o.state = state; return nil }
func (o *pyObject) Set(key, value any) {
	o.items = append(o.items, types.DictEntry{Key: key, Value: value})
}
func (o *pyObject) Append(v any) { o.list = append(o.list, v) }
func (o *pyObject) Add(v any)    { o.list = append(o.list, v) }

// storageClass is torch.FloatStorage and its kin, which persistent ids name.
type storageClass struct {
	name     string
	dtype    DType
	elemSize int
}

// dtypeObject is a torch dtype such as torch.float32, pickled by name.
type dtypeObject struct {
	name  string
	dtype DType
}

// torchFunc is one of torch's rebuild functions that REDUCE calls.
type torchFunc struct {
	name string
	call func(args []any) (any, error)
}

func (f *torchFunc) Call(args ...any) (any, error) {
	v, err := f.call(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	return v, nil
}

var torchFuncs = map[string]*torchFunc{}

func init() {
	for _, f := range []*torchFunc{
		{"torch._utils._rebuild_tensor", rebuildTensor},
		{"torch._utils._rebuild_tensor_v2", rebuildTensor},
		{"torch._utils._rebuild_tensor_v3", rebuildTensorV3},
		{"torch._utils._rebuild_parameter", firstArg},
		{"torch._utils._rebuild_parameter_with_state", firstArg},
		{"torch._tensor._rebuild_from_type", rebuildFromType},
		{"torch._tensor._rebuild_from_type_v2", rebuildFromType},
		// torch.Size(t) is pickled as a call with the tuple t.
		{"torch.Size", firstArg},
	} {
		torchFuncs[f.name] = f
	}
}

// findClass resolves the globals a pickle names. Nothing is imported or executed: torch's
// rebuild functions and storage classes get Go stand-ins, everything else a pyClass.
func findClass(module, name string) (any, error) {
	full := module + "." + name
	if f, ok := torchFuncs[full]; ok {
		return f, nil
	}
	if module == "torch" || module == "torch.storage" {
		if s, ok := storageClasses[name]; ok {
			return &storageClass{name: full, dtype: s.dtype, elemSize: s.elemSize}, nil
		}
	}
	if module == "torch" {
		if d, ok := torchDTypes[name]; ok {
			return &dtypeObject{name: full, dtype: d}, nil
		}
	}
	if module == "copyreg" && name == "_reconstructor" {
		// Protocol 0 and 1 pickles of plain objects; gopickle knows it under Python 2's name.
		return &types.Reconstructor{}, nil
	}
	return &pyClass{module: module, name: name}, nil
}

// firstArg rebuilds a torch.nn.Parameter (or a torch.Size) as what it wraps: requires_grad and
// hooks mean nothing to a reader.
func firstArg(args []any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("no arguments")
	}
	return args[0], nil
}

// rebuildTensor is _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata]) and the older _rebuild_tensor(storage, storage_offset, size,
// stride): the dtype is the storage's.
func rebuildTensor(args []any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("%d arguments, want at least 4", len(args))
	}
	return newTensor(args[0], args[1], args[2], args[3], 0)
}

// rebuildTensorV3 is _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad,
// backward_hooks, dtype[, metadata]), which newer torch uses for untyped storages.
func rebuildTensorV3(args []any) (any, error) {
	if len(args) < 7 {
		return nil, fmt.Errorf("%d arguments, want at least 7", len(args))
	}
	d, ok := args[6].(*dtypeObject)
	if !ok {
		return nil, fmt.Errorf("dtype argument is %s", describe(args[6]))
	}
	return newTensor(args[0], args[1], args[2], args[3], d.dtype)
}

// rebuildFromType is _rebuild_from_type[_v2](func, type, args, state), how torch pickles tensor
// subclasses: the tensor is func(*args).
func rebuildFromType(args []any) (any, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("%d arguments, want at least 3", len(args))
	}
	f, ok := args[0].(*torchFunc)
	inner, ok2 := args[2].(*types.Tuple)
	if !ok || !ok2 {
		return &pyObject{class: &pyClass{"torch._tensor", "_rebuild_from_type_v2"}, args: args}, nil
	}
	return f.Call(*inner...)
}

// describe names the type of a pickled value for an error message. It never prints the value:
// pickles can build cyclic structures whose String methods would not return.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case *pyObject:
		return "a " + x.class.String() + " object"
	case *pyClass:
		return x.String()
	case *types.Dict, *types.OrderedDict:
		return "a dict"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case *Tensor:
		return "a tensor"
	case string:
		return "a str"
	case int, float64, bool:
		return fmt.Sprintf("%T %v", x, x)
	}
	return fmt.Sprintf("a %T", v)
}

// toInt converts a pickled integer; gopickle returns *big.Int beyond 64 bits, which no size or
// offset can be.
func toInt(v any) (int, bool) {
	i, ok := v.(int)
	return i, ok
}

// dictEntries returns the entries of anything dict-like: a dict, an OrderedDict or an instance
// of a dict subclass. Later entries win over earlier ones with the same key, as in Python.
func dictEntries(v any) ([]types.DictEntry, bool) {
	switch d := v.(type) {
	case *types.Dict:
		return *d, true
	case *types.OrderedDict:
		out := make([]types.DictEntry, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			if oe, ok := e.Value.(*types.OrderedDictEntry); ok {
				out = append(out, types.DictEntry{Key: oe.Key, Value: oe.Value})
			}
		}
		return out, true
	case *pyObject:
		if len(d.items) > 0 {
			return d.items, true
		}
	}
	return nil, false
}
