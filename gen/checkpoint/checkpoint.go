package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// Checkpoint is an open checkpoint file: its model state dict and the training run's metadata.
// The tensors' elements stay in the file until Tensor.Float32 reads them.
type Checkpoint struct {
	Path    string
	Format  string             // "zip" or "legacy"
	Tensors map[string]*Tensor // the model state dict (all entries that are tensors)
	Args    map[string]any     // fields of args (argparse.Namespace); nil when absent
	Epoch   int                // -1 when absent
	Extras  []string           // other top-level keys present, sorted (e.g. "optimizer", "scaler")
	Bare    bool               // true when the file is a bare state dict

	file *os.File
	src  *source
	// legacy holds where each storage's bytes are in a legacy file, by key.
	legacy map[string]section
}

// section is a run of bytes in the file.
type section struct{ offset, size int64 }

// modelKeys are the top-level entries that may hold the model state dict, in order of
// preference: MAE's "model", then the names other training scripts use.
var modelKeys = []string{"model", "state_dict", "model_ema"}

// Open reads a checkpoint's metadata: the pickle that describes its objects and, in the legacy
// format, the headers of its storage sections. Tensor data are not read. The file stays open
// for Tensor.Float32 until Close.
//
// The model state dict is the top-level "model" entry ("state_dict" or "model_ema" when there is
// no "model"); a top-level dict without any of them is taken as a bare state dict, and then Args
// is nil, Epoch -1 and Extras lists its keys whose values are not tensors. Entries of the state
// dict that are not tensors are left out of Tensors. A file that holds a single tensor, or no
// tensors at all, is an error.
func Open(path string) (*Checkpoint, error) {
	return openFile(path, nil)
}

// openFile is Open with a hook that tests use to watch every read.
func openFile(path string, wrap func(io.ReaderAt) io.ReaderAt) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("checkpoint %s: cannot open: %w", path, err)
	}
	c := &Checkpoint{Path: path, Epoch: -1, file: f, src: &source{path: path, ra: f}}
	if wrap != nil {
		c.src.ra = wrap(f)
	}
	if err := c.open(); err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the file; the tensors cannot be read afterwards.
func (c *Checkpoint) Close() error {
	if c.file == nil {
		return nil
	}
	err := c.file.Close()
	c.file = nil
	return err
}

// Names returns the tensor names, sorted.
func (c *Checkpoint) Names() []string {
	names := make([]string, 0, len(c.Tensors))
	for name := range c.Tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ArgString returns the string field name of args; ok is false when it is absent or not a string.
func (c *Checkpoint) ArgString(name string) (string, bool) {
	s, ok := c.Args[name].(string)
	return s, ok
}

// ArgInt returns the int field name of args; ok is false when it is absent or not an int.
func (c *Checkpoint) ArgInt(name string) (int, bool) {
	i, ok := c.Args[name].(int)
	return i, ok
}

// errorf makes an error that names the file.
func (c *Checkpoint) errorf(format string, args ...any) error {
	return fmt.Errorf("checkpoint %s: %w", c.Path, fmt.Errorf(format, args...))
}

func (c *Checkpoint) open() error {
	info, err := c.file.Stat()
	if err != nil {
		return c.errorf("cannot stat: %w", err)
	}
	if info.IsDir() {
		return c.errorf("is a directory, not a checkpoint file")
	}
	size := info.Size()
	if size == 0 {
		return c.errorf("file is empty (0 bytes): the download or torch.save did not complete")
	}
	head := make([]byte, 512)
	n, err := c.src.ra.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return c.errorf("cannot read: %w", err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		c.Format = "zip"
		return c.openZip(size)
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return c.errorf("a tar archive: the tar format of very old torch versions is not supported; " +
			"load it with torch and save it again with torch.save (torch >= 1.6)")
	}
	c.Format = "legacy"
	return c.openLegacy(size, head)
}

// registry collects the storages that the persistent ids of a pickle name.
type registry struct {
	byKey map[string]*storage
	views map[string]*storage
}

// persistentLoad resolves a persistent id ('storage', storage_class, key, location, numel
// [, view_metadata]) to the storage it names, creating it on first sight: later ids with the
// same key share it, as torch's loader does.
func (r *registry) persistentLoad(pid any) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || len(*t) < 5 {
		return nil, fmt.Errorf("persistent id is %s, not a storage tuple", describe(pid))
	}
	id := *t
	if tag, _ := id[0].(string); tag != "storage" {
		return nil, fmt.Errorf("persistent id of kind %s, not 'storage'", describe(id[0]))
	}
	key, ok := id[2].(string)
	if !ok {
		return nil, fmt.Errorf("storage key is %s, not a str", describe(id[2]))
	}
	numel, ok := toInt(id[4])
	if !ok || numel < 0 {
		return nil, fmt.Errorf("storage %q: element count is %s", key, describe(id[4]))
	}
	var class storageClass
	switch c := id[1].(type) {
	case *storageClass:
		class = *c
	case *pyClass:
		class.name = c.String()
	default:
		class.name = describe(c)
	}
	if class.elemSize > 0 && int64(numel) > maxStorageBytes/int64(class.elemSize) {
		return nil, fmt.Errorf("storage %q claims %d elements", key, numel)
	}
	if r.byKey == nil {
		r.byKey = make(map[string]*storage)
		r.views = make(map[string]*storage)
	}
	st := r.byKey[key]
	if st == nil {
		st = &storage{key: key, class: class.name, dtype: class.dtype, elemSize: class.elemSize, numel: int64(numel)}
		r.byKey[key] = st
	}
	if len(id) < 6 || id[5] == nil {
		return st, nil
	}
	// A storage view of the legacy format: (view_key, offset, numel), in the root's elements.
	v, ok := id[5].(*types.Tuple)
	if !ok || len(*v) != 3 {
		return nil, fmt.Errorf("storage %q: view metadata is %s, not a 3-tuple", key, describe(id[5]))
	}
	viewKey, ok1 := (*v)[0].(string)
	offset, ok2 := toInt((*v)[1])
	viewNumel, ok3 := toInt((*v)[2])
	if !ok1 || !ok2 || !ok3 || offset < 0 || viewNumel < 0 {
		return nil, fmt.Errorf("storage %q: malformed view metadata", key)
	}
	if st.elemSize == 0 || int64(offset) > maxStorageBytes/int64(st.elemSize) ||
		int64(viewNumel) > maxStorageBytes/int64(st.elemSize) {
		return nil, fmt.Errorf("storage %q: view %q of %d elements at %d is out of range", key, viewKey, viewNumel, offset)
	}
	view := r.views[viewKey]
	if view == nil {
		view = &storage{key: viewKey, class: st.class, dtype: st.dtype, elemSize: st.elemSize,
			numel: int64(viewNumel), root: st, rootOffset: int64(offset) * int64(st.elemSize)}
		r.views[viewKey] = view
	}
	return view, nil
}

