// Package compile turns a model name into a loaded model in one call, as the Python loader's
// load_model does: a model id is downloaded from the hub into the cache Python shares
// (gen/hub), a checkpoint is compiled (gen/pack) into a cache keyed by its SHA-256 and the
// options, and the weights are mapped (runtime/vit). The second load of a model starts at
// once.
//
//	m, err := compile.Load(ctx, "vith14@476_1.0_1", compile.Options{Finetuned: true})
package compile

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vitc-dev/vitc/gen/checkpoint"
	"github.com/vitc-dev/vitc/gen/hub"
	"github.com/vitc-dev/vitc/gen/modelid"
	"github.com/vitc-dev/vitc/gen/pack"
	"github.com/vitc-dev/vitc/runtime/atomicfile"
	"github.com/vitc-dev/vitc/runtime/engine"
	"github.com/vitc-dev/vitc/runtime/progress"
	"github.com/vitc-dev/vitc/runtime/vit"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// Options say which model to load and how to compile it.
type Options struct {
	Finetuned bool   // for a model id: the checkpoint finetuned on ImageNet (else the MAE-pretrained one)
	Image     int    // compile for this image size (position embeddings interpolated); 0: the checkpoint's
	Heads     int    // attention heads for checkpoints that do not say; 0: from args.model or the hub's table
	Name      string // architecture name to compile as; "": derived (e.g. "vith14@448")
	DType     string // precision of the blocks' matrices: engine.F32 (also ""), BF16 or Int8

	Hub      *hub.Client      // for model ids; nil: hub.NewFromEnv()
	Progress progress.Factory // how to show downloads and compilation; nil: nothing
}

func (o Options) pack() pack.Options {
	return pack.Options{Image: o.Image, Heads: o.Heads, Name: o.Name}
}

// dtype is the precision asked for, engine.F32 by default.
func (o Options) dtype() string { return cmp.Or(o.DType, engine.F32) }

// compiles reports whether any compile option is set.
func (o Options) compiles() bool { return o.pack() != pack.Options{} }

// CacheDir is where compiled weights are kept: $VITC_CACHE, else $XDG_CACHE_HOME/vitc, else
// ~/.cache/vitc.
func CacheDir() (string, error) {
	if d := os.Getenv("VITC_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "vitc"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set VITC_CACHE (%v)", err)
	}
	return filepath.Join(home, ".cache", "vitc"), nil
}

// Kind tells what a file is.
type Kind int

const (
	Unknown    Kind = iota
	Weights         // a vitc weights file
	Checkpoint      // anything else: treated as a PyTorch checkpoint
)

// Sniff tells a vitc weights file from a checkpoint without reading more than the header.
func Sniff(path string) (Kind, error) {
	f, err := os.Open(path)
	if err != nil {
		return Unknown, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Unknown, err
	}
	if st.IsDir() {
		return Unknown, fmt.Errorf("%s is a directory, not a model file", path)
	}
	_, _, err = wfile.ReadHeader(f, st.Size(), path)
	switch {
	case err == nil:
		return Weights, nil
	case errors.Is(err, wfile.ErrNotWeights):
		return Checkpoint, nil
	default:
		// A safetensors header that is damaged or of another version: say so rather than
		// trying it as a checkpoint.
		return Weights, err
	}
}

// Result describes a compilation.
type Result struct {
	Model  *pack.Model
	Path   string // the weights file
	SHA256 string // of the checkpoint
	Cached bool   // true when the weights came from the cache
}

// File compiles the checkpoint at ckpt into the weights file out.
func File(ckpt, out string, opt Options) (*Result, error) {
	return compileTo(ckpt, opt, func(*pack.Model, string) (string, bool, error) { return out, false, nil })
}

// Cached returns the weights file of a checkpoint, compiling it into the cache unless it is
// there already. Cached files are named by the checkpoint's SHA-256, the architecture and the
// layout, so a changed checkpoint or a new layout never picks up a stale file.
func Cached(ckpt string, opt Options) (*Result, error) {
	dir, err := CacheDir()
	if err != nil {
		return nil, err
	}
	return compileTo(ckpt, opt, func(m *pack.Model, sum string) (string, bool, error) {
		_, hash, err := pack.Table(m)
		if err != nil {
			return "", false, err
		}
		name := fmt.Sprintf("%s-%s-v%d-%.12s.safetensors", sum, strings.ReplaceAll(m.Config.Name, "/", "_"), wfile.Version, hash)
		path := filepath.Join(dir, "weights", name)
		if _, err := os.Stat(path); err == nil {
			return path, true, nil
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			return "", false, fmt.Errorf("compiled-weights cache: %v (set VITC_CACHE to use another directory)", err)
		}
		return path, false, nil
	})
}

