package hub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitc-dev/vitc/runtime/progress"
)

const testRepo = "eminorhan/humanlike-vits"

// hit is one request that reached the stand-in hub or its CDN.
type hit struct {
	server     string // "api" or "cdn"
	method     string
	uri        string // the request target exactly as sent
	auth       string
	rangeHdr   string
	userAgent  string
	acceptEnc  string
	remoteHost string
}

// fakeHub stands in for huggingface.co: an API server on 127.0.0.1 that answers
// HEAD/GET /{repo}/resolve/{rev}/{path} with a 302 to a CDN, and a CDN server that the
// redirect names by another host name (localhost), as the real Hub sends clients to its CDN.
type fakeHub struct {
	t      *testing.T
	api    *httptest.Server
	cdn    *httptest.Server
	commit string

	mu    sync.Mutex
	files map[string][]byte // repo path -> content
	hits  []hit

	// Hooks run before the default behaviour and answer instead of it when they return true.
	onAPI func(w http.ResponseWriter, r *http.Request) bool
	onCDN func(w http.ResponseWriter, r *http.Request, content []byte) bool
}

// setAPI and setCDN install hooks under the lock: the handlers run on the servers' goroutines,
// and for requests from a subprocess the race detector sees no other ordering.
func (h *fakeHub) setAPI(f func(w http.ResponseWriter, r *http.Request) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onAPI = f
}

func (h *fakeHub) setCDN(f func(w http.ResponseWriter, r *http.Request, content []byte) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onCDN = f
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	h := &fakeHub{t: t, files: map[string][]byte{}, commit: strings.Repeat("c0ffee", 6) + "1234"}
	h.api = httptest.NewServer(http.HandlerFunc(h.serveAPI))
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	t.Cleanup(h.api.Close)
	t.Cleanup(h.cdn.Close)
	if _, err := net.LookupHost("localhost"); err != nil {
		t.Skipf("the CDN stand-in needs the host name localhost: %v", err)
	}
	return h
}

// content returns n deterministic pseudo-random bytes.
func content(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func sha256hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func (h *fakeHub) add(path string, b []byte) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path] = b
	return sha256hex(b)
}

func (h *fakeHub) record(server string, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	host, _, _ := net.SplitHostPort(r.Host)
	h.hits = append(h.hits, hit{server, r.Method, r.RequestURI, r.Header.Get("Authorization"),
		r.Header.Get("Range"), r.Header.Get("User-Agent"), r.Header.Get("Accept-Encoding"), host})
}

func (h *fakeHub) hitsOf(server, method string) []hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hit
	for _, x := range h.hits {
		if x.server == server && (method == "" || x.method == method) {
			out = append(out, x)
		}
	}
	return out
}

func (h *fakeHub) cdnURL(sha string) string {
	_, port, _ := net.SplitHostPort(h.cdn.Listener.Addr().String())
	return "http://localhost:" + port + "/cdn/" + sha + "?sig=signed"
}

func (h *fakeHub) serveAPI(w http.ResponseWriter, r *http.Request) {
	h.record("api", r)
	h.mu.Lock()
	hook := h.onAPI
	h.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	prefix := "/" + testRepo + "/resolve/"
	if !strings.HasPrefix(r.RequestURI, prefix) {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		w.WriteHeader(404)
		return
	}
	rev, rawPath, _ := strings.Cut(strings.TrimPrefix(r.RequestURI, prefix), "/")
	path, err := url.PathUnescape(rawPath)
	if err != nil || (rev != "main" && rev != h.commit) {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		w.WriteHeader(404)
		return
	}
	h.mu.Lock()
	b, ok := h.files[path]
	h.mu.Unlock()
	w.Header().Set("X-Repo-Commit", h.commit)
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		w.Header().Set("X-Error-Message", "Entry not found")
		w.WriteHeader(404)
		return
	}
	sha := sha256hex(b)
	git := sha1.Sum(b)
	w.Header().Set("ETag", `"`+hex.EncodeToString(git[:])+`"`) // the LFS pointer's git hash
	w.Header().Set("X-Linked-Etag", `"`+sha+`"`)
	w.Header().Set("X-Linked-Size", strconv.Itoa(len(b)))
	w.Header().Set("Location", h.cdnURL(sha))
	w.WriteHeader(http.StatusFound)
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.record("cdn", r)
	sha := strings.TrimPrefix(r.URL.Path, "/cdn/")
	var b []byte
	h.mu.Lock()
	for _, f := range h.files {
		if sha256hex(f) == sha {
			b = f
		}
	}
	hook := h.onCDN
	h.mu.Unlock()
	if b == nil {
		http.NotFound(w, r)
		return
	}
	if hook != nil && hook(w, r, b) {
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func (h *fakeHub) client(cacheDir string) *Client {
	return &Client{
		Endpoint:        h.api.URL,
		CacheDir:        cacheDir,
		HTTP:            &http.Client{},
		UserAgent:       "vitc/test; go/test",
		Backoff:         []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond, 8 * time.Millisecond},
		MetadataTimeout: 5 * time.Second,
		IdleTimeout:     5 * time.Second,
	}
}

