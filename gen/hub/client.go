package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vitc-dev/vitc/runtime/progress"
)

// Client fetches files of Hub repositories into a huggingface_hub cache. NewFromEnv fills it
// from the environment; tests and callers may also fill it by hand (zero fields take the
// defaults noted).
type Client struct {
	Endpoint    string // the Hub: HF_ENDPOINT or https://huggingface.co, without trailing "/"
	CacheDir    string // the hub cache: HF_HUB_CACHE or its fallbacks (see NewFromEnv)
	Token       string // sent as "Authorization: Bearer", to the Endpoint's scheme, host and port only
	TokenSource string // where Token came from, for messages: "HF_TOKEN", "the token file /..."
	Offline     bool   // HF_HUB_OFFLINE: never make a request, use the cache only

	HTTP      *http.Client // nil: http.DefaultClient; its redirect policy is not used (see below)
	UserAgent string       // "vitc/<version>; go/<version>"; empty: DefaultUserAgent()

	// Progress shows each transfer; nil shows nothing.
	Progress progress.Factory

	// Backoff is the wait before each retry of a request that may succeed later; its length is
	// the number of retries. nil: DefaultBackoff. An empty non-nil slice: no retries.
	Backoff []time.Duration

	MetadataTimeout time.Duration // limit for one metadata (HEAD) request; 0: 10 s
	IdleTimeout     time.Duration // a download that receives nothing for this long is retried; 0: 10 s
}

// RepoDir is the cache folder of a model repository: <CacheDir>/models--<owner>--<name>.
func (c *Client) RepoDir(repo string) string {
	return filepath.Join(c.CacheDir, repoFolderName(repo))
}

func repoFolderName(repo string) string {
	return "models--" + strings.ReplaceAll(repo, "/", "--")
}

var (
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)
	etagRE   = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
	repoRE   = regexp.MustCompile(`^(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// validate rejects arguments that would make a URL or a cache path other than the one meant:
// the revision and path become directory names, so ".." or an absolute path must never pass.
func validate(repo, revision, path string) error {
	if !repoRE.MatchString(repo) || strings.Contains(repo, "--") || strings.Contains(repo, "..") || len(repo) > 96 {
		return fmt.Errorf("invalid repository id %q: expected owner/name, e.g. eminorhan/humanlike-vits", repo)
	}
	if err := checkRelative(revision); err != nil {
		return fmt.Errorf("invalid revision %q: %v", revision, err)
	}
	if err := checkRelative(path); err != nil {
		return fmt.Errorf("invalid file path %q: %v", path, err)
	}
	return nil
}

func checkRelative(p string) error {
	if p == "" {
		return errors.New("it is empty")
	}
	if strings.ContainsAny(p, "\\\x00") {
		return errors.New(`it contains "\" or a NUL byte`)
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return errors.New(`it is absolute or has an empty "//" segment`)
		case ".", "..":
			return fmt.Errorf("it has a %q segment", seg)
		}
	}
	return nil
}

// pointerPath is snapshots/<commit>/<path> in the repository folder; the path's "/" become the
// local separator (the local name is not URL-encoded).
func (c *Client) pointerPath(repo, commit, path string) string {
	return filepath.Join(c.RepoDir(repo), "snapshots", commit, filepath.FromSlash(path))
}

