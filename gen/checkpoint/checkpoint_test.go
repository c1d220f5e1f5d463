package checkpoint

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// expectedFixture is one entry of testdata/expected.json, written by make_testdata.py from what
// torch.load returns.
type expectedFixture struct {
	Format  string
	Bare    bool
	Epoch   int
	Extras  []string
	Tensors map[string]struct {
		DType   string
		Shape   []int
		Strides []int
		Offset  int
		Bits    []uint32 // float32 bit patterns in row-major order; absent for integer tensors
	}
}

func loadExpected(t *testing.T) map[string]expectedFixture {
	t.Helper()
	data, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]expectedFixture
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp) == 0 {
		t.Fatal("expected.json lists no fixtures")
	}
	return exp
}

func mustOpen(t *testing.T, name string) *Checkpoint {
	t.Helper()
	c, err := Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestFixtures checks every tensor of every fixture against the values torch loads.
func TestFixtures(t *testing.T) {
	for name, want := range loadExpected(t) {
		t.Run(name, func(t *testing.T) {
			c := mustOpen(t, name)
			if c.Format != want.Format || c.Bare != want.Bare || c.Epoch != want.Epoch {
				t.Errorf("format %q bare %v epoch %d, want %q %v %d", c.Format, c.Bare, c.Epoch,
					want.Format, want.Bare, want.Epoch)
			}
			if len(c.Extras) != len(want.Extras) || len(want.Extras) > 0 && !reflect.DeepEqual(c.Extras, want.Extras) {
				t.Errorf("extras %q, want %q", c.Extras, want.Extras)
			}
			var wantNames []string
			for n := range want.Tensors {
				wantNames = append(wantNames, n)
			}
			sort.Strings(wantNames)
			if got := c.Names(); !reflect.DeepEqual(got, wantNames) {
				t.Fatalf("tensors %q\nwant %q", got, wantNames)
			}
			for _, n := range wantNames {
				w, tensor := want.Tensors[n], c.Tensors[n]
				if tensor.Name != n || tensor.DType.String() != w.DType || !slices.Equal(tensor.Shape, w.Shape) ||
					!slices.Equal(tensor.Strides, w.Strides) || tensor.Offset != w.Offset {
					t.Errorf("%s: %q %s shape %v strides %v offset %d, want %s %v %v %d", n, tensor.Name,
						tensor.DType, tensor.Shape, tensor.Strides, tensor.Offset, w.DType, w.Shape, w.Strides, w.Offset)
					continue
				}
				got, err := tensor.Float32()
				if w.Bits == nil {
					if err == nil || !strings.Contains(err.Error(), c.Path) || !strings.Contains(err.Error(), n) {
						t.Errorf("%s: Float32 of a %s tensor: err %v, want an error naming file and tensor", n, w.DType, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", n, err)
					continue
				}
				if len(got) != len(w.Bits) || len(got) != tensor.Numel() {
					t.Errorf("%s: %d values, numel %d, want %d", n, len(got), tensor.Numel(), len(w.Bits))
					continue
				}
				maxdiff, bad := 0.0, 0
				for i, v := range got {
					if math.Float32bits(v) != w.Bits[i] {
						bad++
						maxdiff = math.Max(maxdiff, math.Abs(float64(v-math.Float32frombits(w.Bits[i]))))
					}
				}
				if bad > 0 {
					t.Errorf("%s: %d of %d values differ, maxdiff = %e", n, bad, len(got), maxdiff)
				}
			}
		})
	}
}

// TestMAEArgs checks the Namespace fields in both formats, with their Go types.
func TestMAEArgs(t *testing.T) {
	want := map[string]any{
		"model": "mae_vit_small_patch14", "input_size": 224, "batch_size": 256, "mask_ratio": 0.75,
		"norm_pix_loss": true, "distributed": false, "lr": nil, "blr": 1.5e-4, "weight_decay": 0.05,
		"data_path": "/data/say", "resume": "", "local_rank": -1, "big": 1 << 40,
		"huge":  "1180591620717411303424", // 2**70 does not fit an int
		"sizes": []any{224, 448, 476}, "mixed": []any{0.5, "a", nil, true}, "crop": []any{224, 224},
		"nested": map[string]any{"a": 1, "b": []any{2.5}},
	}
	for _, name := range []string{"mae_zip.pth", "mae_legacy.pth"} {
		t.Run(name, func(t *testing.T) {
			c := mustOpen(t, name)
			if !reflect.DeepEqual(c.Args, want) {
				t.Errorf("args\n got %#v\nwant %#v", c.Args, want)
			}
			if s, ok := c.ArgString("model"); !ok || s != "mae_vit_small_patch14" {
				t.Errorf("ArgString(model) = %q, %v", s, ok)
			}
			if i, ok := c.ArgInt("input_size"); !ok || i != 224 {
				t.Errorf("ArgInt(input_size) = %d, %v", i, ok)
			}
			if _, ok := c.ArgInt("model"); ok {
				t.Error("ArgInt(model) ok for a string field")
			}
			if _, ok := c.ArgString("nonexistent"); ok {
				t.Error("ArgString(nonexistent) ok")
			}
		})
	}
	c := mustOpen(t, "dtypes_zip.pth")
	if c.Args != nil {
		t.Errorf("bare state dict: args %v, want nil", c.Args)
	}
	if _, ok := c.ArgInt("input_size"); ok {
		t.Error("ArgInt ok without args")
	}
}

// readLog records every ReadAt on the checkpoint file.
type readLog struct {
	ra    io.ReaderAt
	mu    sync.Mutex
	reads []section
}

func (r *readLog) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	r.reads = append(r.reads, section{off, int64(len(p))})
	r.mu.Unlock()
	return r.ra.ReadAt(p, off)
}

func (r *readLog) take() []section {
	r.mu.Lock()
	defer r.mu.Unlock()
	reads := r.reads
	r.reads = nil
	return reads
}

func overlaps(a, b section) bool {
	return a.offset < b.offset+b.size && b.offset < a.offset+a.size
}

func inside(a, b section) bool {
	return a.offset >= b.offset && a.offset+a.size <= b.offset+b.size
}

// TestOptimizerNeverRead watches every read: neither Open nor reading all model tensors may touch
// the bytes of a storage that only the optimizer uses, and after Open every read lies inside a
// model tensor's storage.
func TestOptimizerNeverRead(t *testing.T) {
	for _, name := range []string{"mae_zip.pth", "mae_legacy.pth"} {
		t.Run(name, func(t *testing.T) {
			log := &readLog{}
			path := filepath.Join("testdata", name)
			c, err := openFile(path, func(ra io.ReaderAt) io.ReaderAt { log.ra = ra; return log })
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			openReads := log.take()

			modelKeys := map[string]bool{}
			var model []section
			for _, tensor := range c.Tensors {
				if !modelKeys[tensor.st.key] {
					modelKeys[tensor.st.key] = true
					model = append(model, section{tensor.st.offset, tensor.st.size})
				}
			}
			// The storages that are not the model's, found independently of the code under
			// test for zip files.
			var others []section
			if c.Format == "zip" {
				zr, err := zip.OpenReader(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range zr.File {
					i := strings.Index(f.Name, "/data/")
					if i < 0 || modelKeys[f.Name[i+len("/data/"):]] {
						continue
					}
					off, err := f.DataOffset()
					if err != nil {
						t.Fatal(err)
					}
					others = append(others, section{off, int64(f.UncompressedSize64)})
				}
				zr.Close()
			} else {
				for key, s := range c.legacy {
					if !modelKeys[key] {
						others = append(others, s)
					}
				}
			}
			var modelBytes, otherBytes int64
			for _, s := range model {
				modelBytes += s.size
			}
			for _, s := range others {
				otherBytes += s.size
			}
			if otherBytes < 2*modelBytes-1024 {
				t.Fatalf("fixture has %d optimizer bytes for %d model bytes: too few for this test to mean much",
					otherBytes, modelBytes)
			}

			for _, tensor := range c.Tensors {
				if tensor.DType.isFloat() {
					if _, err := tensor.Float32(); err != nil {
						t.Fatal(err)
					}
				}
			}
			tensorReads := log.take()
			if len(tensorReads) == 0 {
				t.Fatal("no reads recorded: the hook is not in the read path")
			}
			// Open reads no storage bytes of a zip file. In a legacy file the storages follow the
			// last pickle, and the pickle scanner's buffer may reach into them.
			var openOverlap int64
			for _, r := range openReads {
				for _, o := range others {
					if overlaps(r, o) {
						openOverlap += min(r.offset+r.size, o.offset+o.size) - max(r.offset, o.offset)
					}
				}
			}
			if limit := map[string]int64{"zip": 0, "legacy": 2 * scanReadAhead}[c.Format]; openOverlap > limit {
				t.Errorf("Open read %d bytes of optimizer storages, more than %d", openOverlap, limit)
			}
			for _, r := range tensorReads {
				for _, o := range others {
					if overlaps(r, o) {
						t.Errorf("read of %d bytes at %d overlaps optimizer storage at %d (%d bytes)",
							r.size, r.offset, o.offset, o.size)
					}
				}
			}
			var read int64
			for _, r := range tensorReads {
				read += r.size
				ok := false
				for _, m := range model {
					ok = ok || inside(r, m)
				}
				if !ok {
					t.Errorf("read of %d bytes at %d is outside every model storage", r.size, r.offset)
				}
			}
			if read > modelBytes {
				t.Errorf("read %d bytes for %d bytes of model storages", read, modelBytes)
			}
		})
	}
}

// TestSliceReadsSpanOnly checks that a slice of a storage reads its own span, not the storage.
func TestSliceReadsSpanOnly(t *testing.T) {
	log := &readLog{}
	c, err := openFile("testdata/dtypes_zip.pth", func(ra io.ReaderAt) io.ReaderAt { log.ra = ra; return log })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	log.take()
	// slice is x[1:4, 2:6] of a 6x7 float32 matrix: elements 1*7+2 = 9 to 3*7+5 = 26.
	if _, err := c.Tensors["slice"].Float32(); err != nil {
		t.Fatal(err)
	}
	reads := log.take()
	st := c.Tensors["slice"].st
	want := []section{{st.offset + 9*4, (26 - 9 + 1) * 4}}
	if !reflect.DeepEqual(reads, want) {
		t.Errorf("reads %v, want %v", reads, want)
	}
}

// TestConcurrentFloat32 reads every tensor from several goroutines at once (run with -race).
func TestConcurrentFloat32(t *testing.T) {
	for _, name := range []string{"dtypes_zip.pth", "dtypes_legacy.pth", "dtypes_deflated.pth"} {
		c := mustOpen(t, name)
		want := map[string][]float32{}
		for n, tensor := range c.Tensors {
			if v, err := tensor.Float32(); err == nil {
				want[n] = v
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8*len(want))
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n, w := range want {
					v, err := c.Tensors[n].Float32()
					if err != nil {
						errs <- err
						continue
					}
					// Compare bits: NaN != NaN.
					for i := range v {
						if math.Float32bits(v[i]) != math.Float32bits(w[i]) {
							errs <- fmt.Errorf("%s %s[%d]: %v, want %v", name, n, i, v[i], w[i])
							break
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

// TestClosed checks that reading after Close is an error naming the file.
func TestClosed(t *testing.T) {
	c, err := Open("testdata/module_zip.pth")
	if err != nil {
		t.Fatal(err)
	}
	tensor := c.Tensors["0.weight"]
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := tensor.Float32(); err == nil || !strings.Contains(err.Error(), c.Path) {
		t.Errorf("Float32 after Close: %v", err)
	}
	var zero Tensor
	if _, err := zero.Float32(); err == nil {
		t.Error("Float32 of a zero Tensor: no error")
	}
}

func TestDType(t *testing.T) {
	for d, want := range map[DType]struct {
		name string
		size int
	}{
		Float32: {"float32", 4}, Float16: {"float16", 2}, BFloat16: {"bfloat16", 2}, Float64: {"float64", 8},
		Int64: {"int64", 8}, Int32: {"int32", 4}, Int16: {"int16", 2}, Int8: {"int8", 1}, Uint8: {"uint8", 1},
		Bool: {"bool", 1}, Complex64: {"complex64", 8}, Complex128: {"complex128", 16}, 0: {"unknown", 0},
		99: {"DType(99)", 0}, -1: {"DType(-1)", 0},
	} {
		if d.String() != want.name || d.Size() != want.size {
			t.Errorf("DType(%d): %q %d, want %q %d", int(d), d.String(), d.Size(), want.name, want.size)
		}
	}
}

func TestFloat16(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want uint32
	}{
		{0x0000, 0x00000000}, {0x8000, 0x80000000}, // ±0
		{0x3c00, 0x3f800000}, {0xc000, 0xc0000000}, // 1, -2
		{0x7bff, 0x477fe000}, // 65504, the largest half
		{0x0400, 0x38800000}, // 2^-14, the smallest normal
		{0x0001, 0x33800000}, // 2^-24, the smallest subnormal
		{0x03ff, 0x387fc000}, // the largest subnormal
		{0x8001, 0xb3800000},
		{0x7c00, 0x7f800000}, {0xfc00, 0xff800000}, // ±inf
		{0x7e00, 0x7fc00000}, {0x7c01, 0x7f802000}, // quiet and signalling NaN keep their payload
	} {
		if got := math.Float32bits(float16To32(c.h)); got != c.want {
			t.Errorf("float16 %#04x: %#08x, want %#08x", c.h, got, c.want)
		}
	}
	if got := math.Float32bits(bfloat16To32(0x3f80)); got != 0x3f800000 {
		t.Errorf("bfloat16 1.0: %#08x", got)
	}
}