// cutAfter writes the first n bytes of b as the start of a full-length answer and then drops
// the connection, as a network failure mid-transfer does.
func cutAfter(w http.ResponseWriter, b []byte, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Accept-Ranges", "bytes")
	w.WriteHeader(200)
	w.Write(b[:n])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// blobsDirEntries lists blobs/ of the test repository (nil if it does not exist).
func blobsDirEntries(t *testing.T, cacheDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(cacheDir, "models--eminorhan--humanlike-vits", "blobs"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloadClean(t *testing.T) {
	h := newFakeHub(t)
	want := content(300_000, 1)
	h.add("vits14/vits14_1.0_1.pth", want)
	cache := t.TempDir()
	c := h.client(cache)

	p, err := c.Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
	if err != nil {
		t.Fatal(err)
	}
	wantPath := filepath.Join(cache, "models--eminorhan--humanlike-vits", "snapshots", h.commit, "vits14", "vits14_1.0_1.pth")
	if p != wantPath {
		t.Errorf("path %s, want %s", p, wantPath)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs")
	}
	heads, gets := h.hitsOf("api", "HEAD"), h.hitsOf("cdn", "GET")
	if len(heads) != 1 || len(gets) != 1 || len(h.hitsOf("api", "GET")) != 0 {
		t.Fatalf("requests: %d HEAD to the hub, %d GET to the CDN; want 1 and 1", len(heads), len(gets))
	}
	for _, x := range append(heads, gets...) {
		if x.userAgent != "vitc/test; go/test" || x.acceptEnc != "identity" {
			t.Errorf("%s %s: User-Agent %q, Accept-Encoding %q", x.method, x.uri, x.userAgent, x.acceptEnc)
		}
		if x.auth != "" {
			t.Errorf("%s %s: Authorization sent without a token", x.method, x.uri)
		}
	}
	if gets[0].remoteHost != "localhost" {
		t.Errorf("CDN reached as %q, want localhost (the redirect's host)", gets[0].remoteHost)
	}

	// A second call asks the hub (HEAD) but downloads nothing.
	p2, err := c.Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
	if err != nil || p2 != p {
		t.Fatalf("second Download: %q, %v", p2, err)
	}
	if n := len(h.hitsOf("cdn", "")); n != 1 {
		t.Errorf("second Download went to the CDN (%d CDN requests)", n)
	}
	if got, ok := c.Cached(testRepo, "main", "vits14/vits14_1.0_1.pth"); !ok || got != p {
		t.Errorf("Cached = %q, %v", got, ok)
	}
	if etag, ok := BlobEtag(p); !ok || etag != sha256hex(want) {
		t.Errorf("BlobEtag = %q, %v", etag, ok)
	}
}

func TestCacheLayout(t *testing.T) {
	h := newFakeHub(t)
	b := content(4096, 2)
	sha := h.add("vith14@476/vith14@476_1.0_1.pth", b)
	top := content(10, 3)
	topSha := h.add("README.bin", top)
	cache := t.TempDir()
	c := h.client(cache)
	// While the CDN answers, blobs/ holds only the download's own temporary file.
	var during []string
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		during = append(during, blobsDirEntries(t, cache)...)
		return false
	})
	if _, err := c.Download(context.Background(), testRepo, "", "vith14@476/vith14@476_1.0_1.pth"); err != nil {
		t.Fatal(err)
	}
	if len(during) != 1 || !regexp.MustCompile(`^`+sha+`\.[0-9a-f]{8}\.incomplete$`).MatchString(during[0]) {
		t.Errorf("during the download blobs/ held %q, want one <etag>.<8 hex>.incomplete", during)
	}
	h.setCDN(nil)
	if _, err := c.Download(context.Background(), testRepo, "main", "README.bin"); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(cache, "models--eminorhan--humanlike-vits")

	ref := readFile(t, filepath.Join(repo, "refs", "main"))
	if string(ref) != h.commit {
		t.Errorf("refs/main = %q, want exactly the 40-hex commit %q with no newline", ref, h.commit)
	}

	blob := filepath.Join(repo, "blobs", sha)
	fi, err := os.Lstat(blob)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("blob %s: %v %v", blob, fi, err)
	}
	umask := unix.Umask(0)
	unix.Umask(umask)
	if want := os.FileMode(0o666 &^ umask); fi.Mode().Perm() != want {
		t.Errorf("blob mode %v, want %v (0666 &^ umask)", fi.Mode().Perm(), want)
	}

	link := filepath.Join(repo, "snapshots", h.commit, "vith14@476", "vith14@476_1.0_1.pth")
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatalf("snapshot entry is not a symlink: %v", err)
	}
	if want := "../../../blobs/" + sha; target != want {
		t.Errorf("symlink target %q, want %q", target, want)
	}
	topTarget, err := os.Readlink(filepath.Join(repo, "snapshots", h.commit, "README.bin"))
	if want := "../../blobs/" + topSha; err != nil || topTarget != want {
		t.Errorf("top-level symlink target %q (%v), want %q", topTarget, err, want)
	}

	lock := filepath.Join(cache, ".locks", "models--eminorhan--humanlike-vits", sha+".lock")
	if fi, err := os.Stat(lock); err != nil {
		t.Errorf("lock file: %v (it is left in place, as Python leaves it)", err)
	} else if fi.Mode().Perm() != 0o664 {
		t.Errorf("lock file mode %v, want 0664 as Python's filelock makes it", fi.Mode().Perm())
	}
	if tag := readFile(t, filepath.Join(cache, "CACHEDIR.TAG")); !bytes.HasPrefix(tag, []byte("Signature: 8a477f597d28d172789f06886806bc55")) {
		t.Errorf("CACHEDIR.TAG: %q", tag)
	}
	entries := blobsDirEntries(t, cache)
	if len(entries) != 2 {
		t.Errorf("blobs/ holds %q, want the two blobs only", entries)
	}
	for _, e := range entries {
		if strings.Contains(e, ".incomplete") {
			t.Errorf("left %s", e)
		}
	}
	// The @ is literal in the local path: only the URL is quoted.
	if _, err := os.Stat(filepath.Join(repo, "snapshots", h.commit, "vith14%40476")); err == nil {
		t.Error("local path is URL-encoded")
	}
}

