package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// npyBytes builds a .npy file by hand: any version, any header text, any data.
func npyBytes(major byte, header string, data []byte) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	b = append(b, header...)
	return append(b, data...)
}

func f32Bytes(vals ...float32) []byte {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// sameBits reports whether a and b hold the same float32 bit patterns, treating any two
// NaNs as equal (converting a float64 NaN may or may not keep its payload, by CPU).
func sameBits(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			return i, false
		}
	}
	return 0, true
}

// arange is what make.py's arange(shape) holds: n*0.5 - 1.
func arange(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(float64(i)*0.5 - 1)
	}
	return v
}

func TestReadNumpyFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape []int
	}{
		{"f4_1d", []int{5}},
		{"f4_2d", []int{2, 3}},
		{"f4_4d", []int{2, 3, 4, 5}},
		{"f4_empty", []int{0, 3}},
		{"f4_v2", []int{2, 3}},
		{"f4_v3", []int{2, 3}},
		{"f8", []int{3, 4}},
		{"f2", []int{2, 7}},
		{"f4_big_endian", []int{3, 4}},
		{"f8_big_endian", []int{4}},
		{"f2_big_endian", []int{2, 2}},
		{"f4_fortran_2d", []int{3, 4}},
		{"f4_fortran_3d", []int{2, 3, 4}},
		{"f8_fortran_big_endian", []int{2, 3}},
		{"f4_0d", []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadFile(filepath.Join("testdata", tc.name+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Shape, tc.shape) {
				t.Fatalf("shape %v, want %v", a.Shape, tc.shape)
			}
			var want []float32
			switch {
			case tc.name == "f4_0d":
				want = []float32{3.25}
			case strings.HasPrefix(tc.name, "f4_") && !strings.Contains(tc.name, "fortran") && !strings.Contains(tc.name, "endian"):
				n, _ := product(tc.shape, 4)
				want = arange(n)
			default: // NumPy's own conversion to C-ordered float32
				w, err := ReadFile(filepath.Join("testdata", tc.name+".want.npy"))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(w.Shape, tc.shape) {
					t.Fatalf("want file: shape %v, want %v", w.Shape, tc.shape)
				}
				want = w.Data
			}
			if i, ok := sameBits(a.Data, want); !ok {
				t.Fatalf("data differs at %d:\n got %v\nwant %v", i, a.Data, want)
			}
		})
	}
}

// TestWriteMatchesNumpy: Write produces np.save's bytes exactly, header padding included.
func TestWriteMatchesNumpy(t *testing.T) {
	for _, name := range []string{"f4_1d", "f4_2d", "f4_4d", "f4_0d", "f4_empty"} {
		path := filepath.Join("testdata", name+".npy")
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Read(bytes.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := Write(&got, a); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: Write differs from np.save:\n got %q\nwant %q", name, got.Bytes(), want)
		}
		if hdr := len(encodeHeader(a.Shape)); hdr%align != 0 {
			t.Errorf("%s: data starts at %d, not a multiple of %d", name, hdr, align)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	nan := math.Float32frombits(0x7fc01234) // a NaN with a payload: bits must survive
	big := make([]float32, 3*chunk/4+7)     // crosses the chunk size
	for i := range big {
		big[i] = float32(i) * 1.5
	}
	for _, a := range []*Array{
		{Shape: []int{}, Data: []float32{-7.5}},
		{Shape: []int{0}, Data: []float32{}},
		{Shape: []int{0, 5, 0}, Data: nil},
		{Shape: []int{1}, Data: []float32{1}},
		{Shape: []int{6}, Data: []float32{nan, float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 1e-45, math.MaxFloat32, -3}},
		{Shape: []int{3, 1, 2}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Shape: []int{len(big)}, Data: big},
		{Shape: []int{math.MaxInt / 8, 0}, Data: nil}, // a wide first axis: less growth space
	} {
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("Write(%v): %v", a.Shape, err)
		}
		got, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read after Write(%v): %v", a.Shape, err)
		}
		if !slices.Equal(got.Shape, a.Shape) {
			t.Errorf("shape %v came back as %v", a.Shape, got.Shape)
		}
		if len(got.Data) != len(a.Data) {
			t.Fatalf("shape %v: %d values came back as %d", a.Shape, len(a.Data), len(got.Data))
		}
		for i := range a.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(a.Data[i]) {
				t.Fatalf("shape %v: value %d: %#x came back as %#x", a.Shape, i,
					math.Float32bits(a.Data[i]), math.Float32bits(got.Data[i]))
			}
		}
		if buf.Len() != 0 {
			t.Errorf("shape %v: Read left %d bytes unread", a.Shape, buf.Len())
		}
	}
}