// compileTo analyses a checkpoint and writes its weights where target says, unless target
// reports that they are there already.
func compileTo(ckpt string, opt Options, target func(m *pack.Model, sum string) (path string, exists bool, err error)) (*Result, error) {
	ck, err := checkpoint.Open(ckpt)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	m, err := pack.Analyze(ck, opt.pack())
	if err != nil {
		return nil, err
	}
	if err := engine.CheckDType(opt.dtype()); err != nil {
		return nil, err
	}
	m.DType = opt.dtype()
	sum, err := checkpointSHA256(ckpt)
	if err != nil {
		return nil, err
	}
	path, exists, err := target(m, sum)
	if err != nil {
		return nil, err
	}
	res := &Result{Model: m, Path: path, SHA256: sum, Cached: exists}
	if exists {
		return res, nil
	}
	if err := pack.Write(ck, m, pack.Source{Name: filepath.Base(ckpt), SHA256: sum}, path, packProgress(opt.Progress, "compiling "+filepath.Base(ckpt))); err != nil {
		return nil, err
	}
	return res, nil
}

// Resolve returns the file a model name stands for: a model id ("vits14_1.0_1") is taken
// from the hub cache, downloading it if it is not there (no request at all when it is); a
// path is returned as it is.
func Resolve(ctx context.Context, name string, opt Options) (string, error) {
	if _, err := os.Stat(name); err == nil || !modelid.LooksLikeID(name) {
		if err != nil {
			return "", fmt.Errorf("model %q: %w", name, err)
		}
		return name, nil
	}
	id, err := modelid.Parse(name)
	if err != nil {
		return "", err
	}
	c := opt.Hub
	if c == nil {
		if c, err = hub.NewFromEnv(); err != nil {
			return "", err
		}
	}
	if opt.Progress != nil {
		c.Progress = opt.Progress
	}
	path := id.HubPath(opt.Finetuned)
	if p, ok := c.Cached(modelid.Repo, "main", path); ok {
		return p, nil
	}
	return c.Download(ctx, modelid.Repo, "main", path)
}

// Load opens a model by id, checkpoint path or weights file path, downloading and compiling
// through the caches as needed.
func Load(ctx context.Context, name string, opt Options) (*vit.Model, error) {
	path, err := WeightsFile(ctx, name, opt)
	if err != nil {
		return nil, err
	}
	return vit.Open(path)
}

// WeightsFile returns the compiled weights file of a model id, checkpoint path or weights file
// path, downloading and compiling through the caches as needed. A weights file given as it is
// must be in the precision opt asks for (when it asks).
func WeightsFile(ctx context.Context, name string, opt Options) (string, error) {
	path, err := Resolve(ctx, name, opt)
	if err != nil {
		return "", err
	}
	kind, err := Sniff(path)
	if err != nil {
		return "", err
	}
	if kind != Weights {
		res, err := Cached(path, opt)
		if err != nil {
			return "", err
		}
		return res.Path, nil
	}
	if opt.compiles() {
		return "", fmt.Errorf("%s is already compiled: --image, --heads and --name apply to checkpoints", path)
	}
	if opt.DType != "" {
		f, err := wfile.OpenSectionLoad(path, 0, -1, wfile.Map) // the header alone
		if err != nil {
			return "", err
		}
		dtype := cmp.Or(f.Header.Meta[wfile.KeyDType], engine.F32)
		f.Close()
		if dtype != opt.dtype() {
			return "", fmt.Errorf("%s is compiled in %s, not %s: compile the checkpoint again with --dtype %s", path, dtype, opt.dtype(), opt.dtype())
		}
	}
	return path, nil
}

// packProgress shows the weights compiler's progress through a progress.Factory.
func packProgress(f progress.Factory, name string) pack.Progress {
	if f == nil {
		return nil
	}
	var r progress.Reporter
	return func(done, total int64) {
		if r == nil {
			r = f(name, total, progress.Bytes)
		}
		r.Set(done)
		if done >= total {
			r.Done()
		}
	}
}

// checkpointSHA256 hashes a checkpoint, remembering the result in the cache by path, size,
// modification time and inode, so that a multi-gigabyte file is hashed once.
func checkpointSHA256(path string) (string, error) {
	// A blob of the hub cache is named by its SHA-256, which the download verified.
	if etag, ok := hub.BlobEtag(path); ok && len(etag) == 64 {
		return etag, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	abs, _ := filepath.Abs(path)
	ino := inode(st)
	key := sha256.Sum256([]byte(abs + "\x00" + strconv.FormatInt(st.Size(), 10) + "\x00" + strconv.FormatInt(st.ModTime().UnixNano(), 10) + "\x00" + strconv.FormatUint(ino, 10)))
	var memo string
	if dir, err := CacheDir(); err == nil {
		memo = filepath.Join(dir, "sha256", hex.EncodeToString(key[:16]))
		if b, err := os.ReadFile(memo); err == nil && len(b) == 64 {
			return string(b), nil
		}
	}
	sum, err := pack.FileSHA256(path)
	if err != nil {
		return "", err
	}
	if memo != "" {
		if os.MkdirAll(filepath.Dir(memo), 0o777) == nil {
			_ = atomicfile.WriteFile(memo, []byte(sum))
		}
	}
	return sum, nil
}
