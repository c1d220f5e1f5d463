package checkpoint

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nlpodyssey/gopickle/types"
)

// TestScanPickleRejects checks the limits that keep gopickle from allocating or computing what a
// corrupt length asks for.
func TestScanPickleRejects(t *testing.T) {
	for _, c := range []struct {
		name, pickle, want string
	}{
		{"no STOP", "\x80\x02K\x01", "STOP"},
		{"empty", "", "STOP"},
		{"invalid opcode", "\x80\x02\xff.", "invalid pickle opcode 0xff"},
		{"BINBYTES8 past the end", "\x8e\x00\x00\x00\x00\x00\x00\x00\x40.", "announces"},
		{"BINUNICODE past the end", "X\xff\xff\xff\xff.", "announces"},
		{"FRAME past the end", "\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00.", "announces"},
		{"BINSTRING negative", "T\xff\xff\xff\xff.", "negative length"},
		{"LONG1 empty", "\x8a\x00.", "has 0 bytes"},
		{"LONG4 huge", "\x8b\x00\x10\x00\x00" + strings.Repeat("\x01", 4096) + ".", "4096 bytes"},
		{"endless line", "c" + strings.Repeat("a", maxLineBytes+10) + "\n", "longer than"},
		{"line cut", "ctorch\n_rebuild", "STOP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.pickle)
			_, err := scanPickle(bytes.NewReader(data), 0, int64(len(data)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want %q", err, c.want)
			}
		})
	}
}

func TestScanPickleEnd(t *testing.T) {
	// Two pickles back to back, as in a legacy file: the scan stops after the first STOP.
	data := []byte("\x80\x02K\x07.\x80\x02]q\x00.")
	end, err := scanPickle(bytes.NewReader(data), 0, int64(len(data)))
	if err != nil || end != 5 {
		t.Fatalf("end %d, err %v; want 5", end, err)
	}
	v, next, err := loadPickle(bytes.NewReader(data), end, int64(len(data)), nil)
	if err != nil || next != int64(len(data)) {
		t.Fatalf("second pickle: %v, next %d", err, next)
	}
	if _, ok := v.(*types.List); !ok {
		t.Errorf("second pickle is %T, want a list", v)
	}
}

// TestUnpicklePanics feeds streams on which gopickle panics; unpickle must return an error.
func TestUnpicklePanics(t *testing.T) {
	for name, p := range map[string]string{
		"odd DICT":           "(K\x01d.",
		"odd SETITEMS":       "}(K\x01u.",
		"unhashable set key": "\x8f(C\x01a\x90.",
		"unhashable OrderedDict key": "ccollections\nOrderedDict\n)R" +
			"C\x01aK\x01s.",
	} {
		t.Run(name, func(t *testing.T) {
			data := []byte(p)
			if _, err := scanPickle(bytes.NewReader(data), 0, int64(len(data))); err != nil {
				t.Fatalf("scan: %v", err)
			}
			_, err := unpickle(data, nil)
			if err == nil || !strings.Contains(err.Error(), "malformed pickle") {
				t.Fatalf("err %v, want a malformed pickle", err)
			}
		})
	}
}