// Download returns the local path of repo@revision:path in the cache, under
// snapshots/<commit>/, fetching it first if it is not there. revision "" means "main".
//
// Online, it asks the Hub which commit and blob the revision resolves to (one HEAD request) and
// downloads only when that blob is missing. When offline, or when the Hub cannot be reached,
// answers 5xx, or refuses access (401, 403, RepoNotFound, GatedRepo), a copy in the cache is
// used: snapshots/<refs/revision>/<path>, else any other snapshot holding the path. Only when
// there is none is the failure returned, as an *Error.
func (c *Client) Download(ctx context.Context, repo, revision, path string) (string, error) {
	if revision == "" {
		revision = "main"
	}
	if err := validate(repo, revision, path); err != nil {
		return "", err
	}
	rq := request{repo: repo, revision: revision, path: path}

	// A file pinned to a commit never changes: if it is there, no request is needed.
	if commitRE.MatchString(revision) {
		if p := c.pointerPath(repo, revision, path); isFile(p) {
			return p, nil
		}
	}
	if c.Offline {
		if p, ok := c.Cached(repo, revision, path); ok {
			return p, nil
		}
		return "", c.offlineError(rq)
	}

	endpoint, err := c.endpointURL()
	if err != nil {
		return "", err
	}
	u := resolveURL(endpoint, repo, revision, path)

	// The first metadata request is not retried, so that a cached copy is used at once when the
	// Hub is down; it is retried with backoff only when there is no such copy (as in Python).
	md, err := c.metadata(ctx, rq, u, false)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if errors.Is(err, ErrEntryNotFound) {
			c.noteMissing(rq, err)
		}
		if !cacheMayAnswer(err) {
			return "", err
		}
		if p, ok := c.Cached(repo, revision, path); ok {
			return p, nil
		}
		if isTransient(err) {
			md, err = c.metadata(ctx, rq, u, true)
		}
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", c.notCachedError(rq, err)
		}
	}
	return c.store(ctx, rq, md)
}

// Cached returns the path of repo@revision:path when the cache already holds it, making no
// request: for a commit, snapshots/<commit>/<path>; for a branch or tag,
// snapshots/<refs/revision>/<path>, else the newest other snapshot holding the path (a file of
// an older commit of the same repository is better than none when the Hub cannot be asked).
// A snapshot entry may be a symlink into blobs/ or a plain file; either is accepted if it
// leads to a regular file.
func (c *Client) Cached(repo, revision, path string) (localPath string, ok bool) {
	if revision == "" {
		revision = "main"
	}
	if validate(repo, revision, path) != nil {
		return "", false
	}
	if commitRE.MatchString(revision) {
		p := c.pointerPath(repo, revision, path)
		return p, isFile(p)
	}
	if commit, ok := c.refCommit(repo, revision); ok {
		if p := c.pointerPath(repo, commit, path); isFile(p) {
			return p, true
		}
	}
	snapshots := filepath.Join(c.RepoDir(repo), "snapshots")
	entries, err := os.ReadDir(snapshots)
	if err != nil {
		return "", false
	}
	type candidate struct {
		path string
		mod  time.Time
	}
	var found []candidate
	for _, e := range entries {
		if !commitRE.MatchString(e.Name()) {
			continue
		}
		p := c.pointerPath(repo, e.Name(), path)
		if !isFile(p) {
			continue
		}
		var mod time.Time
		if fi, err := e.Info(); err == nil {
			mod = fi.ModTime()
		}
		found = append(found, candidate{p, mod})
	}
	if len(found) == 0 {
		return "", false
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].mod.After(found[j].mod) })
	return found[0].path, true
}

// BlobEtag returns the etag of the blob a snapshot entry links to (for LFS files, the SHA-256
// of the content), when the entry is a symlink into blobs/. A plain-file entry has none.
func BlobEtag(localPath string) (string, bool) {
	target, err := os.Readlink(localPath)
	if err != nil {
		return "", false
	}
	etag := filepath.Base(target)
	if filepath.Base(filepath.Dir(target)) != "blobs" || !etagRE.MatchString(etag) {
		return "", false
	}
	return etag, true
}