// TestNumpyReadsWrite has NumPy load what Write wrote.
func TestNumpyReadsWrite(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("skipping: %s not found, so NumPy cannot check the files Write writes", python)
	}
	dir := t.TempDir()
	arrays := map[string]*Array{
		"scalar": {Shape: []int{}, Data: []float32{2.5}},
		"empty":  {Shape: []int{2, 0}, Data: nil},
		"vec":    {Shape: []int{5}, Data: arange(5)},
		"grid":   {Shape: []int{2, 3, 4}, Data: arange(24)},
		"odd":    {Shape: []int{3}, Data: []float32{float32(math.Inf(1)), float32(math.Copysign(0, -1)), 1e-45}},
	}
	var script strings.Builder
	script.WriteString("import sys\ntry:\n    import numpy as np\nexcept ImportError as e:\n    print(e)\n    sys.exit(3)\nok = True\n")
	for name, a := range arrays {
		path := filepath.Join(dir, name+".npy")
		if err := WriteFile(path, a); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&script, "a = np.load(%q, allow_pickle=False)\n", path)
		fmt.Fprintf(&script, "want = np.array(%s, dtype=np.float32).reshape(%s)\n", pyFloats(a.Data), shapeString(a.Shape))
		fmt.Fprintf(&script, "if a.dtype != np.float32 or a.shape != want.shape or a.tobytes() != want.tobytes() or not a.flags.c_contiguous:\n")
		fmt.Fprintf(&script, "    ok = False; print(%q, a.dtype, a.shape, a)\n", name)
	}
	script.WriteString("sys.exit(0 if ok else 1)\n")
	out, err := exec.Command(python, "-c", script.String()).CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok && exit.ExitCode() == 3 {
		t.Skipf("skipping: %s cannot import numpy, so it cannot check the files Write writes: %s", python, out)
	}
	if err != nil {
		t.Fatalf("NumPy disagrees with Write: %v\n%s", err, out)
	}
}

