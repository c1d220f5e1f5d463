package cli

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/runtime/bundle"
)

// classifyWant is PyTorch's top-5 for the photos of testdata/classify_tiny.json.
type classifyWant struct {
	File string
	Top  []struct {
		Index       int
		Probability float64
	}
}

// TestBuildRunsAlone: vitc build makes, per target, one static file that classifies photos in
// an empty directory with no cache, no hub and no other file present, as PyTorch does; the
// arm64 file runs under qemu-aarch64. The file refuses --model, damaged weights and another
// architecture's weights with an error that names it, and never panics.
func TestBuildRunsAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("links programs with the Go toolchain")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	if runtime.GOOS != "linux" {
		t.Skip("runs Linux executables")
	}
	t.Setenv("VITC_CACHE", t.TempDir())
	raw, err := os.ReadFile("testdata/classify_tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []classifyWant
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	// Compiled weights of another architecture, for the refusal below.
	oddWeights := filepath.Join(t.TempDir(), "odd.safetensors")
	if _, err := compile.File(fx("odd_finetuned_zip_f32.pth"), oddWeights, compile.Options{Heads: 3, Name: "odd"}); err != nil {
		t.Fatal(err)
	}

	for _, target := range []string{"linux/amd64", "linux/arm64", "darwin/arm64"} {
		t.Run(strings.ReplaceAll(target, "/", "_"), func(t *testing.T) {
			goos, goarch, _ := strings.Cut(target, "/")
			if goos == "darwin" {
				// Built and checked here; no Mac runs it (its arm64 kernels are linux/arm64's).
				file := filepath.Join(t.TempDir(), "tiny-classifier")
				mustRun(t, "build", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny", "--target", target, "-o", file)
				f, err := macho.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if f.Cpu != macho.CpuArm64 || f.Type != macho.TypeExec {
					t.Errorf("%s: %v %v, want an arm64 executable", file, f.Cpu, f.Type)
				}
				// macOS has no static executables: Go links the system's own libraries, which
				// every Mac has, and nothing else.
				libs, _ := f.ImportedLibraries()
				for _, l := range libs {
					if !strings.HasPrefix(l, "/usr/lib/") && !strings.HasPrefix(l, "/System/Library/") {
						t.Errorf("%s links %s, which is not part of macOS", file, l)
					}
				}
				if b, err := bundle.Find(file); err != nil || b == nil || b.Target != target || b.Arch != "tiny" {
					t.Errorf("bundle.Find(%s): %+v %v", file, b, err)
				}
				return
			}
			var emulator []string
			if goarch != runtime.GOARCH {
				if goarch != "arm64" {
					t.Skipf("cannot run %s here", target)
				}
				if _, err := exec.LookPath("qemu-aarch64"); err != nil {
					t.Skipf("needs qemu-aarch64 (apt-get install -y qemu-user) to run %s", target)
				}
				emulator = []string{"qemu-aarch64"}
			}
			file := filepath.Join(t.TempDir(), "tiny-classifier")
			out := mustRun(t, "build", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny", "--target", target, "-o", file)
			if !strings.Contains(out, "wrote "+file) || !strings.Contains(out, target) {
				t.Errorf("build output:\n%s", out)
			}
			checkStatic(t, file, goarch)

			// An empty directory and home, the hub offline: only the file and the photos.
			work := t.TempDir()
			exe := filepath.Join(work, "tiny-classifier")
			copyFile(t, file, exe, 0o755)
			var photos []string
			for _, w := range want {
				copyFile(t, filepath.Join("../../../runtime/imageio/testdata", w.File), filepath.Join(work, w.File), 0o644)
				photos = append(photos, w.File)
			}
			run := func(exe string, args ...string) (int, string, string) {
				t.Helper()
				argv := append(append(append([]string{}, emulator...), exe), args...)
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Dir = work
				home := t.TempDir()
				cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "HF_HUB_OFFLINE=1"}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				if err != nil {
					ee, ok := err.(*exec.ExitError)
					if !ok {
						t.Fatalf("%s: %v", exe, err)
					}
					code = ee.ExitCode()
				}
				if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic") {
					t.Errorf("%s %v panicked:\n%s", exe, args, stderr.String())
				}
				return code, stdout.String(), stderr.String()
			}

			code, stdout, stderr := run("./tiny-classifier", append([]string{"classify", "--json"}, photos...)...)
			if code != 0 {
				t.Fatalf("classify: exit %d\n%s%s", code, stdout, stderr)
			}
			var got []classified
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			if len(got) != len(want) {
				t.Fatalf("%d results, want %d", len(got), len(want))
			}
			worst := 0.0
			for i, w := range want {
				for j, p := range w.Top {
					g := got[i].Top[j]
					worst = math.Max(worst, math.Abs(g.Probability-p.Probability))
					if g.Index != p.Index || math.Abs(g.Probability-p.Probability) > 1e-6 {
						t.Errorf("%s top %d: class %d p=%.7f, PyTorch class %d p=%.7f", w.File, j+1, g.Index, g.Probability, p.Index, p.Probability)
					}
				}
			}
			t.Logf("%s: the built file alone gives PyTorch's top-5 on %d photos (largest probability difference %.2g)", target, len(want), worst)

			// Its own model only.
			if code, _, stderr := run("./tiny-classifier", "classify", "--model", "vits14_1.0_1", photos[0]); code != 2 || !strings.Contains(stderr, "runs only the model built into it") {
				t.Errorf("--model: exit %d\n%s", code, stderr)
			} else {
				t.Logf("--model refused: %s", strings.TrimSpace(stderr))
			}
			// One damaged byte in the weights.
			damaged := filepath.Join(work, "damaged")
			copyFile(t, exe, damaged, 0o755)
			b, err := bundle.Find(damaged)
			if err != nil || b == nil {
				t.Fatalf("bundle.Find: %v %v", b, err)
			}
			f, err := os.OpenFile(damaged, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			at := b.Offset + b.Size - 100 // inside the head's bias: past every header check
			var one [1]byte
			f.ReadAt(one[:], at)
			one[0] ^= 0x40
			f.WriteAt(one[:], at)
			f.Close()
			if code, _, stderr := run("./damaged", "classify", photos[0]); code != 1 || !strings.Contains(stderr, "damaged") || !strings.Contains(stderr, "weights damaged") {
				t.Errorf("damaged weights: exit %d\n%s", code, stderr)
			} else {
				t.Logf("damaged weights refused: %s", strings.TrimSpace(stderr))
			}
			// The program with another architecture's weights.
			other := filepath.Join(work, "other")
			prog, err := os.Open(exe)
			if err != nil {
				t.Fatal(err)
			}
			w, err := os.Open(oddWeights)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := w.Stat()
			o, err := os.OpenFile(other, os.O_CREATE|os.O_WRONLY, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bundle.Write(o, io.LimitReader(prog, b.Offset), w, st.Size(), bundle.Manifest{Model: "odd.pth", Arch: "odd", Target: target}, nil); err != nil {
				t.Fatal(err)
			}
			o.Close()
			prog.Close()
			w.Close()
			if code, _, stderr := run("./other", "classify", photos[0]); code != 1 || !strings.Contains(stderr, "holds odd weights") || !strings.Contains(stderr, "runs tiny only") {
				t.Errorf("another architecture's weights: exit %d\n%s", code, stderr)
			} else {
				t.Logf("another architecture's weights refused: %s", strings.TrimSpace(stderr))
			}
		})
	}
}

// checkStatic fails unless file is a static ELF executable for goarch: no interpreter, no
// shared libraries (what `ldd` calls "not a dynamic executable").
func checkStatic(t *testing.T, file, goarch string) {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
	if f.Machine != machine {
		t.Errorf("%s: machine %v, want %v", file, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s has a %v program header: not static", file, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs %v", file, libs)
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

// TestArchProgram: the program of one architecture (cmd/<arch>) has vitc's commands for its
// models, defaults to its own, and refuses another architecture's model id before any
// download.
func TestArchProgram(t *testing.T) {
	t.Setenv("VITC_CACHE", t.TempDir())
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_HOME", t.TempDir())
	arch := func(a string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := MainArch(a, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, _ := arch("tiny", "help")
	if code != 0 || !strings.Contains(out, "tiny runs the tiny models") || strings.Contains(out, "build") || !strings.Contains(out, "classify") {
		t.Errorf("help: %d\n%s", code, out)
	}
	if code, _, errs := arch("tiny", "build", "--model", "x"); code != 2 || !strings.Contains(errs, `tiny: unknown command "build"`) {
		t.Errorf("build in an architecture's program: %d %s", code, errs)
	}
	y := filepath.Join(t.TempDir(), "y.npy")
	if code, out, errs := arch("tiny", "run", "--model", fx("tiny_finetuned_zip_f32.pth"), "--heads", "2", "--name", "tiny", "--input", fx("tiny_input.npy"), "--output", y); code != 0 {
		t.Fatalf("run: %d %s %s", code, out, errs)
	}
	compareNpy(t, y, fx("tiny_finetuned_zip_f32.expected.npy"))
	code, _, errs := arch("tiny", "classify", "--model", "vitb14_1.0_1", "../../../runtime/imageio/testdata/chelsea_rgb.jpg")
	if code != 1 || !strings.Contains(errs, "vitb14_1.0_1 is a vitb14 model; tiny runs tiny models only") {
		t.Errorf("another architecture's id: %d %s", code, errs)
	}
	// Another architecture's checkpoint is compiled, then refused by name.
	code, _, errs = arch("tiny", "run", "--model", fx("odd_finetuned_zip_f32.pth"), "--heads", "3", "--name", "odd", "--input", fx("odd_input.npy"), "--output", y)
	if code != 1 || !strings.Contains(errs, "is a odd model; tiny runs tiny models only") {
		t.Errorf("another architecture's checkpoint: %d %s", code, errs)
	}
	for a, want := range map[string]string{"vitb14": "vitb14_1.0_1", "vith14@448": "vith14@448_1.0_1", "tiny": ""} {
		e := &env{prog: program{name: "x", arch: a}}
		if got := e.defaultModel(); got != want {
			t.Errorf("default model of the %s program: %q, want %q", a, got, want)
		}
	}
}
