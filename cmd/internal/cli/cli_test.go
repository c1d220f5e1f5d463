package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vitc-dev/vitc/asm"
	_ "github.com/vitc-dev/vitc/compiled/testarch/all"
	"github.com/vitc-dev/vitc/runtime/npy"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

const fixtures = "../../../gen/testdata/fixtures"

func fx(name string) string { return filepath.Join(fixtures, name) }

// vitc runs the command line and returns the exit status and what it printed.
func vitc(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := vitc(t, args...)
	if code != 0 {
		t.Fatalf("vitc %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func compareNpy(t *testing.T, gotPath, wantPath string) {
	t.Helper()
	got, err := npy.ReadFile(gotPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := npy.ReadFile(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Shape) != 2 || got.Shape[0] != want.Shape[0] || got.Shape[1] != want.Shape[1] {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	var diff, scale float64
	for i := range got.Data {
		diff = math.Max(diff, math.Abs(float64(got.Data[i]-want.Data[i])))
		scale = math.Max(scale, math.Abs(float64(want.Data[i])))
	}
	if diff > 2e-5*scale {
		t.Fatalf("max diff %.3g over 2e-5 × %.3g", diff, scale)
	}
	t.Logf("TENSOR OK %s: maxdiff %.3g = %.3g × max|output|", filepath.Base(wantPath), diff, diff/scale)
}

// TestCompileRunInspect: compile a checkpoint, run the weights file and the checkpoint
// itself (through the cache), and inspect both.
func TestCompileRunInspect(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	dir := t.TempDir()
	w := filepath.Join(dir, "tiny.safetensors")
	out := mustRun(t, "compile", "--model", fx("tiny_pretrained_legacy_f32.pth"), "--heads", "2", "--name", "tiny", "-o", w)
	for _, s := range []string{"tiny (embed 32, depth 2, heads 2, image 42", "pretrained encoder", "20 unexpected keys ignored: decoder_blocks.* (12), decoder_embed.* (2), decoder_norm.* (2), decoder_pos_embed, decoder_pred.* (2), mask_token"} {
		if !strings.Contains(out, s) {
			t.Errorf("compile output lacks %q:\n%s", s, out)
		}
	}
	y := filepath.Join(dir, "y.npy")
	mustRun(t, "run", "--model", w, "--input", fx("tiny_input.npy"), "--output", y, "--batch", "1")
	compareNpy(t, y, fx("tiny_pretrained_legacy_f32.expected.npy"))

	// A finetuned checkpoint run directly: logits, and embeddings on request.
	mustRun(t, "run", "--model", fx("odd_finetuned_legacy_f16.pth"), "--heads", "3", "--name", "odd", "--input", fx("odd_input.npy"), "--output", y)
	compareNpy(t, y, fx("odd_finetuned_legacy_f16.expected.npy"))
	mustRun(t, "run", "--model", fx("odd_finetuned_legacy_f16.pth"), "--heads", "3", "--name", "odd", "--input", fx("odd_input.npy"), "--output", y, "--embeddings")
	if e, err := npy.ReadFile(y); err != nil || e.Shape[1] != 24 {
		t.Fatalf("embeddings %v %v", e, err)
	}

	out = mustRun(t, "inspect", w)
	for _, s := range []string{"vitc weights file", "vitc.arch", "tiny", "vitc.source_sha256", "runs on the compiled architecture tiny"} {
		if !strings.Contains(out, s) {
			t.Errorf("inspect weights lacks %q:\n%s", s, out)
		}
	}
	out = mustRun(t, "inspect", "--heads", "2", "--name", "tiny", fx("tiny_finetuned_zip_f32.pth"))
	for _, s := range []string{"zip format", "MAE training dictionary", "optimizer", "args:", "model=vit_tiny_patch14", "finetuned, 1000 classes (BatchNorm folded"} {
		if !strings.Contains(out, s) {
			t.Errorf("inspect checkpoint lacks %q:\n%s", s, out)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"compile", "--help"}, {"run", "-h"}, {"inspect", "--help"}, {"help", "run"}} {
		code, out, _ := vitc(t, args...)
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("vitc %v: exit %d, output %q", args, code, out)
		}
	}
}

// TestBadInput: every bad input is a clear error naming the file, exit status 1 (2 for a
// bad command line), and no panic.
func TestBadInput(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	dir := t.TempDir()
	good, _ := os.ReadFile(fx("tiny_finetuned_zip_f32.pth"))
	legacy, _ := os.ReadFile(fx("tiny_pretrained_legacy_f32.pth"))
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	weights := filepath.Join(dir, "tiny.safetensors")
	mustRun(t, "compile", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny", "-o", weights)
	wbytes, _ := os.ReadFile(weights)
	oddWeights := filepath.Join(dir, "odd-as-tiny.safetensors")

	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"zero-byte checkpoint", []string{"compile", "--model", write("empty.pth", nil), "-o", filepath.Join(dir, "out-1")}, 1, []string{"empty.pth"}},
		{"truncated zip", []string{"compile", "--model", write("cut.pth", good[:len(good)/2]), "-o", filepath.Join(dir, "out-2")}, 1, []string{"cut.pth"}},
		{"truncated legacy", []string{"compile", "--model", write("cutlegacy.pth", legacy[:len(legacy)*2/3]), "-o", filepath.Join(dir, "out-3")}, 1, []string{"cutlegacy.pth"}},
		{"random bytes", []string{"compile", "--model", write("noise.pth", bytes.Repeat([]byte{0x5a, 0x13, 0xff, 0x00}, 999)), "-o", filepath.Join(dir, "out-4")}, 1, []string{"noise.pth"}},
		{"text file", []string{"run", "--model", write("notes.txt", []byte("hello\n")), "--input", fx("tiny_input.npy"), "--output", filepath.Join(dir, "out-5")}, 1, []string{"notes.txt"}},
		{"not a ViT", []string{"compile", "--model", fx("bad/resnet_like.pth"), "-o", filepath.Join(dir, "out-6")}, 1, []string{"resnet_like.pth", "not a ViT checkpoint"}},
		{"missing and mis-shaped tensors", []string{"compile", "--model", fx("bad/tiny_missing_and_misshaped.pth"), "--heads", "2", "-o", filepath.Join(dir, "out-7")}, 1,
			[]string{"tiny_missing_and_misshaped.pth", "missing 2: blocks.0.mlp.fc1.bias, blocks.1.attn.qkv.weight", "wrong shape 1: norm.weight [33] (want [32])"}},
		{"args disagree with tensors", []string{"compile", "--model", fx("bad/tiny_args_mismatch.pth"), "-o", filepath.Join(dir, "out-8")}, 1, []string{"tiny_args_mismatch.pth", `args.model="vit_small_patch14"`, "embed 384, tensors say 32"}},
		{"heads unknown", []string{"compile", "--model", fx("tiny_finetuned_zip_f32.pth"), "-o", filepath.Join(dir, "out-9")}, 1, []string{"pass --heads"}},
		{"architecture not compiled in", []string{"run", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "vitz99", "--input", fx("tiny_input.npy"), "--output", filepath.Join(dir, "out-10")}, 1, []string{`architecture "vitz99" is not compiled into this program`, "go generate"}},
		{"weights of another shape under a compiled name", []string{"compile", "--model", fx("odd_finetuned_zip_f32.pth"), "--heads", "3", "--name", "tiny", "-o", oddWeights}, 0, nil},
		{"run them", []string{"run", "--model", oddWeights, "--input", fx("odd_input.npy"), "--output", filepath.Join(dir, "out-11")}, 1, []string{"odd-as-tiny.safetensors", "another layout of tiny"}},
		{"truncated weights", []string{"run", "--model", write("cut.safetensors", wbytes[:len(wbytes)-100]), "--input", fx("tiny_input.npy"), "--output", filepath.Join(dir, "out-12")}, 1, []string{"cut.safetensors", "truncated"}},
		{"weights cut inside the header", []string{"inspect", write("cuthdr.safetensors", wbytes[:200])}, 1, []string{"cuthdr.safetensors", "truncated"}},
		{"malformed npy", []string{"run", "--model", weights, "--input", write("bad.npy", []byte("\x93NUMPY\x01\x00garbage")), "--output", filepath.Join(dir, "out-13")}, 1, []string{"bad.npy"}},
		{"wrong image size", []string{"run", "--model", weights, "--input", fx("tiny_input56.npy"), "--output", filepath.Join(dir, "out-14")}, 1, []string{"tiny_input56.npy", "wants N×3×42×42"}},
		{"missing model file", []string{"run", "--model", filepath.Join(dir, "nope.pth"), "--input", fx("tiny_input.npy"), "--output", filepath.Join(dir, "out-15")}, 1, []string{"nope.pth"}},
		{"no --model", []string{"run", "--input", fx("tiny_input.npy"), "--output", filepath.Join(dir, "out-16")}, 2, []string{"--model is required"}},
		{"unknown flag", []string{"compile", "--colour", "red"}, 2, []string{"colour"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{"unknown command"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := vitc(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") {
				t.Errorf("stack trace on stderr:\n%s", errs)
			}
		})
	}
	// Nothing half-written: no failed compile left its output or a temporary file.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "out-") || strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestBench(t *testing.T) {
	out := mustRun(t, "bench", "--arch", "odd", "--batch", "2", "--iters", "2", "--images", "../../../runtime/imageio/testdata")
	if !strings.Contains(out, "odd (finetuned, 1000 classes)") || !strings.Contains(out, "images/s") || !strings.Contains(out, "GFLOP/s") || !strings.Contains(out, "decoding and preprocessing: ") {
		t.Errorf("bench:\n%s", out)
	}
	out = mustRun(t, "bench", "--arch", "tiny", "--kernels", "--iters", "1")
	if !strings.Contains(out, "generic") || !strings.Contains(out, "mlp.fc2") {
		t.Errorf("bench --kernels:\n%s", out)
	}
	out = mustRun(t, "bench", "--arch", "tiny", "--iters", "2", "--profile")
	for _, want := range []string{"where a pass goes: 2 profiled passes", "patch_embed", "norm ", "attn.qkv ", "attention ", "attn.proj ", "mlp.fc1 ", "mlp.fc2 ", "final norm", "q·kᵀ"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench --profile lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := vitc(t, "bench", "--arch", "tiny", "--kernels", "--profile"); code != 2 || !strings.Contains(errs, "separate runs") {
		t.Errorf("bench --kernels --profile: %d %s", code, errs)
	}
	out = mustRun(t, "bench", "--arch", "tiny", "--iters", "3", "--against", "generic")
	if !strings.Contains(out, "against generic: 3 interleaved pairs") || !strings.Contains(out, "generic: median") ||
		!strings.Contains(out, "generic takes ") || !strings.Contains(out, "(pairs: ") {
		t.Errorf("bench --against generic:\n%s", out)
	}
	for _, args := range [][]string{
		{"--against", "nosuch"},                  // not a variant
		{"--against", asm.Active()},              // the one in use
		{"--against", "generic", "--kernels"},    // --kernels times them all
		{"--against", "generic", "--iters", "1"}, // no pairs to compare
	} {
		if code, _, errs := vitc(t, append([]string{"bench", "--arch", "tiny"}, args...)...); code != 2 || !strings.Contains(errs, "--") {
			t.Errorf("bench %v: exit %d, %s", args, code, errs)
		}
	}
	if code, _, errs := vitc(t, "bench", "--arch", "vitz99"); code != 1 || !strings.Contains(errs, "not compiled") {
		t.Errorf("bench of an unknown architecture: %d %s", code, errs)
	}
	if code, _, _ := vitc(t, "bench"); code != 2 {
		t.Errorf("bench without a model: exit %d", code)
	}
}

// TestWeightsLoad: commands read the weights into memory for many images and map the file
// for a few, $VITC_WEIGHTS overriding both; bench says which, and a wrong value is a clear
// error with exit status 1.
func TestWeightsLoad(t *testing.T) {
	for _, c := range []struct {
		env    string
		images int
		want   wfile.Load
	}{{"", 1, wfile.Map}, {"", copyFrom - 1, wfile.Map}, {"", copyFrom, wfile.Copy}, {"", manyImages, wfile.Copy},
		{"copy", 1, wfile.Copy}, {"map", manyImages, wfile.Map}} {
		t.Setenv(wfile.EnvLoad, c.env)
		if got, err := loadFor(c.images); err != nil || got != c.want {
			t.Errorf("%s=%q, %d images: %q, %v; want %q", wfile.EnvLoad, c.env, c.images, got, err, c.want)
		}
	}
	t.Setenv(wfile.EnvLoad, "")
	if out := mustRun(t, "bench", "--arch", "tiny", "--iters", "1"); !strings.Contains(out, "weights read into memory") {
		t.Errorf("bench:\n%s", out)
	}
	t.Setenv(wfile.EnvLoad, "map")
	if out := mustRun(t, "bench", "--arch", "tiny", "--iters", "1"); !strings.Contains(out, "weights mapped from the file") {
		t.Errorf("bench with %s=map:\n%s", wfile.EnvLoad, out)
	}
	t.Setenv(wfile.EnvLoad, "mmap")
	code, _, errs := vitc(t, "run", "--model", fx("tiny_pretrained_legacy_f32.pth"), "--heads", "2", "--input", fx("tiny_input.npy"), "--output", filepath.Join(t.TempDir(), "y.npy"))
	if code != 1 || !strings.Contains(errs, wfile.EnvLoad+`="mmap"`) || strings.Contains(errs, "goroutine") {
		t.Errorf("%s=mmap: exit %d, %s", wfile.EnvLoad, code, errs)
	}
}

// TestPreprocessMatchesTorchvision: vitc preprocess on real photographs (4:4:4, Adobe CMYK,
// RGB JPEGs) gives test_model.py's tensors exactly.
func TestPreprocessMatchesTorchvision(t *testing.T) {
	names, err := os.ReadFile("testdata/preprocess56.txt")
	if err != nil {
		t.Fatal(err)
	}
	var imgs []string
	for _, n := range strings.Fields(string(names)) {
		imgs = append(imgs, filepath.Join("../../../runtime/imageio/testdata", n))
	}
	out := filepath.Join(t.TempDir(), "x.npy")
	mustRun(t, append([]string{"preprocess", "--size", "56", "--output", out}, imgs...)...)
	got, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := npy.ReadFile("testdata/preprocess56.npy")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	var worst float64
	for i := range got.Data {
		worst = math.Max(worst, math.Abs(float64(got.Data[i]-want.Data[i])))
	}
	if worst != 0 {
		t.Errorf("max difference from torchvision %g, want 0", worst)
	}
	t.Logf("preprocess: %d photos, max difference from PIL+torchvision %g", len(imgs), worst)
}

// TestClassifyMatchesPyTorch: vitc classify gives PyTorch's top-5 classes and probabilities
// (test_model.py's transform, the tiny finetuned fixture) for real photographs.
func TestClassifyMatchesPyTorch(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	raw, err := os.ReadFile("testdata/classify_tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []struct {
		File string
		Top  []struct {
			Index       int
			Probability float64
		}
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	args := []string{"classify", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny", "--json"}
	for _, w := range want {
		args = append(args, filepath.Join("../../../runtime/imageio/testdata", w.File))
	}
	out := mustRun(t, args...)
	var got []classified
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		if filepath.Base(got[i].Path) != w.File || len(got[i].Top) != 5 {
			t.Fatalf("result %d: %+v", i, got[i])
		}
		for j, p := range w.Top {
			g := got[i].Top[j]
			if g.Index != p.Index || math.Abs(g.Probability-p.Probability) > 1e-6 {
				t.Errorf("%s top %d: class %d p=%.7f, PyTorch class %d p=%.7f", w.File, j+1, g.Index, g.Probability, p.Index, p.Probability)
			}
		}
	}
	// Plain output names the classes.
	plain := []string{"classify", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny", args[len(args)-3]}
	out = mustRun(t, plain...)
	if !strings.Contains(out, got[0].Top[0].WNID) || !strings.Contains(out, got[0].Top[0].Label) || !strings.Contains(out, "%") {
		t.Errorf("classify output:\n%s", out)
	}
	// A pretrained model cannot classify; an unreadable image stops the run unless --skip-bad.
	bad := filepath.Join(t.TempDir(), "bad.jpg")
	os.WriteFile(bad, []byte("not a jpeg"), 0o644)
	code, _, errs := vitc(t, "classify", "--model", fx("tiny_pretrained_zip_f32.pth"), "--heads", "2", "--name", "tiny", bad)
	if code != 1 || !strings.Contains(errs, "no classifier") {
		t.Errorf("pretrained classify: %d %s", code, errs)
	}
	code, _, errs = vitc(t, "classify", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny", args[len(args)-1], bad)
	if code != 1 || !strings.Contains(errs, "bad.jpg") {
		t.Errorf("bad image: %d %s", code, errs)
	}
	code, out, errs = vitc(t, "classify", "--skip-bad", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny", args[len(args)-1], bad)
	if code != 0 || !strings.Contains(errs, "skipping") || !strings.Contains(out, "chelsea_rgb.jpg") {
		t.Errorf("--skip-bad: %d %s %s", code, out, errs)
	}
}

func TestEmbed(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	dir := t.TempDir()
	for _, n := range []string{"b.jpg", "a.JPG", "notes.txt"} {
		src := "../../../runtime/imageio/testdata/chelsea_rgb.jpg"
		if n == "notes.txt" {
			src = fx("manifest.json")
		}
		data, _ := os.ReadFile(src)
		os.WriteFile(filepath.Join(dir, n), data, 0o644)
	}
	out := filepath.Join(t.TempDir(), "e.npy")
	mustRun(t, "embed", "--model", fx("tiny_pretrained_zip_f32.pth"), "--heads", "2", "--name", "tiny", "--output", out, dir)
	e, err := npy.ReadFile(out)
	if err != nil || fmt.Sprint(e.Shape) != "[2 32]" {
		t.Fatalf("embeddings %v %v", e, err)
	}
	paths, _ := os.ReadFile(out + ".paths.txt")
	if got := strings.Fields(string(paths)); len(got) != 2 || filepath.Base(got[0]) != "a.JPG" || filepath.Base(got[1]) != "b.jpg" {
		t.Errorf("paths %q", got)
	}
	for i := 0; i < 32; i++ { // the same image twice: the same embedding
		if e.Data[i] != e.Data[32+i] {
			t.Fatal("identical images, different embeddings")
		}
	}
}
