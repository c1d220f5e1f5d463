package hub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// jsDir holds the JavaScript side of the cross-check: crosscheck.mjs, and @huggingface/hub
// (pinned in package.json and package-lock.json) once `npm ci --prefix gen/hub/testdata/js`
// has installed it.
var jsDir = filepath.Join("testdata", "js")

// crossCheckNode returns the node binary, or skips the test when node or the installed
// @huggingface/hub is missing; it logs both versions.
func crossCheckNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("cross-check with JavaScript skipped: no node on the PATH (install Node.js >= 18, then " +
			"npm ci --prefix gen/hub/testdata/js)")
	}
	b, err := os.ReadFile(filepath.Join(jsDir, "node_modules", "@huggingface", "hub", "package.json"))
	if err != nil {
		t.Skipf("cross-check with JavaScript skipped: @huggingface/hub is not installed in %s (%v); "+
			"run npm ci --prefix gen/hub/testdata/js", jsDir, err)
	}
	var pkg struct{ Version string }
	json.Unmarshal(b, &pkg)
	v, _ := exec.Command(node, "--version").Output()
	t.Logf("@huggingface/hub %s, node %s", pkg.Version, strings.TrimSpace(string(v)))
	return node
}

type jsScan struct {
	Warnings []string `json:"warnings"`
	Repos    []struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		Revisions []struct {
			Commit string   `json:"commit"`
			Refs   []string `json:"refs"`
			Files  []string `json:"files"`
		} `json:"revisions"`
	} `json:"repos"`
}

type jsResult struct {
	Path   string `json:"path"`
	Commit string `json:"commit"`
	SHA256 string `json:"sha256"`
	Scan   jsScan `json:"scan"`
}

// revision returns what scanCacheDir says of commit in the test repository.
func (s jsScan) revision(commit string) (refs, files []string, ok bool) {
	for _, r := range s.Repos {
		if r.ID != testRepo || r.Type != "model" {
			continue
		}
		for _, rev := range r.Revisions {
			if rev.Commit == commit {
				return rev.Refs, rev.Files, true
			}
		}
	}
	return nil, nil, false
}

// jsAPI answers the Hub API calls that @huggingface/hub makes besides /resolve/ (which the
// stand-in already serves): POST /api/models/{repo}/paths-info/{rev} (downloadFileToCacheDir
// takes the blob name from lfs.oid and the snapshot folder from lastCommit.id), and
// GET .../revision/{rev} and .../tree/{rev}?recursive=true (snapshotDownload). lastCommit gives
// the last commit that changed a file, as the real Hub does (default: the head commit); it must
// not change once the hook is installed.
func jsAPI(h *fakeHub, lastCommit map[string]string) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		prefix := "/api/models/" + testRepo + "/"
		if !strings.HasPrefix(r.URL.Path, prefix) {
			return false
		}
		call, rev, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, prefix), "/")
		if rev != "main" && rev != h.commit {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Error-Code", "RevisionNotFound")
			w.WriteHeader(404)
			json.NewEncoder(w).Encode(map[string]string{"error": "Invalid rev id: " + rev})
			return true
		}
		h.mu.Lock()
		files := make(map[string][]byte, len(h.files))
		for p, b := range h.files {
			files[p] = b
		}
		h.mu.Unlock()
		entry := func(p string, b []byte) map[string]any {
			git := sha1.Sum(b)
			return map[string]any{"type": "file", "path": p, "oid": hex.EncodeToString(git[:]), "size": len(b),
				"lfs": map[string]any{"oid": sha256hex(b), "size": len(b), "pointerSize": 134}}
		}
		var answer any
		switch {
		case call == "paths-info" && r.Method == http.MethodPost:
			var req struct {
				Paths  []string `json:"paths"`
				Expand bool     `json:"expand"`
			}
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				w.WriteHeader(400)
				return true
			}
			out := []map[string]any{}
			for _, p := range req.Paths {
				b, ok := files[p]
				if !ok {
					continue // the Hub leaves out paths that do not exist
				}
				e := entry(p, b)
				if req.Expand {
					c := lastCommit[p]
					if c == "" {
						c = h.commit
					}
					e["lastCommit"] = map[string]any{"id": c, "title": "Upload " + p, "date": "2024-05-01T12:00:00.000Z"}
					e["securityFileStatus"] = map[string]any{"status": "safe"}
				}
				out = append(out, e)
			}
			answer = out
		case call == "revision" && r.Method == http.MethodGet:
			var siblings []map[string]string
			for p := range files {
				siblings = append(siblings, map[string]string{"rfilename": p})
			}
			sort.Slice(siblings, func(i, j int) bool { return siblings[i]["rfilename"] < siblings[j]["rfilename"] })
			answer = map[string]any{"_id": "6630f1a2b3c4d5e6f7a8b9c0", "id": testRepo, "sha": h.commit, "private": false,
				"gated": false, "downloads": 0, "likes": 0, "lastModified": "2024-05-01T12:00:00.000Z", "siblings": siblings}
		case call == "tree" && r.Method == http.MethodGet && r.URL.Query().Get("recursive") == "true":
			dirs := map[string]bool{}
			out := []map[string]any{}
			for p, b := range files {
				out = append(out, entry(p, b))
				for d := path.Dir(p); d != "."; d = path.Dir(d) {
					dirs[d] = true
				}
			}
			for d := range dirs {
				git := sha1.Sum([]byte("tree " + d))
				out = append(out, map[string]any{"type": "directory", "path": d, "oid": hex.EncodeToString(git[:]), "size": 0})
			}
			sort.Slice(out, func(i, j int) bool { return out[i]["path"].(string) < out[j]["path"].(string) })
			answer = out
		default:
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer)
		return true
	}
}

