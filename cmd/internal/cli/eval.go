package cli

// vitc eval scores a finetuned model on an ImageNet validation folder as the authors'
// test_model.py does, and prints its summary line, `* Acc@1 44.114 Acc@5 71.064`.
//
// Running it on a cluster. The run can be split into N deterministic shards (shard K takes
// the images i of the sorted list with i % N == K), each resumable, and merged afterwards.
// As a Kubernetes Indexed Job: set `completionMode: Indexed`, `completions: N` and
// `parallelism` as you like, mount the validation folder (read-only is fine) and one shared
// volume for the outputs in every pod, and run
//
//	vitc eval --model vith14@476_1.0_1 --val-data /data/val \
//	    --shard $JOB_COMPLETION_INDEX/N --output /out/shard-$JOB_COMPLETION_INDEX.csv
//
// A pod that is killed and restarted picks up its own output file and goes on after the last
// complete record. When the job is complete,
//
//	vitc eval merge /out/all.csv /out/shard-*.csv
//
// checks that the shards come from the same model and image list and cover 0..N-1, writes
// the predictions of all images in one file (the same file an unsharded run writes) and
// prints the same summary line as an unsharded run. Paths in the outputs are relative to
// --val-data, so pods may mount it anywhere.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vitc-dev/vitc/runtime/atomicfile"
	"github.com/vitc-dev/vitc/runtime/labels"
	"github.com/vitc-dev/vitc/runtime/progress"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

const evalUsage = `[--model MODEL] --val-data DIR [--input-size N] [--batch-size B]
       [--output F.csv|F.jsonl] [--skip-bad] [--shard K/N]
   or: vitc eval merge OUT SHARD...

Scores a finetuned model on an ImageNet validation folder as test_model.py does and prints
its summary line, "* Acc@1 {acc1:.3f} Acc@5 {acc5:.3f}" (percentages).

DIR is in torchvision ImageFolder layout: one sub-folder per class, the images below it (any
depth; .jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp, any case), all in sorted order.
Folders named by WordNet id (n01440764...) are scored against the model's class of that id,
so a folder with only some of the 1000 classes is scored right; if no folder is a WordNet id,
a folder's class is its position in the sorted list, as ImageFolder's.

Predictions go to --output, one record per image in sorted order, flushed after every batch:
  .csv:   a first line "# vitc eval {json header}", then path,target,top1,top5_hit,top5,error
          (top1: predicted class index; top5_hit: 1 or 0; top5: five class indices,
          space-separated; error: why an image was skipped, the other fields empty)
  .jsonl: a first line {"header": {...}}, then {"path","target","top1","top5_hit","top5"}
          or {"path","target","error"} per image
Paths are relative to DIR. The default --output is eval-<model>.csv (eval-<model>.shard-K-of-N.csv
with --shard) in the current folder. The header holds the model, the input size, the shard
and a hash of the image list. Rerunning with an existing output of the same evaluation goes
on after its last complete record (a kill loses at most a batch); an output of another
evaluation is refused. The summary is computed from the records in the file.

An unreadable image stops the run, naming it; with --skip-bad it is reported, recorded as
skipped and left out of the accuracy.

--shard K/N evaluates only the images i with i % N == K (0 <= K < N) of the sorted list.
'vitc eval merge OUT SHARD...' checks that the shard outputs are of the same evaluation and
cover 0..N-1, writes all predictions to OUT (csv or jsonl by extension, as an unsharded run
would) and prints the summary of the whole. As a Kubernetes Indexed Job (completions: N, the
outputs on a shared volume):
  vitc eval --val-data /data/val --shard $JOB_COMPLETION_INDEX/N --output /out/s$JOB_COMPLETION_INDEX.csv
then, once all are complete: vitc eval merge /out/all.csv /out/s*.csv`