// pyFloats writes v as a Python list that NumPy turns back into the same float32 values.
func pyFloats(v []float32) string {
	parts := make([]string, len(v))
	for i, f := range v {
		switch x := float64(f); {
		case math.IsInf(x, 1):
			parts[i] = "np.inf"
		case math.IsInf(x, -1):
			parts[i] = "-np.inf"
		default:
			// The shortest float64 text of a float32 value parses back to that value;
			// 'e' format keeps "-0" a float (-0e+00), with its sign.
			parts[i] = strconv.FormatFloat(x, 'e', -1, 64)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// hdr is a correct version 1.0 header dict with the given dtype, order and shape.
func hdr(descr, fortran, shape string) string {
	return fmt.Sprintf("{'descr': %s, 'fortran_order': %s, 'shape': %s, }\n", descr, fortran, shape)
}

func TestMalformed(t *testing.T) {
	six := f32Bytes(1, 2, 3, 4, 5, 6)
	deep := strings.Repeat("(", 40) + strings.Repeat(")", 40)
	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"empty", "empty input", nil},
		{"bad magic", `not a .npy file: starts with "\x93NUMPX"`, []byte("\x93NUMPX\x01\x00\x00\x00")},
		{"text file", "not a .npy file", []byte("descr,shape\n1,2\n")},
		{"short preamble", "truncated preamble", []byte("\x93NUM")},
		{"version 4.0", "format version 4.0 not supported", npyBytes(4, hdr("'<f4'", "False", "(6,)"), six)},
		{"version 1.1", "format version 1.1 not supported", append([]byte("\x93NUMPY\x01\x01"), npyBytes(1, hdr("'<f4'", "False", "(6,)"), six)[8:]...)},
		{"no header length", "truncated header length", []byte("\x93NUMPY\x02\x00\x10")},
		{"short header", "truncated header (10 of 100 bytes)", append([]byte("\x93NUMPY\x01\x00\x64\x00"), "{'descr': "...)},
		{"huge header length", "over vitc's limit", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff{")},
		{"not a dict", "header is [1, 2], not a dict", npyBytes(1, "[1, 2]\n", nil)},
		{"unclosed dict", "{ not closed", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)\n", six)},
		{"unclosed tuple", "( not closed", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,", six)},
		{"unclosed string", "string not closed", npyBytes(1, "{'descr': '<f4}", six)},
		{"string across lines", "string not closed before the end of the line", npyBytes(1, "{'descr': '<f4\n'}", six)},
		{"missing comma", "expected ',' or '}'", npyBytes(1, "{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}", six)},
		{"missing colon", "expected ':' after key", npyBytes(1, "{'descr' '<f4'}", six)},
		{"garbage after", `unexpected 'x' after the header dict`, npyBytes(1, hdr("'<f4'", "False", "(6,)")+"x", six)},
		{"no shape", "no 'shape'", npyBytes(1, "{'descr': '<f4', 'fortran_order': False}", six)},
		{"no descr", "no 'descr'", npyBytes(1, "{'shape': (6,), 'fortran_order': False}", six)},
		{"no order", "no 'fortran_order'", npyBytes(1, "{'shape': (6,), 'descr': '<f4'}", six)},
		{"extra key", `unknown key "units"`, npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'units': 'm'}", six)},
		{"duplicate key", `key "shape" appears twice`, npyBytes(1, "{'shape': (6,), 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", six)},
		{"int key", "dict key 1 is not a string", npyBytes(1, "{1: 2}", nil)},
		{"int64", "dtype '<i8' not supported: vitc reads float32 (also float64/float16, converted)", npyBytes(1, hdr("'<i8'", "False", "(6,)"), make([]byte, 48))},
		{"uint8", "dtype '|u1' not supported", npyBytes(1, hdr("'|u1'", "False", "(6,)"), make([]byte, 6))},
		{"bool", "dtype '|b1' not supported", npyBytes(1, hdr("'|b1'", "False", "(6,)"), make([]byte, 6))},
		{"object", "dtype '|O' not supported", npyBytes(1, hdr("'|O'", "False", "(6,)"), nil)},
		{"complex", "dtype '<c8' not supported", npyBytes(1, hdr("'<c8'", "False", "(6,)"), nil)},
		{"datetime", "dtype '<M8[ns]' not supported", npyBytes(1, hdr("'<M8[ns]'", "False", "(6,)"), nil)},
		{"float128", "dtype '<f16' not supported", npyBytes(1, hdr("'<f16'", "False", "(6,)"), nil)},
		{"type name", "dtype 'float32' not supported", npyBytes(1, hdr("'float32'", "False", "(6,)"), six)},
		{"no byte order", "dtype '|f4': byte order '|' is not valid", npyBytes(1, hdr("'|f4'", "False", "(6,)"), six)},
		{"native byte order", "byte order '=' is not valid", npyBytes(1, hdr("'=f4'", "False", "(6,)"), six)},
		{"structured", "structured dtype, not supported", npyBytes(1, hdr("[('x', '<f4'), ('y', '<f4')]", "False", "(3,)"), six)},
		{"descr not a string", "descr 4 is not a dtype string", npyBytes(1, hdr("4", "False", "(6,)"), six)},
		{"order not bool", "fortran_order is 0, want True or False", npyBytes(1, hdr("'<f4'", "0", "(6,)"), six)},
		{"order a name", `unexpected name "false"`, npyBytes(1, hdr("'<f4'", "false", "(6,)"), six)},
		{"shape an int", "shape is 6, want a tuple", npyBytes(1, hdr("'<f4'", "False", "6"), six)},
		{"shape parenthesised int", "shape is 6, want a tuple", npyBytes(1, hdr("'<f4'", "False", "(6)"), six)},
		{"shape a string", "shape is '6', want a tuple", npyBytes(1, hdr("'<f4'", "False", "'6'"), six)},
		{"negative dim", "dimension 1 is negative", npyBytes(1, hdr("'<f4'", "False", "(2, -3)"), six)},
		{"float dim", `"3.0" is not an integer`, npyBytes(1, hdr("'<f4'", "False", "(2, 3.0)"), six)},
		{"None dim", "dimension 0 is None, not an int", npyBytes(1, hdr("'<f4'", "False", "(None,)"), six)},
		{"huge dim", "absurdly large", npyBytes(1, hdr("'<f4'", "False", "(99999999999999999999,)"), six)},
		{"overflowing shape", "too large: its size overflows", npyBytes(1, hdr("'<f4'", "False", fmt.Sprintf("(%d, 3)", math.MaxInt/2)), six)},
		{"overflowing bytes", "too large: its size overflows", npyBytes(1, hdr("'<f8'", "False", fmt.Sprintf("(%d,)", math.MaxInt/4)), six)},
		{"too many dims", "more than 64", npyBytes(1, hdr("'<f4'", "False", "("+strings.Repeat("1, ", 65)+")"), six)},
		{"too deep", "nested deeper than", npyBytes(1, "{'shape': "+deep+"}", nil)},
		{"bad escape", `escape \n in a string`, npyBytes(1, `{'descr': '<f4\n'}`, nil)},
		{"sign only", "sign without digits", npyBytes(1, hdr("'<f4'", "False", "(-,)"), six)},
		{"short data", "truncated data: shape (2, 3) of '<f4' needs 24 bytes", npyBytes(1, hdr("'<f4'", "False", "(2, 3)"), six[:20])},
		{"no data", "truncated data", npyBytes(1, hdr("'<f8'", "False", "(2,)"), nil)},
		{"short f2 data", "needs 12 bytes, got 11", npyBytes(1, hdr("'<f2'", "False", "(2, 3)"), six[:11])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(tc.file))
			if err == nil {
				t.Fatalf("Read succeeded (shape %v), want an error containing %q", a.Shape, tc.want)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "npy: ") {
				t.Errorf("Read error %q, want it to start with \"npy: \" and contain %q", err, tc.want)
			}
			// The same through ReadFile, which also knows the size: it must fail too,
			// and name the file.
			path := filepath.Join(t.TempDir(), "x.npy")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("ReadFile error %v, want one starting with %q", err, path+": ")
			}
		})
	}
}

func TestReadFileChecksSize(t *testing.T) {
	dir := t.TempDir()
	good := npyBytes(1, hdr("'<f4'", "False", "(2, 3)"), f32Bytes(1, 2, 3, 4, 5, 6))
	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"extra.npy", "extra bytes after the data: shape (2, 3) of '<f4' needs 24 bytes of data, the file has 25", append(slices.Clone(good), 0)},
		{"short.npy", "truncated data: shape (2, 3) of '<f4' needs 24 bytes of data, the file has 23", good[:len(good)-1]},
		{"lying.npy", fmt.Sprintf("needs %d bytes of data, the file has 24", lyingCount*4), lyingFile(f32Bytes(1, 2, 3, 4, 5, 6))},
		{"header.npy", "truncated header: it says it is 65535 bytes", append([]byte("\x93NUMPY\x01\x00\xff\xff"), "{}"...)},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.file, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadFile(%s) error %v, want one naming the file and containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.npy")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.npy") {
		t.Errorf("ReadFile of a missing file: %v, want a not-exist error naming it", err)
	}
}