// refCommit reads refs/<revision>. Python writes it without a newline and treats one as
// corruption; a reader can afford to be lenient and trims blanks.
func (c *Client) refCommit(repo, revision string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(c.RepoDir(repo), "refs", filepath.FromSlash(revision)))
	if err != nil {
		return "", false
	}
	commit := strings.TrimSpace(string(b))
	return commit, commitRE.MatchString(commit)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func (c *Client) endpointURL() (*url.URL, error) {
	ep := strings.TrimRight(c.Endpoint, "/")
	if ep == "" {
		ep = DefaultEndpoint
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hub endpoint %q is not an http(s) URL such as %s; fix HF_ENDPOINT", c.Endpoint, DefaultEndpoint)
	}
	return u, nil
}

// cacheMayAnswer: after these failures a cached copy is used (huggingface_hub's list: no
// connection, timeouts, 5xx, 401/403, RepoNotFound, GatedRepo, and answers without the Hub's
// metadata, which usually come from a proxy or captive portal). EntryNotFound and
// RevisionNotFound are definite answers from the Hub and are not overridden by the cache.
func cacheMayAnswer(err error) bool {
	return isTransient(err) || isAccessError(err) || errors.Is(err, ErrBadResponse)
}

// transientError marks failures that a retry may cure, with the server's Retry-After if any.
type transientError struct {
	err   *Error
	after time.Duration
}

func (t *transientError) Error() string { return t.err.Error() }
func (t *transientError) Unwrap() error { return t.err }

func transient(e *Error, after time.Duration) *transientError { return &transientError{e, after} }

func isTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

func (c *Client) offlineError(rq request) error {
	msg := fmt.Sprintf("offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE) and %s is not in the cache "+
		"at %s; unset HF_HUB_OFFLINE to download it, or set HF_HUB_CACHE to a cache that holds it",
		c.describe(rq), c.RepoDir(rq.repo))
	if commit, ok := c.refCommit(rq.repo, rq.revision); ok &&
		isFile(filepath.Join(c.RepoDir(rq.repo), ".no_exist", commit, filepath.FromSlash(rq.path))) {
		msg += " (the hub said earlier that this file does not exist at commit " + commit + ")"
	}
	return &Error{Kind: ErrOffline, msg: msg}
}

// notCachedError wraps the failure of the metadata request when no cached copy could stand in.
func (c *Client) notCachedError(rq request, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: ErrBadResponse, Err: err, msg: err.Error()}
	}
	where := fmt.Sprintf("%s is not in the cache at %s either", c.describe(rq), c.RepoDir(rq.repo))
	if !isTransient(err) {
		return &Error{Kind: e.Kind, URL: e.URL, Status: e.Status, Err: e.Err, msg: e.msg + "; " + where}
	}
	return &Error{Kind: ErrNotCached, URL: e.URL, Status: e.Status, Err: err,
		msg: fmt.Sprintf("cannot get %s from the hub: %s; and %s. Check the network connection and proxy "+
			"(HTTPS_PROXY), and HF_ENDPOINT (now %s); or copy the file into the cache and retry",
			rq.path, e.msg, where, c.Endpoint)}
}

func (c *Client) describe(rq request) string {
	return fmt.Sprintf("%q of %s at revision %s", rq.path, rq.repo, rq.revision)
}

// noteMissing records a 404 EntryNotFound under .no_exist/<commit>/<path>, as Python does, so
// that Python's try_to_load_from_cache knows the file is absent without asking. Best effort:
// a read-only cache must not turn a clear error into a confusing one.
func (c *Client) noteMissing(rq request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		return
	}
	commit := e.commit
	if !commitRE.MatchString(commit) {
		return
	}
	p := filepath.Join(c.RepoDir(rq.repo), ".no_exist", commit, filepath.FromSlash(rq.path))
	if os.MkdirAll(filepath.Dir(p), 0o777) == nil {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o666); err == nil {
			f.Close()
		}
	}
	if rq.revision != commit {
		_ = writeRef(c.RepoDir(rq.repo), rq.revision, commit)
	}
}

// retryAfter reads Retry-After in seconds or as an HTTP date; huggingface_hub honours it too.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t)), true
	}
	return 0, false
}