// evalHeader identifies an evaluation: an output is resumed, or shards are merged, only
// when everything but Model (how the model was named) is the same.
type evalHeader struct {
	Format    string `json:"format"`
	Model     string `json:"model"`
	Arch      string `json:"arch"`
	Weights   string `json:"weights_sha256"` // the checkpoint's SHA-256 (else the weights')
	InputSize int    `json:"input_size"`
	Targets   string `json:"targets"` // "wnid" or "index"
	Images    int    `json:"images"`  // in the whole list, all shards
	List      string `json:"list_sha256"`
	Shard     string `json:"shard"` // "K/N"; "0/1" when not sharded
}

const evalFormat = "vitc-eval/1"

// differs names the fields in which h and o differ, Model and Shard aside: "name o vs h".
func (h evalHeader) differs(o evalHeader) []string {
	var d []string
	add := func(name string, a, b any) {
		if a != b {
			d = append(d, fmt.Sprintf("%s %v vs %v", name, b, a))
		}
	}
	add("format", h.Format, o.Format)
	add("architecture", h.Arch, o.Arch)
	add("weights", h.Weights, o.Weights)
	add("input size", h.InputSize, o.InputSize)
	add("targets", h.Targets, o.Targets)
	add("images", h.Images, o.Images)
	add("image list", h.List, o.List)
	return d
}

// evalItem is one image of the folder.
type evalItem struct {
	rel    string // slash-separated, relative to the folder
	path   string
	target int
}

// evalRecord is one line of the output.
type evalRecord struct {
	Path   string `json:"path"`
	Target int    `json:"target"`
	Top1   *int   `json:"top1,omitempty"`
	Hit5   *bool  `json:"top5_hit,omitempty"`
	Top5   []int  `json:"top5,omitempty"`
	Error  string `json:"error,omitempty"`
}

type evalFile struct {
	header  evalHeader
	records []evalRecord
	size    int64 // bytes of the complete part: header and complete records
}