func TestQuotedAtSign(t *testing.T) {
	h := newFakeHub(t)
	h.add("vith14@448/vith14@448_0.01_3.pth", content(100, 4))
	h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
		want := "/eminorhan/humanlike-vits/resolve/main/vith14%40448/vith14%40448_0.01_3.pth"
		if r.RequestURI != want {
			t.Errorf("request target %q, want %q", r.RequestURI, want)
		}
		return false
	})
	p, err := h.client(t.TempDir()).Download(context.Background(), testRepo, "main", "vith14@448/vith14@448_0.01_3.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(p, filepath.FromSlash("/vith14@448/vith14@448_0.01_3.pth")) {
		t.Errorf("path %s", p)
	}
}

func TestResumeAfterCutConnection(t *testing.T) {
	h := newFakeHub(t)
	want := content(1_000_000, 5)
	h.add("vitb14/vitb14_0.1_2.pth", want)
	var calls atomic.Int32
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		if calls.Add(1) == 1 {
			cutAfter(w, b, 400_000)
			return true
		}
		return false // ServeContent answers the Range request with 206
	})
	cache := t.TempDir()
	p, err := h.client(cache).Download(context.Background(), testRepo, "main", "vitb14/vitb14_0.1_2.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs after resume")
	}
	gets := h.hitsOf("cdn", "GET")
	if len(gets) != 2 {
		t.Fatalf("%d GETs, want 2", len(gets))
	}
	if gets[0].rangeHdr != "" {
		t.Errorf("first GET has Range %q", gets[0].rangeHdr)
	}
	if gets[1].rangeHdr != "bytes=400000-" {
		t.Errorf("resume GET has Range %q, want bytes=400000-", gets[1].rangeHdr)
	}
	if e := blobsDirEntries(t, cache); len(e) != 1 {
		t.Errorf("blobs/ holds %q", e)
	}
}

func TestRangeAnsweredWith200StartsOver(t *testing.T) {
	h := newFakeHub(t)
	want := content(500_000, 6)
	h.add("vitl14/vitl14_0.01_1.pth", want)
	var calls atomic.Int32
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		if calls.Add(1) == 1 {
			cutAfter(w, b, 200_000)
			return true
		}
		// A server that ignores Range: the whole file with 200.
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(200)
		w.Write(b)
		return true
	})
	p, err := h.client(t.TempDir()).Download(context.Background(), testRepo, "main", "vitl14/vitl14_0.01_1.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs: a 200 answer to a Range request was appended instead of starting over")
	}
	if gets := h.hitsOf("cdn", "GET"); len(gets) != 2 || gets[1].rangeHdr == "" {
		t.Errorf("GETs %+v", gets)
	}
}

func TestRangeNotSatisfiable(t *testing.T) {
	h := newFakeHub(t)
	h.add("f.pth", content(100_000, 7))
	var calls atomic.Int32
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		if calls.Add(1) == 1 {
			cutAfter(w, b, 50_000)
		}
		w.Header().Set("Content-Range", "bytes */100000")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return true
	})
	cache := t.TempDir()
	_, err := h.client(cache).Download(context.Background(), testRepo, "main", "f.pth")
	if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "416") {
		t.Fatalf("err = %v, want a 416 error", err)
	}
	if e := blobsDirEntries(t, cache); len(e) != 0 {
		t.Errorf("blobs/ holds %q after a failed download", e)
	}
}

func TestShortBody(t *testing.T) {
	h := newFakeHub(t)
	h.add("vits14/vits14_0.1_1.pth", content(100_000, 8))
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		short := b[:len(b)-1000] // a complete answer, but of the wrong length
		w.Header().Set("Content-Length", strconv.Itoa(len(short)))
		w.WriteHeader(200)
		w.Write(short)
		return true
	})
	cache := t.TempDir()
	_, err := h.client(cache).Download(context.Background(), testRepo, "main", "vits14/vits14_0.1_1.pth")
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "ended after 99000 of 100000 bytes") {
		t.Fatalf("err = %v, want a short-download error", err)
	}
	if e := blobsDirEntries(t, cache); len(e) != 0 {
		t.Errorf("blobs/ holds %q after a short download", e)
	}
	if _, ok := h.client(cache).Cached(testRepo, "main", "vits14/vits14_0.1_1.pth"); ok {
		t.Error("a failed download is reported as cached")
	}
}

func TestWrongBytesRightSize(t *testing.T) {
	h := newFakeHub(t)
	good := content(100_000, 9)
	sha := h.add("vits14/vits14_0.1_3.pth", good)
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		bad := bytes.Clone(b)
		bad[12345] ^= 0xff
		w.Header().Set("Content-Length", strconv.Itoa(len(bad)))
		w.WriteHeader(200)
		w.Write(bad)
		return true
	})
	cache := t.TempDir()
	_, err := h.client(cache).Download(context.Background(), testRepo, "main", "vits14/vits14_0.1_3.pth")
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), sha) || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("err = %v, want a SHA-256 mismatch naming %s", err, sha)
	}
	if e := blobsDirEntries(t, cache); len(e) != 0 {
		t.Errorf("blobs/ holds %q after a corrupt download (nothing may appear there)", e)
	}
	snap := filepath.Join(cache, "models--eminorhan--humanlike-vits", "snapshots", h.commit, "vits14", "vits14_0.1_3.pth")
	if _, err := os.Lstat(snap); err == nil {
		t.Error("a snapshot entry was made for a corrupt download")
	}
}

