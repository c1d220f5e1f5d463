package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// crossCheckPython is the interpreter for the cross-check: $VITC_CROSSCHECK_PYTHON, else
// /usr/bin/python3, else python3 on the PATH.
func crossCheckPython(t *testing.T) string {
	if p := os.Getenv("VITC_CROSSCHECK_PYTHON"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("cross-check with Python skipped: no python3 found (set VITC_CROSSCHECK_PYTHON)")
	}
	return p
}

type pyResult struct {
	Path     string   `json:"path"`
	Warnings []string `json:"warnings"`
	Repos    []string `json:"repos"`
	Files    []string `json:"files"`
}

// TestCrossCheckWithPython shows that the cache is shared both ways: Python's hf_hub_download
// finds what vitc stored (offline, and online without downloading again), vitc finds what
// Python stored, and both write the same tree for the same file.
func TestCrossCheckWithPython(t *testing.T) {
	py := crossCheckPython(t)
	if out, err := exec.Command(py, "-c", "import huggingface_hub").CombinedOutput(); err != nil {
		t.Skipf("cross-check with Python skipped: %s cannot import huggingface_hub (%s); install it "+
			"(pip install huggingface_hub) or point VITC_CROSSCHECK_PYTHON at a Python that has it",
			py, strings.TrimSpace(lastLine(string(out))))
	}
	if v, err := exec.Command(py, "-c", "import huggingface_hub; print(huggingface_hub.__version__)").Output(); err == nil {
		t.Logf("huggingface_hub %s", strings.TrimSpace(string(v)))
	}

	h := newFakeHub(t)
	a := content(150_000, 100)
	b := content(80_000, 101)
	h.add("vith14@476/vith14@476_1.0_1.pth", a)
	h.add("finetuned_vits14/vits14_0.01_2.pth", b)
	home := t.TempDir() // HF_HOME: no token, no stray configuration
	run := func(mode, cache, subfolder, filename string) pyResult {
		t.Helper()
		cmd := exec.Command(py, filepath.Join("testdata", "crosscheck.py"), mode, cache, testRepo, subfolder, filename)
		cmd.Env = append(cleanEnv(), "HF_ENDPOINT="+h.api.URL, "HF_HOME="+home, "HF_HUB_DISABLE_XET=1",
			"HF_HUB_DISABLE_TELEMETRY=1", "HF_HUB_DISABLE_PROGRESS_BARS=1", "NO_PROXY=*")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("crosscheck.py %s %s/%s: %v\n%s", mode, subfolder, filename, err, stderr.String())
		}
		var r pyResult
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("crosscheck.py output %q: %v", out, err)
		}
		if len(r.Warnings) != 0 {
			t.Errorf("Python's scan_cache_dir warns about %s: %q", cache, r.Warnings)
		}
		return r
	}

	// 1. vitc writes, Python reads it offline and then online without downloading.
	goCache := t.TempDir()
	pa, err := h.client(goCache).Download(context.Background(), testRepo, "main", "vith14@476/vith14@476_1.0_1.pth")
	if err != nil {
		t.Fatal(err)
	}
	r := run("read", goCache, "vith14@476", "vith14@476_1.0_1.pth")
	if r.Path != pa {
		t.Errorf("Python found %q in vitc's cache, want %q", r.Path, pa)
	}
	if len(r.Files) != 1 || r.Files[0] != pa {
		t.Errorf("Python's scan sees files %q, want [%s]", r.Files, pa)
	}
	gets := len(h.hitsOf("cdn", "GET"))
	if r := run("download", goCache, "vith14@476", "vith14@476_1.0_1.pth"); r.Path != pa {
		t.Errorf("Python online returned %q, want %q", r.Path, pa)
	}
	if n := len(h.hitsOf("cdn", "GET")); n != gets {
		t.Errorf("Python downloaded a file vitc had stored (%d CDN GETs, had %d)", n, gets)
	}

	// 2. Python writes, vitc reads it offline and then online without downloading.
	pyCache := t.TempDir()
	r = run("download", pyCache, "finetuned_vits14", "vits14_0.01_2.pth")
	off := &Client{CacheDir: pyCache, Offline: true}
	pb, err := off.Download(context.Background(), testRepo, "main", "finetuned_vits14/vits14_0.01_2.pth")
	if err != nil || pb != r.Path {
		t.Fatalf("vitc offline in Python's cache: %q, %v; Python stored %q", pb, err, r.Path)
	}
	if !bytes.Equal(readFile(t, pb), b) {
		t.Error("content differs")
	}
	gets = len(h.hitsOf("cdn", "GET"))
	if p, err := h.client(pyCache).Download(context.Background(), testRepo, "main", "finetuned_vits14/vits14_0.01_2.pth"); err != nil || p != pb {
		t.Errorf("vitc online in Python's cache: %q, %v", p, err)
	}
	if n := len(h.hitsOf("cdn", "GET")); n != gets {
		t.Errorf("vitc downloaded a file Python had stored")
	}

	// 3. The same file stored by each gives the same tree: names, symlink targets, ref bytes.
	goCache2 := t.TempDir()
	if _, err := h.client(goCache2).Download(context.Background(), testRepo, "main", "finetuned_vits14/vits14_0.01_2.pth"); err != nil {
		t.Fatal(err)
	}
	goTree, pyTree := cacheTree(t, goCache2), cacheTree(t, pyCache)
	if strings.Join(goTree, "\n") != strings.Join(pyTree, "\n") {
		t.Errorf("cache trees differ\nvitc:\n  %s\nPython:\n  %s", strings.Join(goTree, "\n  "), strings.Join(pyTree, "\n  "))
	}
}