// TestCrossCheckWithJS shows that the cache is shared with @huggingface/hub both ways: the
// JavaScript client finds what vitc stored without any request, and vitc, offline, finds what
// the JavaScript client stored; and it pins down how the JavaScript client's layout differs.
//
// @huggingface/hub (2.17.5) differs from huggingface_hub, in ways that are its own:
//   - it has no offline mode and never reads refs/: downloadFileToCacheDir answers from the
//     cache without a request only for a 40-hex commit revision (the test takes the commit of
//     refs/main from scanCacheDir, as a JS user of a shared cache must);
//   - downloadFileToCacheDir writes no refs/<revision>, and names the snapshot folder after the
//     file's last commit (paths-info lastCommit.id), not the revision's head commit;
//     snapshotDownload writes refs/<revision> and uses the head commit, as Python does;
//   - scanCacheDir does not descend into folders of a snapshot (Python's scan_cache_dir does),
//     so a file in a subfolder is not listed; and it reports a repository without refs/ (as
//     downloadFileToCacheDir leaves it) as a warning;
//   - it writes no .locks/ and no CACHEDIR.TAG.
//
// Blob names (lfs.oid, the SHA-256, as Python's X-Linked-Etag), relative symlink targets and
// the bytes of refs/main (snapshotDownload) are the same as vitc's and Python's.
func TestCrossCheckWithJS(t *testing.T) {
	node := crossCheckNode(t)

	h := newFakeHub(t)
	older := strings.Repeat("0b1d", 10) // an earlier commit, the last to change pathB
	const (
		pathA = "vith14@476/vith14@476_1.0_1.pth"
		pathB = "finetuned_vits14/vits14_0.01_2.pth"
		pathC = "README.md" // a top-level file, which scanCacheDir lists
	)
	want := map[string][]byte{pathA: content(150_000, 110), pathB: content(80_000, 111), pathC: content(2_000, 112)}
	for p, b := range want {
		h.add(p, b)
	}
	h.setAPI(jsAPI(h, map[string]string{pathB: older}))
	// fileDownloadInfo requires an ETag on the final answer of the redirected GET, as the real
	// CDN sends; the stand-in's CDN has none of its own.
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		w.Header().Set("ETag", `"`+sha256hex(b)+`"`)
		return false
	})
	requests := func() int { return len(h.hitsOf("api", "")) + len(h.hitsOf("cdn", "")) }
	hitsSince := func(n int) []hit {
		h.mu.Lock()
		defer h.mu.Unlock()
		return append([]hit(nil), h.hits[n:]...)
	}
	home := t.TempDir() // HF_HOME: no token, no stray configuration
	run := func(args ...string) jsResult {
		t.Helper()
		cmd := exec.Command(node, append([]string{"crosscheck.mjs"}, args...)...)
		cmd.Dir = jsDir
		cmd.Env = append(cleanEnv(), "HF_HOME="+home)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("crosscheck.mjs %q: %v\n%s", args, err, stderr.String())
		}
		var r jsResult
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("crosscheck.mjs %q output %q: %v", args, out, err)
		}
		return r
	}

	// 1. vitc writes; @huggingface/hub reads it without any request.
	goCache := t.TempDir()
	goPath := map[string]string{}
	for _, p := range []string{pathA, pathC} {
		lp, err := h.client(goCache).Download(context.Background(), testRepo, "main", p)
		if err != nil {
			t.Fatal(err)
		}
		goPath[p] = lp
	}
	for _, p := range []string{pathA, pathC} {
		n := requests()
		r := run("read", goCache, testRepo, p, h.api.URL)
		if m := requests(); m != n {
			t.Errorf("@huggingface/hub made %d requests to read %s from vitc's cache, want none: %+v", m-n, p, hitsSince(n))
		}
		if r.Commit != h.commit || r.Path != goPath[p] || r.SHA256 != sha256hex(want[p]) {
			t.Errorf("@huggingface/hub read %s from vitc's cache as %q at commit %s (sha256 %s), want %q at %s (%s)",
				p, r.Path, r.Commit, r.SHA256, goPath[p], h.commit, sha256hex(want[p]))
		}
		if len(r.Scan.Warnings) != 0 {
			t.Errorf("scanCacheDir warns about vitc's cache: %q", r.Scan.Warnings)
		}
		refs, files, ok := r.Scan.revision(h.commit)
		if !ok || len(r.Scan.Repos) != 1 || strings.Join(refs, ",") != "main" {
			t.Errorf("scanCacheDir on vitc's cache: %+v, want one model %s with commit %s at ref main", r.Scan, testRepo, h.commit)
		}
		if p == pathC && (len(files) != 1 || files[0] != goPath[pathC]) {
			t.Errorf("scanCacheDir lists files %q of vitc's cache, want [%s] (files in subfolders are not listed)", files, goPath[pathC])
		}
	}
	// Online at "main" it asks paths-info only, and links the blob vitc stored: no download.
	gets := len(h.hitsOf("cdn", "GET"))
	if r := run("download", goCache, testRepo, pathA, h.api.URL); r.Path != goPath[pathA] {
		t.Errorf("@huggingface/hub online in vitc's cache returned %q, want %q", r.Path, goPath[pathA])
	}
	if n := len(h.hitsOf("cdn", "GET")); n != gets {
		t.Errorf("@huggingface/hub downloaded a file vitc had stored (%d CDN GETs, had %d)", n, gets)
	}

	// 2. @huggingface/hub writes; vitc reads it offline, without any request.
	offline := func(cache, p, wantPath string) {
		t.Helper()
		n := requests()
		lp, err := (&Client{Endpoint: unreachable(t).URL, CacheDir: cache, Offline: true}).Download(context.Background(), testRepo, "main", p)
		if err != nil || lp != wantPath {
			t.Errorf("vitc offline in @huggingface/hub's cache: %q, %v; it stored %q", lp, err, wantPath)
		} else if !bytes.Equal(readFile(t, lp), want[p]) {
			t.Errorf("%s: content differs", lp)
		}
		if m := requests(); m != n {
			t.Errorf("vitc made %d requests offline", m-n)
		}
	}
	// 2a. downloadFileToCacheDir: no refs/main, the snapshot named after the file's last commit;
	// vitc finds the file in that other snapshot.
	jsFile := t.TempDir()
	r := run("download", jsFile, testRepo, pathB, h.api.URL)
	if wantP := filepath.Join(jsFile, repoFolderName(testRepo), "snapshots", older, filepath.FromSlash(pathB)); r.Path != wantP {
		t.Errorf("downloadFileToCacheDir stored %s as %q, want %q", pathB, r.Path, wantP)
	}
	if r.SHA256 != sha256hex(want[pathB]) {
		t.Errorf("downloadFileToCacheDir stored bytes with sha256 %s", r.SHA256)
	}
	if len(r.Scan.Warnings) != 0 {
		t.Logf("scanCacheDir on downloadFileToCacheDir's own cache warns (it writes no refs/): %q", r.Scan.Warnings)
	}
	offline(jsFile, pathB, r.Path)
	// 2b. snapshotDownload: refs/main and the head commit, as Python.
	jsSnap := t.TempDir()
	r = run("snapshot", jsSnap, testRepo, h.api.URL)
	snapDir := filepath.Join(jsSnap, repoFolderName(testRepo), "snapshots", h.commit)
	if r.Path != snapDir {
		t.Errorf("snapshotDownload returned %q, want %q", r.Path, snapDir)
	}
	if len(r.Scan.Warnings) != 0 {
		t.Errorf("scanCacheDir warns about snapshotDownload's cache: %q", r.Scan.Warnings)
	}
	for _, p := range []string{pathA, pathB, pathC} {
		offline(jsSnap, p, filepath.Join(snapDir, filepath.FromSlash(p)))
	}

	// 3. The same files stored by each give the same tree: blob names, symlink targets, the
	// bytes of refs/main; less .locks/ and CACHEDIR.TAG, which @huggingface/hub does not write.
	goAll, goB := t.TempDir(), t.TempDir()
	for _, p := range []string{pathA, pathB, pathC} {
		if _, err := h.client(goAll).Download(context.Background(), testRepo, "main", p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.client(goB).Download(context.Background(), testRepo, "main", pathB); err != nil {
		t.Fatal(err)
	}
	shared := func(tree []string) []string {
		var out []string
		for _, l := range tree {
			if !strings.HasPrefix(l, ".locks") && !strings.HasPrefix(l, "CACHEDIR.TAG") {
				out = append(out, l)
			}
		}
		return out
	}
	sameTree := func(what string, goTree, jsTree []string) {
		t.Helper()
		if strings.Join(goTree, "\n") != strings.Join(jsTree, "\n") {
			t.Errorf("cache trees differ (%s)\nvitc:\n  %s\n@huggingface/hub:\n  %s", what,
				strings.Join(goTree, "\n  "), strings.Join(jsTree, "\n  "))
		}
	}
	sameTree("snapshotDownload", shared(cacheTree(t, goAll)), shared(cacheTree(t, jsSnap)))
	// downloadFileToCacheDir's tree is vitc's less refs/, with the last commit for the head.
	var goNoRefs, jsHead []string
	for _, l := range shared(cacheTree(t, goB)) {
		if !strings.Contains(l, string(filepath.Separator)+"refs") {
			goNoRefs = append(goNoRefs, l)
		}
	}
	for _, l := range cacheTree(t, jsFile) {
		jsHead = append(jsHead, strings.ReplaceAll(l, older, h.commit))
	}
	sort.Strings(jsHead)
	sameTree("downloadFileToCacheDir, refs/ left out and its snapshot renamed to the head commit", goNoRefs, jsHead)

	// vitc online in downloadFileToCacheDir's cache links the blob there: no download.
	gets = len(h.hitsOf("cdn", "GET"))
	lp, err := h.client(jsFile).Download(context.Background(), testRepo, "main", pathB)
	if err != nil || !bytes.Equal(readFile(t, lp), want[pathB]) {
		t.Errorf("vitc online in @huggingface/hub's cache: %q, %v", lp, err)
	}
	if n := len(h.hitsOf("cdn", "GET")); n != gets {
		t.Errorf("vitc downloaded a file @huggingface/hub had stored")
	}
}