func TestHubErrorCodes(t *testing.T) {
	cases := []struct {
		code   string
		status int
		kind   error
		says   []string
	}{
		{"EntryNotFound", 404, ErrEntryNotFound, []string{"has no file", "does not exist on the hub", "404 EntryNotFound"}},
		{"RepoNotFound", 404, ErrRepoNotFound, []string{"was not found or is not accessible", "HF_TOKEN", "404 RepoNotFound", "not in the cache"}},
		{"RevisionNotFound", 404, ErrRevisionNotFound, []string{`has no revision "main"`, "404 RevisionNotFound"}},
		{"GatedRepo", 403, ErrGatedRepo, []string{"gated repository", "HF_TOKEN", "403 GatedRepo", "not in the cache"}},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			h := newFakeHub(t)
			h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("X-Error-Code", c.code)
				w.Header().Set("X-Repo-Commit", h.commit)
				w.WriteHeader(c.status)
				return true
			})
			cache := t.TempDir()
			_, err := h.client(cache).Download(context.Background(), testRepo, "main", "vits14/vits14_0.5_1.pth")
			if !errors.Is(err, c.kind) {
				t.Fatalf("err = %v, want %v", err, c.kind)
			}
			msg := err.Error()
			for _, s := range append(c.says, "/eminorhan/humanlike-vits/resolve/main/vits14/vits14_0.5_1.pth") {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%s", s, msg)
				}
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != c.status {
				t.Errorf("*Error status %v", e)
			}
			noExist := filepath.Join(cache, "models--eminorhan--humanlike-vits", ".no_exist", h.commit, "vits14", "vits14_0.5_1.pth")
			_, statErr := os.Stat(noExist)
			if (c.code == "EntryNotFound") != (statErr == nil) {
				t.Errorf(".no_exist marker present=%v for %s", statErr == nil, c.code)
			}
			if len(h.hitsOf("api", "HEAD")) != 1 && c.code != "RepoNotFound" && c.code != "GatedRepo" {
				t.Errorf("%d HEADs", len(h.hitsOf("api", "HEAD")))
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	for _, token := range []string{"", "hf_secret"} {
		t.Run("token="+token, func(t *testing.T) {
			h := newFakeHub(t)
			h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
				if token != "" {
					w.Header().Set("X-Error-Message", "Invalid credentials in Authorization header")
				}
				w.WriteHeader(401)
				return true
			})
			c := h.client(t.TempDir())
			c.Token, c.TokenSource = token, "HF_TOKEN"
			_, err := c.Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			msg := err.Error()
			want := []string{"401", "HF_TOKEN", h.api.URL + "/eminorhan/humanlike-vits/resolve/main/vits14/vits14_1.0_1.pth"}
			if token == "" {
				want = append(want, "requires authentication", "none was sent")
			} else {
				want = append(want, "rejected the token from HF_TOKEN", "invalid or expired")
			}
			for _, s := range want {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%s", s, msg)
				}
			}
			heads := h.hitsOf("api", "HEAD")
			if len(heads) == 0 {
				t.Fatal("no HEAD")
			}
			if wantAuth := map[bool]string{true: "", false: "Bearer " + token}[token == ""]; heads[0].auth != wantAuth {
				t.Errorf("Authorization %q, want %q", heads[0].auth, wantAuth)
			}
		})
	}
}

func TestTokenNotSentToCDN(t *testing.T) {
	h := newFakeHub(t)
	want := content(200_000, 10)
	h.add("vits14/vits14_1.0_1.pth", want)
	var calls atomic.Int32
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		if calls.Add(1) == 1 {
			cutAfter(w, b, 1000) // the resumed GET must not carry the token either
			return true
		}
		return false
	})
	c := h.client(t.TempDir())
	c.Token = "hf_secret"
	p, err := c.Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs")
	}
	for _, x := range h.hitsOf("api", "") {
		if x.auth != "Bearer hf_secret" {
			t.Errorf("hub request %s %s: Authorization %q, want the token", x.method, x.uri, x.auth)
		}
	}
	cdn := h.hitsOf("cdn", "")
	if len(cdn) != 2 {
		t.Errorf("%d CDN requests, want 2", len(cdn))
	}
	for _, x := range cdn {
		if x.auth != "" {
			t.Errorf("CDN request %s %s (host %s) got Authorization %q", x.method, x.uri, x.remoteHost, x.auth)
		}
	}
}

func TestTokenNotSentToSameHostOtherPort(t *testing.T) {
	h := newFakeHub(t)
	h.add("x.pth", content(1000, 11))
	_, port, _ := net.SplitHostPort(h.cdn.Listener.Addr().String())
	h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodHead {
			return false
		}
		// Same host name as the hub (127.0.0.1), another port: another origin.
		b := content(1000, 11)
		w.Header().Set("X-Repo-Commit", h.commit)
		w.Header().Set("X-Linked-Etag", `"`+sha256hex(b)+`"`)
		w.Header().Set("X-Linked-Size", "1000")
		w.Header().Set("Location", "http://127.0.0.1:"+port+"/cdn/"+sha256hex(b))
		w.WriteHeader(302)
		return true
	})
	c := h.client(t.TempDir())
	c.Token = "hf_secret"
	if _, err := c.Download(context.Background(), testRepo, "main", "x.pth"); err != nil {
		t.Fatal(err)
	}
	for _, x := range h.hitsOf("cdn", "") {
		if x.auth != "" {
			t.Errorf("token sent to another port of the same host: %+v", x)
		}
	}
}

func TestRelativeRedirectFollowedWithToken(t *testing.T) {
	h := newFakeHub(t)
	want := content(5000, 12)
	h.add("vits14/vits14_1.0_1.pth", want)
	h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
		// A renamed repository: the old name redirects, relatively, to the new one.
		if old := "/eminorhan/old-name/"; strings.HasPrefix(r.URL.Path, old) {
			w.Header().Set("Location", "/"+testRepo+"/"+strings.TrimPrefix(r.RequestURI, old))
			w.WriteHeader(http.StatusTemporaryRedirect)
			return true
		}
		return false
	})
	c := h.client(t.TempDir())
	c.Token = "hf_secret"
	p, err := c.Download(context.Background(), "eminorhan/old-name", "main", "vits14/vits14_1.0_1.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), want) || !strings.Contains(p, "models--eminorhan--old-name") {
		t.Errorf("path %s", p)
	}
	heads := h.hitsOf("api", "HEAD")
	if len(heads) != 2 || heads[1].uri != "/eminorhan/humanlike-vits/resolve/main/vits14/vits14_1.0_1.pth" {
		t.Fatalf("HEADs %+v", heads)
	}
	for _, x := range heads {
		if x.auth != "Bearer hf_secret" {
			t.Errorf("same-host hop %s without the token", x.uri)
		}
	}
}

