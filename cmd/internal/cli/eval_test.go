package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var tinyModel = []string{"--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny"}

func evalArgs(args ...string) []string {
	return append(append([]string{"eval"}, tinyModel...), args...)
}

type evalWant struct {
	Files []struct {
		Path   string
		Target int
		Top5   []int
	}
	Summary string
}

func readEvalWant(t *testing.T) evalWant {
	t.Helper()
	raw, err := os.ReadFile("testdata/eval/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var w evalWant
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

// copyTree copies the folder src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestEvalMatchesPyTorch: the predictions and the summary line are those of test_model.py's
// pipeline in PyTorch (testdata/eval/make.py), in both output formats.
func TestEvalMatchesPyTorch(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	want := readEvalWant(t)
	dir := t.TempDir()
	for _, ext := range []string{".csv", ".jsonl"} {
		out := filepath.Join(dir, "p"+ext)
		code, stdout, errs := vitc(t, evalArgs("--val-data", "testdata/eval/val", "--input-size", "42", "--batch-size", "3", "--output", out)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, errs)
		}
		if stdout != want.Summary+"\n" {
			t.Errorf("%s: stdout %q, PyTorch %q", ext, stdout, want.Summary)
		}
		if !strings.Contains(errs, "evaluating tiny") {
			t.Errorf("no progress on stderr:\n%s", errs)
		}
		ef, err := readEvalFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(ef.records) != len(want.Files) {
			t.Fatalf("%d records, want %d", len(ef.records), len(want.Files))
		}
		for i, w := range want.Files {
			r := ef.records[i]
			if r.Path != w.Path || r.Target != w.Target || fmt.Sprint(r.Top5) != fmt.Sprint(w.Top5) || *r.Top1 != w.Top5[0] {
				t.Errorf("%s record %d: %+v top5 %v, PyTorch %+v", ext, i, r, r.Top5, w)
			}
		}
		if ef.header.Targets != "wnid" || ef.header.InputSize != 42 || ef.header.Shard != "0/1" || ef.header.Images != 8 {
			t.Errorf("header %+v", ef.header)
		}
	}
	csv := readFile(t, filepath.Join(dir, "p.csv"))
	if !strings.Contains(csv, "\npath,target,top1,top5_hit,top5,error\nn01440764/china_444.jpg,0,505,0,505 654 217 438 646,\n") {
		t.Errorf("csv:\n%s", csv)
	}

	// The input size must be the compiled one; --help documents the outputs and shards.
	code, _, errs := vitc(t, evalArgs("--val-data", "testdata/eval/val", "--input-size", "56", "--output", filepath.Join(dir, "x.csv"))...)
	if code != 1 || !strings.Contains(errs, "--image 56") {
		t.Errorf("--input-size 56: %d %s", code, errs)
	}
	for _, args := range [][]string{{"eval", "--help"}, {"help", "eval"}} {
		code, out, _ := vitc(t, args...)
		for _, s := range []string{"Usage: vitc eval", "--shard", "JOB_COMPLETION_INDEX", "eval merge", "top5_hit", ".jsonl", "--skip-bad"} {
			if code != 0 || !strings.Contains(out, s) {
				t.Errorf("%v: exit %d, lacks %q", args, code, s)
			}
		}
	}
	if code, _, _ := vitc(t, "eval", "merge", "--help"); code != 0 {
		t.Errorf("eval merge --help: exit %d", code)
	}
}

// TestEvalTargets: folders not named by WordNet ids are scored by their position, and a
// mix of the two is refused.
func TestEvalTargets(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	val := t.TempDir()
	for i, wnid := range []string{"n01440764", "n03355925", "n03692522", "n04243546"} {
		copyTree(t, filepath.Join("testdata/eval/val", wnid), filepath.Join(val, fmt.Sprintf("class%d", i)))
	}
	out := filepath.Join(t.TempDir(), "p.csv")
	code, stdout, errs := vitc(t, evalArgs("--val-data", val, "--output", out)...)
	if code != 0 || !strings.Contains(errs, "no class folder is named by a WordNet id") || !strings.HasPrefix(stdout, "* Acc@1 ") {
		t.Fatalf("index targets: %d %s %s", code, stdout, errs)
	}
	ef, err := readEvalFile(out)
	if err != nil || ef.header.Targets != "index" || ef.records[7].Target != 3 {
		t.Fatalf("%v %+v", err, ef)
	}
	os.Mkdir(filepath.Join(val, "n01440764"), 0o755)
	code, _, errs = vitc(t, evalArgs("--val-data", val, "--output", filepath.Join(t.TempDir(), "q.csv"))...)
	if code != 1 || !strings.Contains(errs, "class0, class1, class2, class3") {
		t.Errorf("mixed folders: %d %s", code, errs)
	}
}

// TestEvalResume: a run killed mid-record goes on from the last complete record, to the
// same file and summary; an output of another evaluation is refused.
func TestEvalResume(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	want := readEvalWant(t)
	dir := t.TempDir()
	for _, ext := range []string{".csv", ".jsonl"} {
		out := filepath.Join(dir, "r"+ext)
		args := evalArgs("--val-data", "testdata/eval/val", "--batch-size", "2", "--output", out)
		mustRun(t, args...)
		full := readFile(t, out)
		lines := strings.SplitAfter(full, "\n")
		head := 1
		if ext == ".csv" {
			head = 2
		}
		// Three records and half of the fourth survive the kill.
		cut := strings.Join(lines[:head+3], "") + lines[head+3][:len(lines[head+3])/2]
		os.WriteFile(out, []byte(cut), 0o644)
		code, stdout, errs := vitc(t, args...)
		if code != 0 || stdout != want.Summary+"\n" {
			t.Fatalf("resumed: %d %q %s", code, stdout, errs)
		}
		if !strings.Contains(errs, "resuming at image 4 of 8 (3 already evaluated)") || !regexp.MustCompile(`done, 5 items`).MatchString(errs) {
			t.Errorf("resume did not process only the rest:\n%s", errs)
		}
		if got := readFile(t, out); got != full {
			t.Errorf("resumed file differs:\n%s\nwant:\n%s", got, full)
		}
		// Complete: nothing to do, the same summary.
		code, stdout, errs = vitc(t, args...)
		if code != 0 || stdout != want.Summary+"\n" || !strings.Contains(errs, "all 8 images already evaluated") {
			t.Errorf("complete rerun: %d %q %s", code, stdout, errs)
		}
		// Killed while the header was written: starts afresh.
		os.WriteFile(out, []byte(full[:10]), 0o644)
		if stdout := mustRun(t, args...); stdout != want.Summary+"\n" || readFile(t, out) != full {
			t.Errorf("after a cut header: %q", stdout)
		}
		// Another evaluation's file (a shard, another batch list) is refused and left alone.
		code, _, errs = vitc(t, evalArgs("--val-data", "testdata/eval/val", "--shard", "1/2", "--output", out)...)
		if code != 1 || !strings.Contains(errs, "another evaluation") || !strings.Contains(errs, "delete it") {
			t.Errorf("mismatch: %d %s", code, errs)
		}
		os.WriteFile(filepath.Join(dir, "junk"+ext), []byte("hello\nworld\n"), 0o644)
		code, _, errs = vitc(t, evalArgs("--val-data", "testdata/eval/val", "--output", filepath.Join(dir, "junk"+ext))...)
		if code != 1 || !strings.Contains(errs, "not an output of vitc eval") || !strings.Contains(errs, "delete it") {
			t.Errorf("junk output: %d %s", code, errs)
		}
		if readFile(t, out) != full {
			t.Error("a refused run changed the file")
		}
	}
}

// TestEvalShards: shards merged give the unsharded file and summary; merges of shards
// that do not belong together are refused.
func TestEvalShards(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	want := readEvalWant(t)
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	mustRun(t, evalArgs("--val-data", "testdata/eval/val", "--output", p("all.csv"))...)
	code, stdout, errs := vitc(t, evalArgs("--val-data", "testdata/eval/val", "--shard", "0/2", "--output", p("s0.csv"))...)
	if code != 0 || !strings.Contains(errs, "shard 0/2: 4 of the 8 images") {
		t.Fatalf("shard 0/2: %d %s %s", code, stdout, errs)
	}
	mustRun(t, evalArgs("--val-data", "testdata/eval/val", "--shard", "1/2", "--output", p("s1.jsonl"), "--batch-size", "3")...)
	if got := mustRun(t, "eval", "merge", p("m.csv"), p("s1.jsonl"), p("s0.csv")); got != want.Summary+"\n" {
		t.Errorf("merged summary %q, want %q", got, want.Summary)
	}
	if readFile(t, p("m.csv")) != readFile(t, p("all.csv")) {
		t.Errorf("merged file differs from the unsharded one:\n%s", readFile(t, p("m.csv")))
	}

	// Of three shards, one missing; a shard of another folder; a duplicate; an incomplete one.
	mustRun(t, evalArgs("--val-data", "testdata/eval/val", "--shard", "0/3", "--output", p("t0.csv"))...)
	other := t.TempDir()
	copyTree(t, "testdata/eval/val", other)
	os.Remove(filepath.Join(other, "n04243546", "hopper_420.jpg"))
	mustRun(t, evalArgs("--val-data", other, "--shard", "1/2", "--output", p("o1.csv"))...)
	s0 := readFile(t, p("s0.csv"))
	os.WriteFile(p("cut.csv"), []byte(s0[:len(s0)-3]), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{p("m2.csv"), p("s0.csv")}, "missing shards 1/2"},
		{[]string{p("m2.csv"), p("s0.csv"), p("t0.csv")}, "is shard 0/3"},
		{[]string{p("m2.csv"), p("s0.csv"), p("o1.csv")}, "another evaluation"},
		{[]string{p("m2.csv"), p("s0.csv"), p("s0.csv")}, "both shard 0/2"},
		{[]string{p("m2.csv"), p("cut.csv"), p("s1.jsonl")}, "not complete (3 of 4 images)"},
		{[]string{p("s0.csv"), p("s0.csv"), p("s1.jsonl")}, "is one of the shards"},
	} {
		code, _, errs := vitc(t, append([]string{"eval", "merge"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("merge %v: exit %d, want %q:\n%s", c.args, code, c.want, errs)
		}
	}
	if _, err := os.Stat(p("m2.csv")); err == nil {
		t.Error("a refused merge wrote its output")
	}
}

// TestEvalBadImages: corrupt, truncated, zero-byte and non-image files stop the run with
// their path, or with --skip-bad are reported, recorded and left out of the accuracy.
func TestEvalBadImages(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	want := readEvalWant(t)
	bad := map[string]string{ // name in the folder: photo of runtime/imageio/testdata
		"n03355925/crc.png":          "bad_idat_crc.png",
		"n03355925/truncated.jpg":    "bad_truncated_header.jpg",
		"n04243546/empty.jpeg":       "bad_empty.jpg",
		"n04243546/deep/notes.JPG":   "bad_text.txt",
		"n01440764/truncated.png":    "bad_truncated.png",
		"n01440764/zero_size.png":    "bad_zero_size.png",
		"n01440764/readme.txt":       "bad_text.txt", // not an image name: not listed
		"n04243546/truncated.webp":   "bad_truncated.webp",
		"n03692522/arithmetic.jpg":   "unsupported_arithmetic.jpg",
		"n03692522/a/garbage_x.tiff": "bad_text.txt",
	}
	val := t.TempDir()
	copyTree(t, "testdata/eval/val", val)
	dir := t.TempDir()
	for name, src := range bad {
		one := t.TempDir()
		copyTree(t, "testdata/eval/val", one)
		data, err := os.ReadFile(filepath.Join("../../../runtime/imageio/testdata", src))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{one, val} {
			os.MkdirAll(filepath.Dir(filepath.Join(d, name)), 0o755)
			os.WriteFile(filepath.Join(d, name), data, 0o644)
		}
		if strings.HasSuffix(name, ".txt") {
			continue
		}
		code, _, errs := vitc(t, evalArgs("--val-data", one, "--output", filepath.Join(dir, "one.csv"))...)
		if code != 1 || !strings.Contains(errs, filepath.Join(one, name)) || strings.Contains(errs, "panic") {
			t.Errorf("%s: exit %d, stderr:\n%s", name, code, errs)
		}
		os.Remove(filepath.Join(dir, "one.csv"))
	}
	out := filepath.Join(dir, "skip.csv")
	code, stdout, errs := vitc(t, evalArgs("--val-data", val, "--skip-bad", "--batch-size", "4", "--output", out)...)
	if code != 0 {
		t.Fatalf("--skip-bad: exit %d\n%s%s", code, stdout, errs)
	}
	if stdout != want.Summary+"\n9 unreadable images skipped, not counted (accuracy over 8 images)\n" {
		t.Errorf("--skip-bad stdout %q", stdout)
	}
	ef, err := readEvalFile(out)
	if err != nil || len(ef.records) != 17 {
		t.Fatalf("%v %d records", err, len(ef.records))
	}
	skipped := 0
	for _, r := range ef.records {
		if r.Error != "" {
			skipped++
			if _, ok := bad[r.Path]; !ok || !strings.Contains(errs, "skipping: "+filepath.Join(val, r.Path)) {
				t.Errorf("skipped %s (%s), stderr:\n%s", r.Path, r.Error, errs)
			}
		}
	}
	if skipped != 9 {
		t.Errorf("%d skipped records", skipped)
	}
	// The skipped records survive a resume.
	full := readFile(t, out)
	os.WriteFile(out, []byte(full[:len(full)*2/3]), 0o644)
	code, stdout2, errs := vitc(t, evalArgs("--val-data", val, "--skip-bad", "--batch-size", "4", "--output", out)...)
	if code != 0 || stdout2 != stdout || readFile(t, out) != full || !strings.Contains(errs, "resuming at") {
		t.Errorf("resume with skipped images: %d %q\n%s", code, stdout2, errs)
	}
}