// fill picks the model state dict, args, epoch and extras out of the unpickled top-level object,
// then locates the storages of the model's tensors (only those) with find and checks every view.
func (c *Checkpoint) fill(top any, find func(*storage) error) error {
	if _, ok := top.(*Tensor); ok {
		return c.errorf("holds a single tensor, not a state dict: save a dict such as " +
			"{'model': model.state_dict()}")
	}
	entries, ok := dictEntries(top)
	if !ok {
		return c.errorf("holds %s, not a dict of tensors", describe(top))
	}
	topLevel := make(map[string]any, len(entries))
	for _, e := range entries {
		if k, ok := e.Key.(string); ok {
			topLevel[k] = e.Value
		}
	}
	state, modelKey := entries, ""
	for _, k := range modelKeys {
		if s, ok := dictEntries(topLevel[k]); ok {
			state, modelKey = s, k
			break
		}
	}
	c.Bare = modelKey == ""
	c.Tensors = make(map[string]*Tensor)
	for _, e := range state {
		name, ok1 := e.Key.(string)
		t, ok2 := e.Value.(*Tensor)
		if !ok1 || !ok2 {
			continue
		}
		// A tensor object can appear under two names (tied weights); each name gets its own copy.
		named := *t
		named.Name = name
		named.Shape = slices.Clone(t.Shape)
		named.Strides = slices.Clone(t.Strides)
		c.Tensors[name] = &named
	}
	if len(c.Tensors) == 0 {
		if c.Bare {
			return c.errorf("holds no model state dict: no 'model' entry and no tensors among its top-level keys %s",
				keyList(topLevel))
		}
		return c.errorf("its %q entry holds no tensors", modelKey)
	}
	for k, v := range topLevel {
		_, isTensor := v.(*Tensor)
		switch {
		case c.Bare && isTensor:
		case !c.Bare && (k == modelKey || k == "args" || k == "epoch"):
		default:
			c.Extras = append(c.Extras, k)
		}
	}
	sort.Strings(c.Extras)
	if !c.Bare {
		c.Args = argsMap(topLevel["args"])
		if e, ok := topLevel["epoch"].(int); ok {
			c.Epoch = e
		}
	}
	for _, name := range c.Names() {
		t := c.Tensors[name]
		if err := c.locate(t.st, find); err != nil {
			return c.errorf("tensor %q: %w", name, err)
		}
		if err := t.check(); err != nil {
			return c.errorf("tensor %q: %w", name, err)
		}
	}
	return nil
}