func TestSmallFileWithoutRedirect(t *testing.T) {
	h := newFakeHub(t)
	body := []byte(`{"model": "vit"}`)
	git := sha1.Sum(body)
	etag := hex.EncodeToString(git[:])
	h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
		// A file kept in git, not LFS: served by the hub itself, etag = git blob hash.
		w.Header().Set("X-Repo-Commit", h.commit)
		w.Header().Set("ETag", `W/"`+etag+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(200)
		if r.Method == http.MethodGet {
			w.Write(body)
		}
		return true
	})
	cache := t.TempDir()
	p, err := h.client(cache).Download(context.Background(), testRepo, "main", "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), body) {
		t.Error("content differs")
	}
	if e := blobsDirEntries(t, cache); len(e) != 1 || e[0] != etag {
		t.Errorf("blobs/ %q, want the 40-hex etag %s", e, etag)
	}
}

func TestInvalidMetadataRefused(t *testing.T) {
	cases := map[string]func(http.Header){
		"etag with a path":     func(hd http.Header) { hd.Set("X-Linked-Etag", `"../../../../tmp/evil"`) },
		"upper-case etag":      func(hd http.Header) { hd.Set("X-Linked-Etag", strings.Repeat("AB", 32)) },
		"no commit":            func(hd http.Header) { hd.Del("X-Repo-Commit") },
		"short commit":         func(hd http.Header) { hd.Set("X-Repo-Commit", "c0ffee") },
		"no size on redirect":  func(hd http.Header) { hd.Del("X-Linked-Size") },
		"negative size":        func(hd http.Header) { hd.Set("X-Linked-Size", "-1") },
		"no etag":              func(hd http.Header) { hd.Del("X-Linked-Etag"); hd.Del("ETag") },
		"size that is no size": func(hd http.Header) { hd.Set("X-Linked-Size", "12 MB") },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			h := newFakeHub(t)
			b := content(1000, 13)
			h.add("f.pth", b)
			h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("X-Repo-Commit", h.commit)
				w.Header().Set("ETag", `"`+strings.Repeat("1", 40)+`"`)
				w.Header().Set("X-Linked-Etag", `"`+sha256hex(b)+`"`)
				w.Header().Set("X-Linked-Size", "1000")
				w.Header().Set("Location", h.cdnURL(sha256hex(b)))
				mutate(w.Header())
				w.WriteHeader(302)
				return true
			})
			cache := t.TempDir()
			_, err := h.client(cache).Download(context.Background(), testRepo, "main", "f.pth")
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "HF_ENDPOINT") {
				t.Fatalf("err = %v, want ErrBadResponse", err)
			}
			if len(h.hitsOf("cdn", "")) != 0 {
				t.Error("downloaded despite bad metadata")
			}
			if _, err := os.Stat(filepath.Join(cache, "models--eminorhan--humanlike-vits")); err == nil {
				t.Error("wrote to the cache despite bad metadata")
			}
		})
	}
}

func Test503ThenSuccess(t *testing.T) {
	h := newFakeHub(t)
	want := content(50_000, 14)
	h.add("vits14/vits14_1.0_1.pth", want)
	var heads, gets atomic.Int32
	h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
		if heads.Add(1) <= 2 {
			w.WriteHeader(503)
			return true
		}
		return false
	})
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		if gets.Add(1) == 1 {
			w.WriteHeader(503)
			return true
		}
		return false
	})
	p, err := h.client(t.TempDir()).Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs")
	}
	if heads.Load() != 3 || gets.Load() != 2 {
		t.Errorf("%d HEADs and %d GETs, want 3 and 2", heads.Load(), gets.Load())
	}
}

func Test503Forever(t *testing.T) {
	h := newFakeHub(t)
	h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(503)
		return true
	})
	cache := t.TempDir()
	_, err := h.client(cache).Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), cache) {
		t.Fatalf("err = %v", err)
	}
	// One try without retries (to fall back to the cache fast), then 1 + 5 retries.
	if n := len(h.hitsOf("api", "HEAD")); n != 7 {
		t.Errorf("%d HEADs, want 7", n)
	}
}

func Test429RetryAfter(t *testing.T) {
	h := newFakeHub(t)
	h.add("f.pth", content(1000, 15))
	var heads atomic.Int32
	var first, second time.Time
	h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
		switch heads.Add(1) {
		case 1:
			first = time.Now()
			w.WriteHeader(429) // not retried: the cache is looked at first
			return true
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			return true
		case 3:
			second = time.Now()
		}
		return false
	})
	if _, err := h.client(t.TempDir()).Download(context.Background(), testRepo, "main", "f.pth"); err != nil {
		t.Fatal(err)
	}
	if heads.Load() != 3 {
		t.Fatalf("%d HEADs", heads.Load())
	}
	if d := second.Sub(first); d < 900*time.Millisecond {
		t.Errorf("retried after %v; Retry-After: 1 asks for a second (the backoff is 1 ms)", d)
	}
}

// populate downloads path into cache from a working hub, for tests that then break the hub.
func populate(t *testing.T, cache, path string, b []byte) (snapshot, commit string) {
	t.Helper()
	h := newFakeHub(t)
	h.add(path, b)
	p, err := h.client(cache).Download(context.Background(), testRepo, "main", path)
	if err != nil {
		t.Fatal(err)
	}
	return p, h.commit
}