// lyingCount is a float32 count that fits in an int but not in any memory.
const lyingCount = math.MaxInt / 8

// lyingFile is a .npy file whose header claims lyingCount values.
func lyingFile(data []byte) []byte {
	return npyBytes(1, hdr("'<f4'", "False", fmt.Sprintf("(%d,)", lyingCount)), data)
}

// TestLyingHeaderAllocatesLittle: a header that claims exabytes must not make Read
// allocate it before finding that the data is not there.
func TestLyingHeaderAllocatesLittle(t *testing.T) {
	file := lyingFile(f32Bytes(1, 2, 3))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "got 12") {
		t.Errorf("Read error %v, want truncated data (got 12 bytes) wrapping io.ErrUnexpectedEOF", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("Read allocated %d bytes for a 12-byte payload", grew)
	}
}

func TestReadStream(t *testing.T) {
	var stream bytes.Buffer
	want := []*Array{
		{Shape: []int{2}, Data: []float32{1, 2}},
		{Shape: []int{}, Data: []float32{3}},
		{Shape: []int{2, 2}, Data: []float32{4, 5, 6, 7}},
	}
	for _, a := range want {
		if err := Write(&stream, a); err != nil {
			t.Fatal(err)
		}
	}
	raw := stream.Bytes()
	for name, r := range map[string]io.Reader{
		"whole":    bytes.NewReader(raw),
		"one byte": iotest.OneByteReader(bytes.NewReader(raw)),
		"half":     iotest.HalfReader(bytes.NewReader(raw)),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(raw)),
	} {
		for i, w := range want {
			got, err := Read(r)
			if err != nil {
				t.Fatalf("%s: array %d: %v", name, i, err)
			}
			if !slices.Equal(got.Shape, w.Shape) || !slices.Equal(got.Data, w.Data) {
				t.Fatalf("%s: array %d = %v %v, want %v %v", name, i, got.Shape, got.Data, w.Shape, w.Data)
			}
		}
		if _, err := Read(r); err == nil || !strings.Contains(err.Error(), "empty input") {
			t.Errorf("%s: Read at the end of the stream: %v, want an empty-input error", name, err)
		}
	}
	// A reader that fails mid-way: the error is reported, not a panic or a short array.
	r := iotest.TimeoutReader(iotest.HalfReader(bytes.NewReader(raw)))
	if _, err := Read(r); err == nil {
		t.Error("Read through a failing reader succeeded")
	}
}

