package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHub serves files as the hub does (resolve URLs, LFS metadata headers), counting requests.
func fakeHub(t *testing.T, files map[string]string) (*httptest.Server, *atomic.Int64) {
	var requests atomic.Int64
	const commit = "0123456789abcdef0123456789abcdef01234567"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		path, ok := strings.CutPrefix(r.URL.EscapedPath(), "/eminorhan/humanlike-vits/resolve/main/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		path = strings.ReplaceAll(path, "%40", "@")
		src, ok := files[path]
		if !ok {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			http.Error(w, "entry not found", http.StatusNotFound)
			return
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Error(err)
			return
		}
		sum := sha256.Sum256(data)
		w.Header().Set("X-Repo-Commit", commit)
		w.Header().Set("X-Linked-Etag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		http.ServeContent(w, r, filepath.Base(path), time.Time{}, strings.NewReader(string(data)))
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// TestModelIDs: --model takes a model id; the checkpoint is fetched once into the hub cache
// and compiled once; later runs need no request at all.
func TestModelIDs(t *testing.T) {
	srv, requests := fakeHub(t, map[string]string{
		// The tiny fixture stands in for the real 88 MB checkpoint, so it needs --heads/--name.
		"finetuned_vits14/vits14_1.0_1.pth": fx("tiny_finetuned_zip_f32.pth"),
	})
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HUB_CACHE", filepath.Join(cache, "hub"))
	t.Setenv("VITC_CACHE", filepath.Join(cache, "vitc"))
	t.Setenv("HF_TOKEN", "")
	y := filepath.Join(t.TempDir(), "y.npy")
	args := []string{"run", "--model", "vits14_1.0_1", "--finetuned", "--heads", "2", "--name", "tiny", "--input", fx("tiny_input.npy"), "--output", y}
	mustRun(t, args...)
	compareNpy(t, y, fx("tiny_finetuned_zip_f32.expected.npy"))
	if requests.Load() == 0 {
		t.Fatal("no request reached the hub")
	}
	blob, err := filepath.Glob(filepath.Join(cache, "hub", "models--eminorhan--humanlike-vits", "blobs", "*"))
	if err != nil || len(blob) != 1 {
		t.Fatalf("blobs: %v %v", blob, err)
	}

	// Second run: the hub is gone, nothing is requested, the compiled weights are reused.
	srv.Close()
	before := requests.Load()
	mustRun(t, args...)
	if requests.Load() != before {
		t.Error("the second run made requests")
	}
	weights, _ := filepath.Glob(filepath.Join(cache, "vitc", "weights", "*"))
	if len(weights) != 1 || !strings.HasPrefix(filepath.Base(weights[0]), filepath.Base(blob[0])) {
		t.Errorf("compiled weights %v, want one named by the blob's SHA-256 %s", weights, filepath.Base(blob[0]))
	}

	out := mustRun(t, "models")
	if !strings.Contains(out, "vits14_1.0_1") || !strings.Contains(out, "cached 590.1 kB, compiled") || strings.Count(out, "\n") < 79 {
		t.Errorf("models:\n%s", out)
	}
	out = mustRun(t, "models", "--paths")
	if !strings.Contains(out, filepath.Join(cache, "hub", "models--eminorhan--humanlike-vits")) || !strings.Contains(out, filepath.Join(cache, "vitc", "weights")) {
		t.Errorf("models --paths:\n%s", out)
	}

	// Offline, fetch answers from the cache; an uncached id is a clear error.
	t.Setenv("HF_HUB_OFFLINE", "1")
	out = mustRun(t, "fetch", "--finetuned", "vits14_1.0_1")
	if !strings.Contains(out, filepath.Join("snapshots", "0123456789abcdef0123456789abcdef01234567", "finetuned_vits14", "vits14_1.0_1.pth")) {
		t.Errorf("fetch printed %q", out)
	}
	code, _, errs := vitc(t, "fetch", "vitb14_0.1_2")
	if code != 1 || !strings.Contains(errs, "vitb14") {
		t.Errorf("offline fetch of an uncached id: exit %d, %s", code, errs)
	}
}

func TestBadModelID(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	code, _, errs := vitc(t, "run", "--model", "vitb16_1.0_1", "--input", fx("tiny_input.npy"), "--output", filepath.Join(t.TempDir(), "y.npy"))
	if code != 1 || !strings.Contains(errs, "did you mean vitb14_1.0_1") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
	code, _, errs = vitc(t, "fetch", "vits14_1.0_2")
	if code != 1 || !strings.Contains(errs, "vits14_1.0_2") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
}