func cmdEval(e *env, args []string) error {
	if len(args) > 0 && args[0] == "merge" {
		return cmdEvalMerge(e, args[1:])
	}
	fs := e.flags("eval", evalUsage)
	var mf modelFlags
	mf.registerDefault(e, fs, true)
	dir := fs.String("val-data", "", "the validation folder, in ImageFolder layout (required)")
	inputSize := fs.Int("input-size", 0, "test_model.py's --input_size (default: the model's image size; another size needs a model compiled for it, --image)")
	batch := fs.Int("batch-size", 64, "images per forward pass")
	output := fs.String("output", "", "per-image predictions, .csv or .jsonl (default eval-<model>.csv); an existing one of the same evaluation is resumed")
	skipBad := fs.Bool("skip-bad", false, "report unreadable images, record them as skipped and go on (default: stop at the first)")
	shardFlag := fs.String("shard", "", "K/N: evaluate only the images i with i % N == K (merge with 'vitc eval merge')")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--val-data is required")
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q (the images come from --val-data)", fs.Args())
	}
	if *batch <= 0 || *inputSize < 0 {
		return usagef("--batch-size must be positive and --input-size not negative")
	}
	k, n := 0, 1
	if *shardFlag != "" {
		var err error
		if k, n, err = parseShard(*shardFlag); err != nil {
			return err
		}
	}
	out := *output
	if out == "" {
		out = "eval-" + modelStem(mf.model)
		if n > 1 {
			out += fmt.Sprintf(".shard-%d-of-%d", k, n)
		}
		out += ".csv"
	}
	jsonl, err := isJSONL(out)
	if err != nil {
		return err
	}
	items, byWNID, err := listImageFolder(*dir)
	if err != nil {
		return err
	}
	if !byWNID {
		fmt.Fprintf(e.stderr, "%s: no class folder is named by a WordNet id: the class of a folder is its position in the sorted list, as ImageFolder's\n", *dir)
	}

	m, err := mf.loadClassifier(e, "eval", false, manyImages)
	if err != nil {
		return err
	}
	defer m.Close()
	size := m.ImageSize()
	if *inputSize != 0 && *inputSize != size {
		return fmt.Errorf("--input-size %d, but %s is compiled for %d px: the position embeddings must be interpolated for %d, so pass --image %d as well", *inputSize, m.Arch().Name, size, *inputSize, *inputSize)
	}
	if m.Classes() < 5 {
		return fmt.Errorf("%s has %d classes: top-5 accuracy needs at least 5", mf.model, m.Classes())
	}
	if byWNID && m.Classes() != len(labels.ImageNet) {
		return fmt.Errorf("%s has %d classes, not ImageNet's %d: the WordNet ids of the folders are not its classes", mf.model, m.Classes(), len(labels.ImageNet))
	}
	for _, it := range items {
		if it.target >= m.Classes() {
			return fmt.Errorf("%s: class %d, but %s has %d classes", it.rel, it.target, mf.model, m.Classes())
		}
	}

	weights := m.Meta(wfile.KeySourceSHA256)
	if weights == "" {
		weights = m.Meta(wfile.KeyDataSHA256)
	}
	h := evalHeader{Format: evalFormat, Model: mf.model, Arch: m.Arch().Name, Weights: weights, InputSize: size,
		Targets: targetKind(byWNID), Images: len(items), List: listHash(items), Shard: fmt.Sprintf("%d/%d", k, n)}
	var mine []evalItem
	for i, it := range items {
		if i%n == k {
			mine = append(mine, it)
		}
	}

	// Resume, or start the file.
	f, done, err := openEvalOutput(e, out, h, jsonl, mine)
	if err != nil {
		return err
	}
	defer f.Close()

	todo := mine[done:]
	if len(todo) > 0 {
		paths := make([]string, len(todo))
		for i, it := range todo {
			paths[i] = it.path
		}
		rep := e.progress()(fmt.Sprintf("evaluating %s on %s", m.Arch().Name, *dir), int64(len(todo)), progress.Items)
		bs, errc := batches(paths, size, *batch, *skipBad)
		err := func() error {
			next := 0
			classes := m.Classes()
			for b := range bs {
				chunk := todo[next:min(next+*batch, len(todo))]
				next += len(chunk)
				var logits []float32
				if len(b.paths) > 0 {
					var err error
					if logits, err = m.Logits(b.x, len(b.paths)); err != nil {
						return err
					}
				}
				skippedErr := map[string]error{}
				for _, s := range b.skipped {
					fmt.Fprintf(e.stderr, "skipping: %v\n", s.err)
					skippedErr[s.path] = s.err
				}
				var buf bytes.Buffer
				j := 0
				for _, it := range chunk {
					r := evalRecord{Path: it.rel, Target: it.target}
					if serr, bad := skippedErr[it.path]; bad {
						r.Error = serr.Error()
					} else {
						r.Top5 = top5(logits[j*classes : (j+1)*classes])
						j++
						top1, hit := r.Top5[0], slices.Contains(r.Top5, it.target)
						r.Top1, r.Hit5 = &top1, &hit
					}
					if err := writeRecord(&buf, r, jsonl); err != nil {
						return err
					}
				}
				if j != len(b.paths) {
					return fmt.Errorf("internal error: batch of %d images, %d results", len(chunk), j)
				}
				if _, err := f.Write(buf.Bytes()); err != nil {
					return err
				}
				if err := f.Sync(); err != nil {
					return err
				}
				rep.Add(int64(len(chunk)))
			}
			return <-errc
		}()
		rep.Done()
		if err != nil {
			go func() {
				for range bs {
				}
			}()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}

	// The summary comes from what the file holds.
	ef, err := readEvalFile(out)
	if err != nil {
		return err
	}
	if len(ef.records) != len(mine) {
		return fmt.Errorf("%s: %d records after the run, want %d", out, len(ef.records), len(mine))
	}
	if n > 1 {
		fmt.Fprintf(e.stderr, "shard %d/%d: %d of the %d images; 'vitc eval merge' the shards for the whole\n", k, n, len(mine), len(items))
	}
	return printSummary(e, ef.records)
}