// unreachable is a hub that fails the test if it is asked anything.
func unreachable(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request made in offline mode: %s %s", r.Method, r.RequestURI)
		w.WriteHeader(500)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestOffline(t *testing.T) {
	cache := t.TempDir()
	want := content(3000, 16)
	snap, _ := populate(t, cache, "vits14/vits14_1.0_1.pth", want)
	s := unreachable(t)
	c := &Client{Endpoint: s.URL, CacheDir: cache, Offline: true}

	p, err := c.Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
	if err != nil || p != snap {
		t.Fatalf("offline with a cached copy: %q, %v", p, err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs")
	}

	_, err = c.Download(context.Background(), testRepo, "main", "vits14/vits14_0.1_1.pth")
	if !errors.Is(err, ErrOffline) {
		t.Fatalf("offline without a cached copy: err = %v, want ErrOffline", err)
	}
	for _, s := range []string{"offline mode is on", "HF_HUB_OFFLINE", `"vits14/vits14_0.1_1.pth"`, filepath.Join(cache, "models--eminorhan--humanlike-vits")} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %q: %s", s, err)
		}
	}
	// Offline in an empty cache.
	_, err = (&Client{Endpoint: s.URL, CacheDir: t.TempDir(), Offline: true}).Download(context.Background(), testRepo, "main", "x.pth")
	if !errors.Is(err, ErrOffline) {
		t.Errorf("empty cache: %v", err)
	}
}

func TestServerDown(t *testing.T) {
	cache := t.TempDir()
	want := content(3000, 17)
	snap, _ := populate(t, cache, "vitb14/vitb14_1.0_1.pth", want)

	// A port where nothing listens any more.
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c := &Client{Endpoint: down.URL, CacheDir: cache, Backoff: []time.Duration{time.Millisecond, time.Millisecond}}

	p, err := c.Download(context.Background(), testRepo, "main", "vitb14/vitb14_1.0_1.pth")
	if err != nil || p != snap {
		t.Fatalf("hub down with a cached copy: %q, %v", p, err)
	}

	_, err = c.Download(context.Background(), testRepo, "main", "vitb14/vitb14_0.1_1.pth")
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("hub down without a cached copy: err = %v, want ErrNotCached", err)
	}
	for _, s := range []string{"cannot get vitb14/vitb14_0.1_1.pth from the hub", "not in the cache at " + filepath.Join(cache, "models--eminorhan--humanlike-vits"),
		down.URL + "/eminorhan/humanlike-vits/resolve/main/vitb14/vitb14_0.1_1.pth", "network"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %q:\n%s", s, err)
		}
	}
}

func TestAccessErrorFallsBackToCache(t *testing.T) {
	cache := t.TempDir()
	snap, _ := populate(t, cache, "f.pth", content(100, 18))
	h := newFakeHub(t)
	h.setAPI(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(401)
		return true
	})
	p, err := h.client(cache).Download(context.Background(), testRepo, "main", "f.pth")
	if err != nil || p != snap {
		t.Errorf("401 with a cached copy: %q, %v", p, err)
	}
}

func TestPlainFileSnapshot(t *testing.T) {
	// A cache written on a file system without symlinks: snapshots/ holds the file itself.
	h := newFakeHub(t)
	want := content(2000, 19)
	h.add("vits14/vits14_0.01_2.pth", want)
	cache := t.TempDir()
	repo := filepath.Join(cache, "models--eminorhan--humanlike-vits")
	snap := filepath.Join(repo, "snapshots", h.commit, "vits14", "vits14_0.01_2.pth")
	os.MkdirAll(filepath.Dir(snap), 0o755)
	os.MkdirAll(filepath.Join(repo, "refs"), 0o755)
	os.WriteFile(snap, want, 0o644)
	os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(h.commit), 0o644)

	c := h.client(cache)
	p, err := c.Download(context.Background(), testRepo, "main", "vits14/vits14_0.01_2.pth")
	if err != nil || p != snap {
		t.Fatalf("online: %q, %v", p, err)
	}
	if len(h.hitsOf("cdn", "")) != 0 {
		t.Error("downloaded a file the cache holds")
	}
	if p, ok := c.Cached(testRepo, "main", "vits14/vits14_0.01_2.pth"); !ok || p != snap {
		t.Errorf("Cached: %q %v", p, ok)
	}
	if _, ok := BlobEtag(snap); ok {
		t.Error("BlobEtag of a plain file")
	}
	off := &Client{Endpoint: unreachable(t).URL, CacheDir: cache, Offline: true}
	if p, err := off.Download(context.Background(), testRepo, "main", "vits14/vits14_0.01_2.pth"); err != nil || p != snap {
		t.Errorf("offline: %q, %v", p, err)
	}
	// Pinned to the commit: no request at all.
	pinned := &Client{Endpoint: unreachable(t).URL, CacheDir: cache}
	if p, err := pinned.Download(context.Background(), testRepo, h.commit, "vits14/vits14_0.01_2.pth"); err != nil || p != snap {
		t.Errorf("pinned: %q, %v", p, err)
	}
}

func TestWritesPlainFileWithoutSymlinks(t *testing.T) {
	defer func(f func(string, string) error) { symlink = f }(symlink)
	symlink = func(string, string) error { return &os.LinkError{Op: "symlink", Err: unix.EPERM} }
	h := newFakeHub(t)
	want := content(2000, 20)
	h.add("a/b.pth", want)
	p, err := h.client(t.TempDir()).Download(context.Background(), testRepo, "main", "a/b.pth")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("snapshot entry %v %v, want a regular file", fi, err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs")
	}
}

func TestOtherSnapshotFallback(t *testing.T) {
	cache := t.TempDir()
	want := content(100, 21)
	snap, _ := populate(t, cache, "vitl14/vitl14_1.0_1.pth", want)
	// refs/main moves on to a commit whose snapshot lacks the file.
	repo := filepath.Join(cache, "models--eminorhan--humanlike-vits")
	newer := strings.Repeat("ab", 20)
	os.MkdirAll(filepath.Join(repo, "snapshots", newer), 0o755)
	os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(newer), 0o644)
	c := &Client{CacheDir: cache, Offline: true}
	if p, ok := c.Cached(testRepo, "main", "vitl14/vitl14_1.0_1.pth"); !ok || p != snap {
		t.Errorf("Cached = %q, %v; want the older snapshot %s", p, ok, snap)
	}
	// A commit pin does not fall back to another commit.
	if _, ok := c.Cached(testRepo, newer, "vitl14/vitl14_1.0_1.pth"); ok {
		t.Error("a pinned commit fell back to another snapshot")
	}
}

