package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is the element type of a tensor, as PyTorch names it.
type DType int

// The element types a checkpoint can hold. Only the floating-point ones can be read as values;
// the others are recognised so that files holding them (an optimizer's step counters, BatchNorm's
// num_batches_tracked) still parse. The zero DType stands for a storage class this package does
// not know, such as a quantized one.
const (
	Float32 DType = iota + 1
	Float16
	BFloat16
	Float64
	Int64
	Int32
	Int16
	Int8
	Uint8
	Bool
	Complex64
	Complex128
)

var dtypeInfo = [...]struct {
	name string
	size int
}{
	{"unknown", 0},
	Float32:    {"float32", 4},
	Float16:    {"float16", 2},
	BFloat16:   {"bfloat16", 2},
	Float64:    {"float64", 8},
	Int64:      {"int64", 8},
	Int32:      {"int32", 4},
	Int16:      {"int16", 2},
	Int8:       {"int8", 1},
	Uint8:      {"uint8", 1},
	Bool:       {"bool", 1},
	Complex64:  {"complex64", 8},
	Complex128: {"complex128", 16},
}

// String returns PyTorch's name for the type: "float32", "bfloat16", ...
func (d DType) String() string {
	if d >= 0 && int(d) < len(dtypeInfo) {
		return dtypeInfo[d].name
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Size returns the bytes per element, or 0 for an unknown type.
func (d DType) Size() int {
	if d >= 0 && int(d) < len(dtypeInfo) {
		return dtypeInfo[d].size
	}
	return 0
}

// isFloat reports whether Float32 can convert elements of this type.
func (d DType) isFloat() bool {
	return d == Float32 || d == Float16 || d == BFloat16 || d == Float64
}

// storageClasses maps the storage classes that persistent ids name (torch.FloatStorage, ...) to
// their element types. Quantized storages have no DType here, but their element sizes are needed
// to walk the storage sections of a legacy file that holds them.
var storageClasses = map[string]struct {
	dtype    DType
	elemSize int
}{
	"FloatStorage":         {Float32, 4},
	"HalfStorage":          {Float16, 2},
	"BFloat16Storage":      {BFloat16, 2},
	"DoubleStorage":        {Float64, 8},
	"LongStorage":          {Int64, 8},
	"IntStorage":           {Int32, 4},
	"ShortStorage":         {Int16, 2},
	"CharStorage":          {Int8, 1},
	"ByteStorage":          {Uint8, 1},
	"BoolStorage":          {Bool, 1},
	"ComplexFloatStorage":  {Complex64, 8},
	"ComplexDoubleStorage": {Complex128, 16},
	"UntypedStorage":       {Uint8, 1},
	"QInt8Storage":         {0, 1},
	"QUInt8Storage":        {0, 1},
	"QInt32Storage":        {0, 4},
	"QUInt4x2Storage":      {0, 1},
	"QUInt2x4Storage":      {0, 1},
}

// torchDTypes maps the names under which torch pickles its dtype objects (torch.float32 is
// pickled as the global "torch float32") to DTypes.
var torchDTypes = map[string]DType{
	"float32":    Float32,
	"float":      Float32,
	"float16":    Float16,
	"half":       Float16,
	"bfloat16":   BFloat16,
	"float64":    Float64,
	"double":     Float64,
	"int64":      Int64,
	"long":       Int64,
	"int32":      Int32,
	"int":        Int32,
	"int16":      Int16,
	"short":      Int16,
	"int8":       Int8,
	"uint8":      Uint8,
	"bool":       Bool,
	"complex64":  Complex64,
	"cfloat":     Complex64,
	"complex128": Complex128,
	"cdouble":    Complex128,
}

// float16To32 widens an IEEE half; every half is exactly representable as a float32.
func float16To32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinities and NaNs keep their payload
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0:
		// Zero and subnormals: mant * 2^-24, which float32 holds exactly.
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// bfloat16To32 widens a bfloat16, which is the upper half of a float32.
func bfloat16To32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}

// decodeFloats converts len(dst) little-endian elements of type d at the start of src.
func decodeFloats(dst []float32, src []byte, d DType) {
	switch d {
	case Float32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case Float16:
		for i := range dst {
			dst[i] = float16To32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BFloat16:
		for i := range dst {
			dst[i] = bfloat16To32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case Float64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	}
}

// decodeFloat converts the one element of type d at the start of src.
func decodeFloat(src []byte, d DType) float32 {
	var f [1]float32
	decodeFloats(f[:], src, d)
	return f[0]
}