func TestHeaderSyntax(t *testing.T) {
	data := f32Bytes(1, 2, 3, 4, 5, 6)
	for _, tc := range []struct {
		header string
		shape  []int
	}{
		{`{"descr": "<f4", "fortran_order": False, "shape": (6,)}`, []int{6}},
		{"{'shape':(2,3),'fortran_order':False,'descr':'<f4'}", []int{2, 3}},
		{"{ 'descr' : '<f4' ,\n\t'fortran_order' : False ,\r\n 'shape' : ( 2 , 3 , ) , }   \n", []int{2, 3}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", []int{2, 3}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': [6], }", []int{6}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (+6,), }", []int{6}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': ((6,)), }", []int{6}},
		{"{'descr': '<f4', 'fortran_order': True, 'shape': (1, 6, 1), }", []int{1, 6, 1}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1, 3, 1), }", []int{1, 2, 1, 3, 1}},
	} {
		a, err := Read(bytes.NewReader(npyBytes(1, tc.header, data)))
		if err != nil {
			t.Errorf("header %q: %v", tc.header, err)
			continue
		}
		if !slices.Equal(a.Shape, tc.shape) || !slices.Equal(a.Data, []float32{1, 2, 3, 4, 5, 6}) {
			t.Errorf("header %q: got %v %v", tc.header, a.Shape, a.Data)
		}
	}
	// Version 3.0 headers are UTF-8; 0-d with an empty tuple and spaces inside.
	a, err := Read(bytes.NewReader(npyBytes(3, "{'descr': '<f4', 'fortran_order': False, 'shape': ( ), }", data[:4])))
	if err != nil || len(a.Shape) != 0 || !slices.Equal(a.Data, []float32{1}) {
		t.Errorf("0-d in a 3.0 file: %v %v", a, err)
	}
}