func TestStalledTransferResumes(t *testing.T) {
	h := newFakeHub(t)
	want := content(100_000, 22)
	h.add("f.pth", want)
	var calls atomic.Int32
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.WriteHeader(200)
			w.Write(b[:30_000])
			w.(http.Flusher).Flush()
			select { // stall until the test ends or the client gives up
			case <-release:
			case <-r.Context().Done():
			}
			return true
		}
		return false
	})
	c := h.client(t.TempDir())
	c.IdleTimeout = 200 * time.Millisecond
	p, err := c.Download(context.Background(), testRepo, "main", "f.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs")
	}
	if gets := h.hitsOf("cdn", "GET"); len(gets) != 2 || gets[1].rangeHdr != "bytes=30000-" {
		t.Errorf("GETs %+v", gets)
	}
}

func TestContextCancelled(t *testing.T) {
	h := newFakeHub(t)
	h.add("f.pth", content(100_000, 23))
	ctx, cancel := context.WithCancel(context.Background())
	h.setCDN(func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(200)
		w.Write(b[:1000])
		w.(http.Flusher).Flush()
		cancel()
		<-r.Context().Done()
		return true
	})
	cache := t.TempDir()
	_, err := h.client(cache).Download(ctx, testRepo, "main", "f.pth")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if e := blobsDirEntries(t, cache); len(e) != 0 {
		t.Errorf("blobs/ holds %q after cancel", e)
	}
}

func TestInvalidArguments(t *testing.T) {
	c := &Client{CacheDir: t.TempDir(), Offline: true}
	for _, a := range [][3]string{
		{"../etc", "main", "f"}, {"a/b/c", "main", "f"}, {"a--b/c", "main", "f"},
		{testRepo, "..", "f"}, {testRepo, "main", "../f"}, {testRepo, "main", "/etc/passwd"},
		{testRepo, "main", "a//b"}, {testRepo, "main", `a\b`}, {testRepo, "main", ""},
	} {
		if _, err := c.Download(context.Background(), a[0], a[1], a[2]); err == nil || errors.Is(err, ErrOffline) {
			t.Errorf("Download(%q, %q, %q): err = %v, want an argument error", a[0], a[1], a[2], err)
		}
	}
}

func TestProgressReported(t *testing.T) {
	h := newFakeHub(t)
	h.add("f.pth", content(700_000, 24))
	c := h.client(t.TempDir())
	var mu sync.Mutex
	var names []string
	var total, added int64
	var done bool
	c.Progress = func(name string, n int64, _ progress.Unit) progress.Reporter {
		mu.Lock()
		defer mu.Unlock()
		names, total = append(names, name), n
		return &recordingReporter{add: func(k int64) { mu.Lock(); added += k; mu.Unlock() }, done: func() { done = true }}
	}
	if _, err := c.Download(context.Background(), testRepo, "main", "f.pth"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(names) != 1 || names[0] != "downloading f.pth" || total != 700_000 || added != 700_000 || !done {
		t.Errorf("progress: %q total %d added %d done %v", names, total, added, done)
	}
}

func TestConcurrentClientsInOneProcess(t *testing.T) {
	h := newFakeHub(t)
	want := content(400_000, 25)
	h.add("f.pth", want)
	h.setCDN(slowCDN)
	cache := t.TempDir()
	var wg sync.WaitGroup
	paths := make([]string, 3)
	errs := make([]error, 3)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths[i], errs[i] = h.client(cache).Download(context.Background(), testRepo, "main", "f.pth")
		}()
	}
	wg.Wait()
	for i := range paths {
		if errs[i] != nil || paths[i] != paths[0] {
			t.Errorf("client %d: %q, %v", i, paths[i], errs[i])
		}
	}
	if n := len(h.hitsOf("cdn", "GET")); n != 1 {
		t.Errorf("%d downloads of one blob, want 1 (the lock serialises them)", n)
	}
	if !bytes.Equal(readFile(t, paths[0]), want) {
		t.Error("content differs")
	}
}