// locate finds where a storage's bytes are in the file and checks that they hold what its
// persistent id promises.
func (c *Checkpoint) locate(st *storage, find func(*storage) error) error {
	if st.located {
		return nil
	}
	if st.root != nil {
		if err := c.locate(st.root, find); err != nil {
			return err
		}
		r := st.root
		if st.rootOffset > r.size || st.nbytes() > r.size-st.rootOffset {
			return fmt.Errorf("storage view %q (%d bytes at %d) reaches past the end of storage %q of %d bytes",
				st.key, st.nbytes(), st.rootOffset, r.key, r.size)
		}
		st.src, st.deflate, st.offset, st.size = r.src, r.deflate, r.offset+st.rootOffset, st.nbytes()
		st.located = true
		return nil
	}
	if err := find(st); err != nil {
		return err
	}
	if st.elemSize > 0 && st.nbytes() > st.size {
		return fmt.Errorf("storage %q holds %d bytes, but its persistent id promises %d elements of %d bytes "+
			"(truncated or corrupt file)", st.key, st.size, st.numel, st.elemSize)
	}
	st.src = c.src
	st.located = true
	return nil
}

// keyList formats a few keys for an error message.
func keyList(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	more := ""
	if len(keys) > 10 {
		keys, more = keys[:10], fmt.Sprintf(" and %d more", len(keys)-10)
	}
	return fmt.Sprintf("%q%s", keys, more)
}

// Limits on converting args: a pickle can build cyclic or exponentially shared structures.
const (
	maxArgDepth = 32
	maxArgNodes = 1 << 16
)

// argsMap turns args (an argparse.Namespace, or a plain dict) into Go values.
func argsMap(v any) map[string]any {
	cv := converter{budget: maxArgNodes}
	switch x := v.(type) {
	case *pyObject:
		if m, ok := cv.object(x, 0); ok {
			return m
		}
	default:
		if entries, ok := dictEntries(x); ok {
			return cv.dict(entries, 0)
		}
	}
	return nil
}

// converter turns pickled values into plain Go values: nil, bool, int, float64, string, []any and
// map[string]any. Integers beyond 64 bits become decimal strings; objects become maps of their
// fields, or "module.Class" strings when they have none. Past maxArgDepth, or once maxArgNodes
// values are converted, values become nil: that is how cycles end.
type converter struct{ budget int }

func (cv *converter) value(v any, depth int) any {
	if depth > maxArgDepth || cv.budget <= 0 {
		return nil
	}
	cv.budget--
	switch x := v.(type) {
	case nil, bool, int, float64, string:
		return x
	case *big.Int:
		if x.IsInt64() && int64(int(x.Int64())) == x.Int64() {
			return int(x.Int64())
		}
		return x.String()
	case []byte:
		return string(x)
	case *types.ByteArray:
		return string(*x)
	case *types.Tuple:
		return cv.list(*x, depth)
	case *types.List:
		return cv.list(*x, depth)
	case *types.Dict, *types.OrderedDict:
		entries, _ := dictEntries(x)
		return cv.dict(entries, depth)
	case *pyObject:
		if m, ok := cv.object(x, depth); ok {
			return m
		}
		if len(x.list) > 0 {
			return cv.list(x.list, depth)
		}
		return x.class.String()
	case *pyClass:
		return x.String()
	case *storageClass:
		return x.name
	case *dtypeObject:
		return x.name
	case *torchFunc:
		return x.name
	case *Tensor:
		return fmt.Sprintf("tensor(%s, shape %v)", x.DType, x.Shape)
	}
	return fmt.Sprintf("%T", v)
}

func (cv *converter) list(items []any, depth int) []any {
	out := make([]any, 0, len(items))
	for _, item := range items {
		if cv.budget <= 0 {
			break
		}
		out = append(out, cv.value(item, depth+1))
	}
	return out
}

func (cv *converter) dict(entries []types.DictEntry, depth int) map[string]any {
	out := make(map[string]any, len(entries))
	for _, e := range entries {
		if cv.budget <= 0 {
			break
		}
		var key string
		switch k := e.Key.(type) {
		case string:
			key = k
		case int, bool, float64:
			key = fmt.Sprint(k)
		default:
			key = fmt.Sprint(cv.value(k, depth+1))
		}
		out[key] = cv.value(e.Value, depth+1)
	}
	return out
}

// object converts an instance whose state is a dict of fields, as BUILD gives argparse.Namespace
// (a (dict, slots) pair for classes with __slots__).
func (cv *converter) object(o *pyObject, depth int) (map[string]any, bool) {
	state := o.state
	if t, ok := state.(*types.Tuple); ok && len(*t) == 2 {
		state = (*t)[0]
	}
	if entries, ok := dictEntries(state); ok {
		return cv.dict(entries, depth), true
	}
	return nil, false
}

// headPreview shows the first bytes of a file that is not a checkpoint.
func headPreview(head []byte) string {
	if len(head) > 8 {
		head = head[:8]
	}
	return strings.TrimSpace(fmt.Sprintf("% x", head))
}