// openEvalOutput opens the output for appending: a new file with its header, or an
// existing one of the same evaluation cut after its last complete record. It returns how
// many of the shard's images are already done.
func openEvalOutput(e *env, out string, h evalHeader, jsonl bool, mine []evalItem) (*os.File, int, error) {
	var head bytes.Buffer
	if err := writeHeader(&head, h, jsonl); err != nil {
		return nil, 0, err
	}
	data, err := os.ReadFile(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, 0, err
	case len(data) > 0 && !bytes.HasPrefix(head.Bytes(), data): // else only a start of the header was written
		ef, err := parseEvalFile(out, data)
		if err != nil {
			return nil, 0, fmt.Errorf("%v; delete it or choose another --output", err)
		}
		if (data[0] == '{') != jsonl {
			return nil, 0, fmt.Errorf("%s is not in the format its extension says; delete it or choose another --output", out)
		}
		if d := h.differs(ef.header); len(d) > 0 || ef.header.Shard != h.Shard {
			if ef.header.Shard != h.Shard {
				d = append(d, "shard "+ef.header.Shard+" vs "+h.Shard)
			}
			return nil, 0, fmt.Errorf("%s holds another evaluation (the file's vs this run's: %s); delete it or choose another --output", out, strings.Join(d, "; "))
		}
		if len(ef.records) > len(mine) {
			return nil, 0, fmt.Errorf("%s: %d records, but the evaluation has %d images; delete it or choose another --output", out, len(ef.records), len(mine))
		}
		for i, r := range ef.records {
			if r.Path != mine[i].rel || r.Target != mine[i].target {
				return nil, 0, fmt.Errorf("%s: record %d is %s (class %d), not %s (class %d): the file is damaged; delete it or choose another --output", out, i+1, r.Path, r.Target, mine[i].rel, mine[i].target)
			}
		}
		f, err := os.OpenFile(out, os.O_RDWR, 0)
		if err != nil {
			return nil, 0, err
		}
		// Drop a record cut short by a kill; it is computed again.
		if err := f.Truncate(ef.size); err != nil {
			f.Close()
			return nil, 0, err
		}
		if _, err := f.Seek(ef.size, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, err
		}
		if len(ef.records) == len(mine) {
			fmt.Fprintf(e.stderr, "%s: all %d images already evaluated\n", out, len(mine))
		} else {
			fmt.Fprintf(e.stderr, "%s: resuming at image %d of %d (%d already evaluated)\n", out, len(ef.records)+1, len(mine), len(ef.records))
		}
		return f, len(ef.records), nil
	}
	f, err := os.Create(out)
	if err != nil {
		return nil, 0, err
	}
	if _, err := f.Write(head.Bytes()); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, 0, f.Sync()
}