func TestFortranToC(t *testing.T) {
	// A 2x3x2 array a[i][j][k] = 100i + 10j + k, laid out with i fastest.
	shape := []int{2, 3, 2}
	var fortran []float32
	for k := 0; k < 2; k++ {
		for j := 0; j < 3; j++ {
			for i := 0; i < 2; i++ {
				fortran = append(fortran, float32(100*i+10*j+k))
			}
		}
	}
	got := fortranToC(fortran, shape)
	var want []float32
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 2; k++ {
				want = append(want, float32(100*i+10*j+k))
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("fortranToC = %v, want %v", got, want)
	}
}

func TestHalfToFloat32(t *testing.T) {
	for _, tc := range []struct {
		half uint16
		want uint32
	}{
		{0x0000, 0x00000000}, // +0
		{0x8000, 0x80000000}, // -0
		{0x3c00, 0x3f800000}, // 1
		{0xc000, 0xc0000000}, // -2
		{0x7bff, 0x477fe000}, // 65504, the largest half
		{0x0001, 0x33800000}, // 2^-24, the smallest subnormal
		{0x03ff, 0x387fc000}, // the largest subnormal
		{0x0400, 0x38800000}, // 2^-14, the smallest normal
		{0x7c00, 0x7f800000}, // +Inf
		{0xfc00, 0xff800000}, // -Inf
		{0x7e00, 0x7fc00000}, // quiet NaN
		{0x7d01, 0x7fa02000}, // signalling NaN, payload kept
	} {
		if got := math.Float32bits(halfToFloat32(tc.half)); got != tc.want {
			t.Errorf("halfToFloat32(%#04x) = %#08x, want %#08x", tc.half, got, tc.want)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	for _, tc := range []struct {
		a    *Array
		want string
	}{
		{nil, "nil *Array"},
		{&Array{Shape: []int{2, 3}, Data: make([]float32, 5)}, "shape (2, 3) holds 6 values, Data has 5"},
		{&Array{Shape: []int{}, Data: nil}, "shape () holds 1 values, Data has 0"},
		{&Array{Shape: []int{-1}, Data: nil}, "dimension 0 is negative"},
		{&Array{Shape: []int{math.MaxInt, 2}, Data: nil}, "too large"},
		{&Array{Shape: make([]int, 65), Data: nil}, "more than 64"},
	} {
		var buf bytes.Buffer
		err := Write(&buf, tc.a)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Write(%v) error %v, want %q", tc.a, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("Write(%v) wrote %d bytes before failing", tc.a, buf.Len())
		}
	}
	// A failing writer's error comes back.
	err := Write(failingWriter{}, &Array{Shape: []int{1}, Data: []float32{1}})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write to a failing writer: %v, want its error", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.npy")
	first := &Array{Shape: []int{2}, Data: []float32{1, 2}}
	if err := WriteFile(path, first); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("new file: %v %v, want mode 0644", st, err)
	}
	// Overwriting keeps the file's mode.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	second := &Array{Shape: []int{1, 3}, Data: []float32{3, 4, 5}}
	if err := WriteFile(path, second); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil || !slices.Equal(got.Shape, second.Shape) || !slices.Equal(got.Data, second.Data) {
		t.Fatalf("after overwrite: %v %v", got, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("overwrite changed the mode to %v", st.Mode().Perm())
	}
	// A bad array fails before anything is written: the old file stays whole.
	err = WriteFile(path, &Array{Shape: []int{4}, Data: []float32{1}})
	if err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("WriteFile of a bad array: %v, want an error naming %s", err, path)
	}
	if got, err := ReadFile(path); err != nil || !slices.Equal(got.Data, second.Data) {
		t.Errorf("old file damaged: %v %v", got, err)
	}
	// A missing directory: the error names the path.
	missing := filepath.Join(dir, "no", "such", "dir", "x.npy")
	if err := WriteFile(missing, first); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("WriteFile into a missing directory: %v, want an error naming %s", err, missing)
	}
	// A directory in the way.
	if err := WriteFile(dir, first); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("WriteFile over a directory: %v", err)
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "out.npy" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	// A relative path in the current directory works too.
	t.Chdir(dir)
	if err := WriteFile("rel.npy", first); err != nil {
		t.Errorf("WriteFile with a bare file name: %v", err)
	}
}
