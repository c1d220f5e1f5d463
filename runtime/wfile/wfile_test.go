package wfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// sample builds a small valid weights file: two F32 tensors, one needing a pad after it.
func sample(t testing.TB) []byte {
	ts := Plan([]Tensor{
		{Name: "a", DType: "F32", Shape: []int{3}},     // 12 bytes: pad follows
		{Name: "b", DType: "F32", Shape: []int{2, 16}}, // 128 bytes
		{Name: "c.weight", DType: "F32", Shape: []int{5}},
	})
	h := Header{Meta: map[string]string{KeyMagic: MagicValue, KeyVersion: "1", KeyArch: "x"}, Tensors: ts}
	prefix, err := Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, h.DataSize())
	for i := range data {
		data[i] = byte(i)
	}
	return append(prefix, data...)
}

func TestPlanAligns(t *testing.T) {
	ts := Plan([]Tensor{{Name: "a", DType: "F32", Shape: []int{3}}, {Name: "b", DType: "F32", Shape: []int{16}}, {Name: "c", DType: "F32", Shape: []int{1}}})
	var names []string
	for _, x := range ts {
		names = append(names, x.Name)
		if x.DType == "F32" && x.Begin%Align != 0 {
			t.Errorf("%s at %d", x.Name, x.Begin)
		}
	}
	if got := strings.Join(names, " "); got != "a __pad__.0 b c" {
		t.Errorf("tensors %s", got)
	}
}

func TestRoundTrip(t *testing.T) {
	b := sample(t)
	h, start, err := ReadHeader(bytes.NewReader(b), int64(len(b)), "w")
	if err != nil {
		t.Fatal(err)
	}
	if start%Align != 0 {
		t.Errorf("data starts at %d", start)
	}
	if h.Meta[KeyArch] != "x" || len(h.Tensors) != 4 {
		t.Errorf("header %+v", h)
	}
	c, ok := h.Tensor("c.weight")
	if !ok || c.Begin != 192 || c.End != 212 {
		t.Errorf("c.weight %+v", c)
	}
	// Encoding is deterministic.
	again, _ := Encode(h)
	if !bytes.Equal(again, b[:start]) {
		t.Error("re-encoding the parsed header gives other bytes")
	}
}

// TestLoads: both ways of loading give the file's bytes, whole or as a section inside a
// larger file, across several of the chunks that Copy reads in parallel.
func TestLoads(t *testing.T) {
	ts := Plan([]Tensor{
		{Name: "small", DType: "F32", Shape: []int{3}},
		{Name: "big", DType: "F32", Shape: []int{5, copyChunk / 8}}, // 2.5 chunks
	})
	h := Header{Meta: map[string]string{KeyMagic: MagicValue, KeyVersion: "1", KeyArch: "x"}, Tensors: ts}
	prefix, err := Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	w := append(prefix, make([]byte, h.DataSize())...)
	for i := len(prefix); i < len(w); i++ {
		w[i] = byte(i*7 + i>>12)
	}
	// The section: PageAlign bytes of something else, the weights, a tail.
	section := append(append(bytes.Repeat([]byte{0xEE}, PageAlign), w...), "tail"...)
	dir := t.TempDir()
	whole, inside := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "prog")
	if err := os.WriteFile(whole, w, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inside, section, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, load := range []Load{Copy, Map} {
		for _, c := range []struct {
			path      string
			off, size int64
		}{{whole, 0, -1}, {inside, PageAlign, int64(len(w))}} {
			f, err := OpenSectionLoad(c.path, c.off, c.size, load)
			if err != nil {
				t.Fatalf("%s %s: %v", load, c.path, err)
			}
			if f.Load != load {
				t.Errorf("%s: File.Load %q", load, f.Load)
			}
			if !bytes.Equal(f.Mapped(), w) {
				t.Errorf("%s %s: the bytes in memory differ from the file's", load, c.path)
			}
			big, _ := f.Header.Tensor("big")
			if got := f.Bytes(big); len(got) != 5*copyChunk/2 || got[1<<20] != w[f.DataStart+big.Begin+1<<20] {
				t.Errorf("%s %s: tensor big wrong", load, c.path)
			}
			if load == Copy && uintptr(unsafe.Pointer(&f.Mapped()[0]))%4096 != 0 {
				t.Errorf("copy at %p: not page-aligned", &f.Mapped()[0])
			}
			if err := f.Close(); err != nil {
				t.Error(err)
			}
			if f.Mapped() != nil {
				t.Error("Close kept the bytes")
			}
		}
	}
}