func cmdEvalMerge(e *env, args []string) error {
	fs := e.flags("eval merge", `OUT SHARD...

Checks that the shard outputs of 'vitc eval --shard K/N' are of the same evaluation, complete
and cover 0..N-1, writes the predictions of all images to OUT (.csv or .jsonl) in the sorted
order, as an unsharded run writes them, and prints the summary line of the whole.`)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usagef("give the output file and the shard outputs")
	}
	out, shards := fs.Arg(0), fs.Args()[1:]
	jsonl, err := isJSONL(out)
	if err != nil {
		return err
	}
	var parts []*evalFile
	var n int
	seen := map[int]string{}
	for _, s := range shards {
		if sameFile(s, out) {
			return usagef("the output %s is one of the shards", out)
		}
		ef, err := readEvalFile(s)
		if err != nil {
			return err
		}
		k, sn, err := parseShard(ef.header.Shard)
		if err != nil {
			return fmt.Errorf("%s: %v", s, err)
		}
		if len(parts) == 0 {
			n = sn
		} else {
			if d := parts[0].header.differs(ef.header); len(d) > 0 {
				return fmt.Errorf("%s is of another evaluation than %s (%s's vs %s's: %s)", s, shards[0], s, shards[0], strings.Join(d, "; "))
			}
			if sn != n {
				return fmt.Errorf("%s is shard %d/%d, %s is of %d shards", s, k, sn, shards[0], n)
			}
		}
		if prev, dup := seen[k]; dup {
			return fmt.Errorf("%s and %s are both shard %d/%d", prev, s, k, n)
		}
		seen[k] = s
		if want := shardLen(ef.header.Images, k, n); len(ef.records) != want {
			return fmt.Errorf("%s: shard %d/%d is not complete (%d of %d images): run it again to finish it", s, k, n, len(ef.records), want)
		}
		parts = append(parts, ef)
	}
	var missing []string
	for k := range n {
		if _, ok := seen[k]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", k, n))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing shards %s", strings.Join(missing, ", "))
	}
	byShard := make([]*evalFile, n)
	for _, p := range parts {
		k, _, _ := parseShard(p.header.Shard)
		byShard[k] = p
	}
	h := parts[0].header
	all := make([]evalRecord, h.Images)
	items := make([]evalItem, h.Images)
	for i := range all {
		all[i] = byShard[i%n].records[i/n]
		items[i] = evalItem{rel: all[i].Path, target: all[i].Target}
	}
	if listHash(items) != h.List {
		return fmt.Errorf("the shards' records do not make up the image list of their header")
	}
	h.Shard = "0/1"
	var buf bytes.Buffer
	if err := writeHeader(&buf, h, jsonl); err != nil {
		return err
	}
	for _, r := range all {
		if err := writeRecord(&buf, r, jsonl); err != nil {
			return err
		}
	}
	if err := atomicfile.WriteFile(out, buf.Bytes()); err != nil {
		return err
	}
	return printSummary(e, all)
}

// printSummary prints test_model.py's line, then how many images were skipped.
func printSummary(e *env, records []evalRecord) error {
	var n, c1, c5, skipped int
	for _, r := range records {
		if r.Error != "" {
			skipped++
			continue
		}
		n++
		if *r.Top1 == r.Target {
			c1++
		}
		if *r.Hit5 {
			c5++
		}
	}
	if n == 0 {
		return fmt.Errorf("no image was evaluated (%d skipped)", skipped)
	}
	fmt.Fprintf(e.stdout, "* Acc@1 %.3f Acc@5 %.3f\n", 100*float64(c1)/float64(n), 100*float64(c5)/float64(n))
	if skipped > 0 {
		fmt.Fprintf(e.stdout, "%d unreadable images skipped, not counted (accuracy over %d images)\n", skipped, n)
	}
	return nil
}

// listImageFolder lists DIR as torchvision's ImageFolder: the class folders in sorted
// order, the images below each. byWNID says the targets are the classes of the folders'
// WordNet ids rather than the folders' positions.
func listImageFolder(dir string) ([]evalItem, bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, err
	}
	var classes []string
	for _, de := range entries {
		isDir := de.IsDir()
		if !isDir && de.Type()&os.ModeSymlink != 0 {
			st, err := os.Stat(filepath.Join(dir, de.Name()))
			isDir = err == nil && st.IsDir()
		}
		if isDir {
			classes = append(classes, de.Name())
		}
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		return nil, false, fmt.Errorf("%s: no class folders in it (ImageFolder layout: DIR/<class>/<images>)", dir)
	}
	var wnid, other []string
	for _, c := range classes {
		if _, ok := labels.ByWNID(c); ok {
			wnid = append(wnid, c)
		} else {
			other = append(other, c)
		}
	}
	if len(wnid) > 0 && len(other) > 0 {
		if len(other) > 5 {
			other = append(other[:5], fmt.Sprintf("and %d more", len(other)-5))
		}
		return nil, false, fmt.Errorf("%s: %d class folders are named by ImageNet WordNet ids, but not %s", dir, len(wnid), strings.Join(other, ", "))
	}
	byWNID := len(wnid) > 0
	var items []evalItem
	for i, c := range classes {
		target := i
		if byWNID {
			target, _ = labels.ByWNID(c)
		}
		cdir := filepath.Join(dir, c)
		before := len(items)
		paths, err := walkAsImageFolder(cdir)
		if err != nil {
			return nil, false, err
		}
		for _, p := range paths {
			rel, _ := filepath.Rel(dir, p)
			items = append(items, evalItem{rel: filepath.ToSlash(rel), path: p, target: target})
		}
		if len(items) == before {
			return nil, false, fmt.Errorf("%s: no image files (%s) in it", cdir, strings.Join(imageExtensions, " "))
		}
	}
	return items, byWNID, nil
}

