package npy

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzRead feeds Read arbitrary bytes. It must never panic or hang, must return arrays whose
// Data matches their Shape, must agree with the size-checked path that ReadFile takes, and
// what it returns must survive Write and Read unchanged.
func FuzzRead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.npy"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(npyBytes(1, hdr("'<f4'", "True", "(2, 1, 3)"), f32Bytes(1, 2, 3, 4, 5, 6)))
	f.Add(npyBytes(2, hdr("'>f2'", "False", "(3,)"), []byte{0x3c, 0, 0x7c, 0, 0xfe, 0}))
	f.Add(lyingFile(f32Bytes(1)))
	f.Add([]byte(magic))

	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		a, err := Read(r)
		fileA, fileErr := read(bytes.NewReader(b), int64(len(b)))
		if fileErr == nil {
			if err != nil {
				t.Fatalf("the size-checked read accepts what Read rejects: %v", err)
			}
			if !slices.Equal(fileA.Shape, a.Shape) || !sameFloats(fileA.Data, a.Data) {
				t.Fatalf("the size-checked read gives %v, Read gives %v", fileA.Shape, a.Shape)
			}
		}
		if err != nil {
			return
		}
		if fileErr != nil && r.Len() == 0 {
			t.Fatalf("Read used all the input but the size-checked read fails: %v", fileErr)
		}
		n, ok := product(a.Shape, 4)
		if !ok || n != len(a.Data) {
			t.Fatalf("shape %v but %d values", a.Shape, len(a.Data))
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatalf("Write of what Read returned: %v", err)
		}
		back, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read of what Write wrote: %v", err)
		}
		if !slices.Equal(back.Shape, a.Shape) || !sameFloats(back.Data, a.Data) {
			t.Fatalf("round trip changed %v to %v", a.Shape, back.Shape)
		}
	})
}

// sameFloats compares bit patterns, so NaN payloads and signed zeros count.
func sameFloats(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}