// TestDefaultLoad: $VITC_WEIGHTS picks the way; a wrong value is an error that names the
// variable and the values it takes, also from Open.
func TestDefaultLoad(t *testing.T) {
	for v, want := range map[string]Load{"": Copy, "copy": Copy, "map": Map} {
		t.Setenv(EnvLoad, v)
		if got, err := DefaultLoad(); err != nil || got != want {
			t.Errorf("%s=%q: %q, %v", EnvLoad, v, got, err)
		}
	}
	p := filepath.Join(t.TempDir(), "w.safetensors")
	if err := os.WriteFile(p, sample(t), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvLoad, "mmap")
	_, err := Open(p)
	if err == nil || !strings.Contains(err.Error(), EnvLoad) || !strings.Contains(err.Error(), `"map"`) {
		t.Errorf("%s=mmap: %v", EnvLoad, err)
	}
	t.Setenv(EnvLoad, "map")
	f, err := Open(p)
	if err != nil || f.Load != Map {
		t.Fatalf("%s=map: %v", EnvLoad, err)
	}
	f.Close()
	if _, err := OpenSectionLoad(p, 0, -1, "lazy"); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("load %q: %v", "lazy", err)
	}
}

// TestBadFiles: every damaged file is an error naming the file, found before the data is
// mapped.
func TestBadFiles(t *testing.T) {
	good := sample(t)
	_, start, _ := ReadHeader(bytes.NewReader(good), int64(len(good)), "w")
	withMeta := func(meta map[string]string) []byte {
		h, _, _ := ReadHeader(bytes.NewReader(good), int64(len(good)), "w")
		for k, v := range meta {
			h.Meta[k] = v
		}
		p, _ := Encode(h)
		return append(p, good[start:]...)
	}
	cases := map[string]struct {
		data    []byte
		want    string
		foreign bool
	}{
		"empty":         {nil, "too short", true},
		"tiny":          {[]byte{1, 2, 3}, "too short", true},
		"huge header":   {[]byte{0, 0, 0, 0, 0, 0, 0, 1, '{', '}'}, "not plausible", true},
		"cut in header": {good[:40], "truncated", false},
		"cut in data":   {good[:len(good)-7], "truncated", false},
		"trailing":      {append(append([]byte{}, good...), 0), "trailing", false},
		"not json":      {append([]byte{4, 0, 0, 0, 0, 0, 0, 0}, "abcd"...), "header", true},
		"jpeg":          {[]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01"), "", true},
		"no vitc meta":  {withMeta(map[string]string{KeyMagic: ""}), "without vitc metadata", true},
		"other version": {withMeta(map[string]string{KeyVersion: "99"}), "version", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.safetensors")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q should name the file and say %q", err, c.want)
			}
			if errors.Is(err, ErrNotWeights) != c.foreign {
				t.Errorf("errors.Is(ErrNotWeights) = %v for %q", !c.foreign, err)
			}
		})
	}
}

func TestTableHashDependsOnEverything(t *testing.T) {
	base := []Tensor{{Name: "a", DType: "F32", Shape: []int{16}, Begin: 0, End: 64}}
	h := TableHash("panel16", base)
	for _, other := range [][]Tensor{
		{{Name: "b", DType: "F32", Shape: []int{16}, Begin: 0, End: 64}},
		{{Name: "a", DType: "F32", Shape: []int{4, 4}, Begin: 0, End: 64}},
		{{Name: "a", DType: "F32", Shape: []int{16}, Begin: 64, End: 128}},
	} {
		if TableHash("panel16", other) == h {
			t.Errorf("same hash for %+v", other)
		}
	}
	if TableHash("panel32", base) == h {
		t.Error("layout name not hashed")
	}
}

func FuzzReadHeader(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, start, err := ReadHeader(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			return
		}
		// A header that passes describes exactly the bytes that are there.
		if start+h.DataSize() != int64(len(b)) {
			t.Fatalf("accepted header describes %d bytes, file has %d", start+h.DataSize(), len(b))
		}
		for _, x := range h.Tensors {
			if x.Begin < 0 || x.End > h.DataSize() || x.Begin > x.End {
				t.Fatalf("tensor %+v out of range", x)
			}
		}
	})
}