// walkAsImageFolder lists the image files below dir in ImageFolder's order, which is
// sorted(os.walk(dir, followlinks=True)) with each folder's files sorted: a folder's own
// files come before those of its sub-folders, and the folders are in the order of their
// path strings.
func walkAsImageFolder(dir string) ([]string, error) {
	type folder struct {
		path  string
		files []string
	}
	var folders []folder
	var visit func(d string, depth int) error
	visit = func(d string, depth int) error {
		if depth > 64 {
			return fmt.Errorf("%s: folders nested too deep (a symlink loop?)", d)
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		f := folder{path: d}
		var subs []string
		for _, de := range entries {
			p := filepath.Join(d, de.Name())
			isDir := de.IsDir()
			if de.Type()&os.ModeSymlink != 0 {
				if st, err := os.Stat(p); err == nil {
					isDir = st.IsDir()
				}
			}
			switch {
			case isDir:
				subs = append(subs, p)
			case isImage(de.Name()):
				f.files = append(f.files, p)
			}
		}
		sort.Strings(f.files)
		folders = append(folders, f)
		for _, s := range subs {
			if err := visit(s, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(dir, 0); err != nil {
		return nil, err
	}
	sort.Slice(folders, func(i, j int) bool { return folders[i].path < folders[j].path })
	var out []string
	for _, f := range folders {
		out = append(out, f.files...)
	}
	return out, nil
}

func targetKind(byWNID bool) string {
	if byWNID {
		return "wnid"
	}
	return "index"
}

// listHash identifies the ordered image list and its classes.
func listHash(items []evalItem) string {
	h := sha256.New()
	for _, it := range items {
		fmt.Fprintf(h, "%s\x00%d\n", it.rel, it.target)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func parseShard(s string) (int, int, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n <= 0 || k < 0 || k >= n {
		return 0, 0, usagef("shard %q: want K/N with 0 <= K < N", s)
	}
	return k, n, nil
}

// shardLen is how many of images fall in shard k of n.
func shardLen(images, k, n int) int {
	if images <= k {
		return 0
	}
	return (images-k-1)/n + 1
}

func isJSONL(path string) (bool, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return false, nil
	case ".jsonl", ".ndjson":
		return true, nil
	}
	return false, usagef("%s: the output must end in .csv or .jsonl", path)
}

// modelStem makes a file name part of --model: the id, or a file's base name.
func modelStem(model string) string {
	s := filepath.Base(model)
	if ext := filepath.Ext(s); ext == ".pth" || ext == ".safetensors" {
		s = strings.TrimSuffix(s, ext)
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// top5 is torch.topk(5): the five largest logits, largest first (the lower index first
// among equal ones).
func top5(logits []float32) []int {
	top := make([]int, 0, 5)
	for range 5 {
		best := -1
		bv := float32(math.Inf(-1))
		for i, v := range logits {
			if (best < 0 || v > bv) && !slices.Contains(top, i) {
				best, bv = i, v
			}
		}
		top = append(top, best)
	}
	return top
}

const csvColumns = "path,target,top1,top5_hit,top5,error\n"

func writeHeader(w *bytes.Buffer, h evalHeader, jsonl bool) error {
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if jsonl {
		fmt.Fprintf(w, "{\"header\":%s}\n", js)
	} else {
		fmt.Fprintf(w, "# vitc eval %s\n%s", js, csvColumns)
	}
	return nil
}

func writeRecord(w *bytes.Buffer, r evalRecord, jsonl bool) error {
	if jsonl {
		js, err := json.Marshal(r)
		if err != nil {
			return err
		}
		w.Write(js)
		w.WriteByte('\n')
		return nil
	}
	row := []string{r.Path, strconv.Itoa(r.Target), "", "", "", r.Error}
	if r.Error == "" {
		row[2] = strconv.Itoa(*r.Top1)
		row[3] = "0"
		if *r.Hit5 {
			row[3] = "1"
		}
		s := make([]string, len(r.Top5))
		for i, c := range r.Top5 {
			s[i] = strconv.Itoa(c)
		}
		row[4] = strings.Join(s, " ")
	}
	cw := csv.NewWriter(w)
	cw.Write(row)
	cw.Flush()
	return cw.Error()
}

func readEvalFile(path string) (*evalFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseEvalFile(path, data)
}

// parseEvalFile reads an output: its header and the complete records, those ending in a
// newline; a last line without one was cut short and is not read.
func parseEvalFile(path string, data []byte) (*evalFile, error) {
	complete := data[:bytes.LastIndexByte(data, '\n')+1]
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not an output of vitc eval: %s", path, fmt.Sprintf(format, args...))
	}
	first, rest, ok := bytes.Cut(complete, []byte("\n"))
	if !ok {
		return nil, bad("no complete header line")
	}
	ef := &evalFile{size: int64(len(complete))}
	jsonl := bytes.HasPrefix(first, []byte("{"))
	if jsonl {
		var w struct{ Header *evalHeader }
		if err := json.Unmarshal(first, &w); err != nil || w.Header == nil {
			return nil, bad("the first line is not a header")
		}
		ef.header = *w.Header
	} else {
		js, ok := bytes.CutPrefix(first, []byte("# vitc eval "))
		if !ok || json.Unmarshal(js, &ef.header) != nil {
			return nil, bad("the first line is not a header")
		}
		cols, ok := bytes.CutPrefix(rest, []byte(csvColumns))
		if !ok {
			return nil, bad("the second line is not %q", strings.TrimSpace(csvColumns))
		}
		rest = cols
	}
	if ef.header.Format != evalFormat {
		return nil, bad("format %q, want %q", ef.header.Format, evalFormat)
	}
	line := 1
	if !jsonl {
		line = 2
		cr := csv.NewReader(bytes.NewReader(rest))
		cr.FieldsPerRecord = 6
		for {
			row, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %v", path, err)
			}
			line++
			r := evalRecord{Path: row[0], Error: row[5]}
			var err1 error
			r.Target, err1 = strconv.Atoi(row[1])
			if err1 == nil && r.Error == "" {
				var top1 int
				top1, err1 = strconv.Atoi(row[2])
				hit := row[3] == "1"
				r.Top1, r.Hit5 = &top1, &hit
				for _, f := range strings.Fields(row[4]) {
					c, err := strconv.Atoi(f)
					if err != nil {
						err1 = err
					}
					r.Top5 = append(r.Top5, c)
				}
			}
			if err1 != nil {
				return nil, fmt.Errorf("%s:%d: malformed record: %v", path, line, err1)
			}
			ef.records = append(ef.records, r)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(rest))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line++
			var r evalRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return nil, fmt.Errorf("%s:%d: malformed record: %v", path, line, err)
			}
			ef.records = append(ef.records, r)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	return ef, ef.check(path)
}

// check validates the records so that the summary can trust them.
func (ef *evalFile) check(path string) error {
	for i, r := range ef.records {
		if r.Error != "" {
			continue
		}
		if r.Top1 == nil || r.Hit5 == nil || len(r.Top5) != 5 || r.Top5[0] != *r.Top1 || slices.Contains(r.Top5, r.Target) != *r.Hit5 {
			return fmt.Errorf("%s: record %d (%s) is inconsistent", path, i+1, r.Path)
		}
	}
	return nil
}