// TestArgsCycles builds args that refer to themselves and args whose shared structure doubles at
// each level: converting them must end quickly.
func TestArgsCycles(t *testing.T) {
	// l = []; l.append(l); Namespace(l=l, d=<2^60 paths>)
	var p strings.Builder
	p.WriteString("\x80\x02cargparse\nNamespace\n)\x81}(X\x01\x00\x00\x00l]q\x00h\x00aX\x01\x00\x00\x00d)")
	for i := 0; i < 60; i++ {
		p.WriteString("q\x01h\x01\x86") // t = (t, t)
	}
	p.WriteString("ub.")
	data := []byte(p.String())
	v, err := unpickle(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	args := argsMap(v)
	if time.Since(start) > 5*time.Second {
		t.Errorf("argsMap took %v", time.Since(start))
	}
	l, ok := args["l"].([]any)
	if !ok || len(l) != 1 {
		t.Fatalf("args[l] = %T", args["l"])
	}
	if _, ok := args["d"].([]any); !ok {
		t.Fatalf("args[d] = %T", args["d"])
	}
}

func TestPersistentLoadRejects(t *testing.T) {
	tuple := func(items ...any) *types.Tuple { return types.NewTupleFromSlice(items) }
	float := &storageClass{name: "torch.FloatStorage", dtype: Float32, elemSize: 4}
	for name, pid := range map[string]any{
		"not a tuple":      "storage",
		"short":            tuple("storage", float, "0", "cpu"),
		"other kind":       tuple("module", float, "0", "cpu", 4),
		"int key":          tuple("storage", float, 0, "cpu", 4),
		"negative numel":   tuple("storage", float, "0", "cpu", -1),
		"huge numel":       tuple("storage", float, "0", "cpu", 1<<62),
		"bad view":         tuple("storage", float, "0", "cpu", 4, tuple("v", 0)),
		"negative view":    tuple("storage", float, "0", "cpu", 4, tuple("v", -1, 2)),
		"huge view offset": tuple("storage", float, "0", "cpu", 4, tuple("v", 1<<62, 2)),
	} {
		var reg registry
		if _, err := reg.persistentLoad(pid); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// An unknown storage class still parses: its tensors are metadata only.
	var reg registry
	v, err := reg.persistentLoad(tuple("storage", &pyClass{"torch", "Float8Storage"}, "0", "cpu", 4))
	if err != nil {
		t.Fatal(err)
	}
	tensor, err := newTensor(v, 0, types.NewTupleFromSlice([]any{4}), types.NewTupleFromSlice([]any{1}), 0)
	if err != nil || tensor.DType != 0 || tensor.check() != nil {
		t.Errorf("tensor of an unknown storage class: %v, %v", tensor, err)
	}
}

func TestNewTensorRejects(t *testing.T) {
	st := &storage{key: "0", dtype: Float32, elemSize: 4, numel: 4}
	tup := func(items ...any) *types.Tuple { return types.NewTupleFromSlice(items) }
	for name, args := range map[string][]any{
		"no storage":     {nil, 0, tup(4), tup(1)},
		"float offset":   {st, 0.5, tup(4), tup(1)},
		"size not tuple": {st, 0, 4, tup(1)},
		"rank mismatch":  {st, 0, tup(4, 1), tup(1)},
		"str in size":    {st, 0, tup("4"), tup(1)},
		"too many dims":  {st, 0, types.NewTupleFromSlice(make([]any, maxDims+1)), tup(1)},
	} {
		if _, err := newTensor(args[0], args[1], args[2], args[3], 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := rebuildTensor([]any{st, 0}); err == nil {
		t.Error("rebuildTensor with 2 arguments: no error")
	}
	if _, err := rebuildTensorV3([]any{st, 0, tup(4), tup(1), false, nil, "float32"}); err == nil {
		t.Error("rebuildTensorV3 with a str dtype: no error")
	}
	v, err := rebuildTensorV3([]any{st, 0, tup(2), tup(1), false, nil, &dtypeObject{"torch.float64", Float64}})
	if err != nil || v.(*Tensor).DType != Float64 {
		t.Errorf("rebuildTensorV3: %v, %v", v, err)
	}
}

// TestViewChecks covers views against a 10-element float32 storage, including products that
// would overflow an int64.
func TestViewChecks(t *testing.T) {
	st := &storage{key: "0", dtype: Float32, elemSize: 4, numel: 10}
	for _, c := range []struct {
		shape, strides []int
		offset         int
		ok             bool
	}{
		{[]int{10}, []int{1}, 0, true},
		{[]int{2, 5}, []int{1, 2}, 0, true},
		{[]int{5}, []int{2}, 1, true},
		{[]int{3, 4}, []int{0, 0}, 9, true},
		{[]int{0, 1 << 40}, []int{1 << 40, 1 << 40}, 1 << 40, true}, // empty: nothing to read
		{[]int{}, []int{}, 9, true},
		{[]int{}, []int{}, 10, false},
		{[]int{10}, []int{1}, 1, false},
		{[]int{6}, []int{2}, 0, false},
		{[]int{2, 2}, []int{1 << 62, 1}, 0, false},
		{[]int{1 << 62, 2}, []int{1, 1 << 62}, 0, false},
		{[]int{1 << 30, 1 << 30, 1 << 30}, []int{0, 0, 0}, 0, false},
		{[]int{-1}, []int{1}, 0, false},
		{[]int{2}, []int{-1}, 1, false},
		{[]int{2}, []int{1}, -1, false},
	} {
		tensor := &Tensor{Name: "x", DType: Float32, Shape: c.shape, Strides: c.strides, Offset: c.offset, st: st}
		if err := tensor.check(); (err == nil) != c.ok {
			t.Errorf("shape %v strides %v offset %d: err %v, want ok=%v", c.shape, c.strides, c.offset, err, c.ok)
		}
	}
	// Float32 checks again: a Tensor changed after Open cannot read outside its storage.
	st.located, st.size, st.src = true, 40, &source{path: "mem", ra: bytes.NewReader(make([]byte, 40))}
	tensor := &Tensor{Name: "x", DType: Float32, Shape: []int{11}, Strides: []int{1}, st: st}
	if _, err := tensor.Float32(); err == nil {
		t.Error("Float32 past the storage: no error")
	}
	tensor.Shape = []int{10}
	if v, err := tensor.Float32(); err != nil || len(v) != 10 {
		t.Errorf("Float32: %v, %v", v, err)
	}
	st.size = 20 // the file holds less than the persistent id promised
	if _, err := tensor.Float32(); err == nil {
		t.Error("Float32 past the located bytes: no error")
	}
	st.size, st.src.ra = 40, bytes.NewReader(make([]byte, 20))
	if _, err := tensor.Float32(); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("Float32 of a short file: %v", err)
	}
}