// slowCDN sends the file in ten pieces over about half a second, so that concurrent fetchers
// overlap.
func slowCDN(w http.ResponseWriter, r *http.Request, b []byte) bool {
	if r.Header.Get("Range") != "" {
		return false
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(200)
	step := (len(b) + 9) / 10
	for i := 0; i < len(b); i += step {
		w.Write(b[i:min(i+step, len(b))])
		w.(http.Flusher).Flush()
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

const helperEnv = "VITC_HUB_TEST_HELPER"

// TestMain lets the test binary act as a second program fetching into the same cache: flock
// locks are between open files, and real processes are what two users' commands are.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		c := &Client{Endpoint: os.Getenv("HELPER_ENDPOINT"), CacheDir: os.Getenv("HELPER_CACHE"),
			Backoff: []time.Duration{time.Millisecond}}
		p, err := c.Download(context.Background(), testRepo, "main", os.Getenv("HELPER_PATH"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Print(p)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestTwoProcessesFetchTheSameFile(t *testing.T) {
	h := newFakeHub(t)
	want := content(600_000, 26)
	h.add("vith14/vith14_0.001_2.pth", want)
	h.setCDN(slowCDN)
	cache := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	type result struct {
		out []byte
		err error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=1", "HELPER_ENDPOINT="+h.api.URL,
				"HELPER_CACHE="+cache, "HELPER_PATH=vith14/vith14_0.001_2.pth")
			out, err := cmd.Output()
			results[i] = result{out, err}
		}()
	}
	wg.Wait()
	wantPath := filepath.Join(cache, "models--eminorhan--humanlike-vits", "snapshots", h.commit, "vith14", "vith14_0.001_2.pth")
	for i, r := range results {
		if r.err != nil {
			t.Errorf("process %d: %v %s", i, r.err, stderrOf(r.err))
			continue
		}
		if string(r.out) != wantPath {
			t.Errorf("process %d printed %q, want %q", i, r.out, wantPath)
		}
	}
	if !bytes.Equal(readFile(t, wantPath), want) {
		t.Error("content differs")
	}
	if gets := h.hitsOf("cdn", "GET"); len(gets) != 1 {
		t.Errorf("%d downloads of one blob by %d processes, want 1", len(gets), n)
	}
	if heads := h.hitsOf("api", "HEAD"); len(heads) != n {
		t.Errorf("%d HEADs, want %d", len(heads), n)
	}
	for _, e := range blobsDirEntries(t, cache) {
		if e != sha256hex(want) {
			t.Errorf("blobs/ holds %s", e)
		}
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// recordingReporter records what a download reports.
type recordingReporter struct {
	add  func(int64)
	done func()
}

func (r *recordingReporter) Add(n int64) { r.add(n) }
func (r *recordingReporter) Set(int64)   {}
func (r *recordingReporter) Done()       { r.done() }

func TestHeaderHelpers(t *testing.T) {
	etags := map[string]string{`"abc"`: "abc", `W/"abc"`: "abc", "abc": "abc", ` "abc" `: "abc", `""`: ""}
	for in, want := range etags {
		if got := normalizeEtag(in); got != want {
			t.Errorf("normalizeEtag(%q) = %q, want %q", in, got, want)
		}
	}
	ranges := []struct {
		in    string
		start int64
		ok    bool
	}{{"bytes 100-199/200", 100, true}, {"bytes 0-0/1", 0, true}, {"bytes */200", 0, false}, {"", 0, false}, {"items 1-2/3", 0, false}}
	for _, c := range ranges {
		if start, ok := contentRangeStart(c.in); start != c.start || ok != c.ok {
			t.Errorf("contentRangeStart(%q) = %d, %v", c.in, start, ok)
		}
	}
	origins := []struct {
		a, b string
		same bool
	}{
		{"https://huggingface.co/x", "https://huggingface.co:443/y", true},
		{"https://huggingface.co/x", "https://HuggingFace.co/y", true},
		{"https://huggingface.co/x", "http://huggingface.co/x", false},
		{"https://huggingface.co/x", "https://cdn-lfs.huggingface.co/x", false},
		{"http://127.0.0.1:1/x", "http://127.0.0.1:2/x", false},
		{"http://127.0.0.1:80/x", "http://127.0.0.1/x", true},
	}
	for _, c := range origins {
		a, _ := url.Parse(c.a)
		b, _ := url.Parse(c.b)
		if sameOrigin(a, b) != c.same {
			t.Errorf("sameOrigin(%s, %s) != %v", c.a, c.b, c.same)
		}
	}
	hd := http.Header{}
	if _, ok := retryAfter(hd); ok {
		t.Error("retryAfter without the header")
	}
	hd.Set("Retry-After", "7")
	if d, ok := retryAfter(hd); !ok || d != 7*time.Second {
		t.Errorf("retryAfter(7) = %v, %v", d, ok)
	}
	hd.Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	if d, ok := retryAfter(hd); !ok || d < 59*time.Minute || d > time.Hour {
		t.Errorf("retryAfter(date) = %v, %v", d, ok)
	}
	hd.Set("Retry-After", "soon")
	if _, ok := retryAfter(hd); ok {
		t.Error("retryAfter(soon)")
	}
}

func TestNewCommitReusesBlob(t *testing.T) {
	cache := t.TempDir()
	b := content(20_000, 27)
	oldSnap, oldCommit := populate(t, cache, "vits14/vits14_1.0_1.pth", b)

	// The repository moves to a new commit in which the file is unchanged: same etag.
	h := newFakeHub(t)
	h.commit = strings.Repeat("be", 20)
	h.add("vits14/vits14_1.0_1.pth", b)
	p, err := h.client(cache).Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
	if err != nil {
		t.Fatal(err)
	}
	if p == oldSnap || !strings.Contains(p, h.commit) {
		t.Errorf("path %s, want one under the new commit %s", p, h.commit)
	}
	if n := len(h.hitsOf("cdn", "")); n != 0 {
		t.Errorf("%d CDN requests for a blob the cache holds", n)
	}
	repo := filepath.Join(cache, "models--eminorhan--humanlike-vits")
	if ref := readFile(t, filepath.Join(repo, "refs", "main")); string(ref) != h.commit {
		t.Errorf("refs/main = %q, want %q (was %q)", ref, h.commit, oldCommit)
	}
	if target, _ := os.Readlink(p); target != "../../../blobs/"+sha256hex(b) {
		t.Errorf("new snapshot link %q", target)
	}
	if _, err := os.Stat(oldSnap); err != nil {
		t.Errorf("old snapshot gone: %v", err)
	}

	// A blob of the wrong size (truncated by a crash of some other writer) is downloaded again.
	blob := filepath.Join(repo, "blobs", sha256hex(b))
	if err := os.Truncate(blob, 100); err != nil {
		t.Fatal(err)
	}
	h.commit = strings.Repeat("ef", 20)
	p, err = h.client(cache).Download(context.Background(), testRepo, "main", "vits14/vits14_1.0_1.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), b) || len(h.hitsOf("cdn", "GET")) != 1 {
		t.Errorf("truncated blob not replaced (%d GETs)", len(h.hitsOf("cdn", "GET")))
	}
}