// cacheTree lists a cache as "path -> symlink target", "path = ref content" (for refs) or
// "path (mode)" lines, sorted; CACHEDIR.TAG's text names its writer and is left out.
func cacheTree(t *testing.T, root string) []string {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out = append(out, rel+" -> "+target)
		case strings.Contains(rel, string(filepath.Separator)+"refs"+string(filepath.Separator)):
			b, _ := os.ReadFile(p)
			out = append(out, rel+" = "+string(b))
		case fi.IsDir():
			out = append(out, rel+"/")
		default:
			out = append(out, rel+" "+fi.Mode().Perm().String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// cleanEnv is the environment without the variables that would point Python at another hub,
// cache or token than the test's.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "HF_") || strings.HasPrefix(k, "HUGGING") || k == "TRANSFORMERS_OFFLINE" ||
			k == "XDG_CACHE_HOME" || strings.HasSuffix(strings.ToUpper(k), "_PROXY") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestLockSharedWithPython shows that a lock held by Python's filelock (what hf_hub_download
// takes) keeps vitc waiting, and the other way round.
func TestLockSharedWithPython(t *testing.T) {
	py := crossCheckPython(t)
	if out, err := exec.Command(py, "-c", "import filelock").CombinedOutput(); err != nil {
		t.Skipf("lock check with Python skipped: %s cannot import filelock (%s)", py, strings.TrimSpace(lastLine(string(out))))
	}
	lock := filepath.Join(t.TempDir(), "x.lock")
	script := `import filelock, sys, time
l = filelock.FileLock(sys.argv[1])
l.acquire(timeout=float(sys.argv[2]))
print("locked", flush=True)
time.sleep(float(sys.argv[3]))
l.release()`

	// Python holds it: vitc must wait.
	cmd := exec.Command(py, "-c", script, lock, "5", "1.5")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("python: %q %v", buf, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = lockFile(ctx, lock)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("vitc took a lock that Python holds (err = %v)", err)
	}
	unlock, err := lockFile(context.Background(), lock) // granted once Python releases it
	cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}

	// vitc holds it: Python must time out.
	out, err := exec.Command(py, "-c", script, lock, "0.3", "0").CombinedOutput()
	unlock()
	if err == nil || !strings.Contains(string(out), "Timeout") {
		t.Errorf("Python took a lock that vitc holds: %v %s", err, out)
	}
}
