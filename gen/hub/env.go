package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/vitc-dev/vitc/runtime/progress"
)

// DefaultEndpoint is the Hub used when HF_ENDPOINT is not set.
const DefaultEndpoint = "https://huggingface.co"

// DefaultBackoff is how long to wait before each retry of a request that failed for a reason
// that may pass (a 5xx or 429 answer, a timeout, a dropped connection): huggingface_hub's
// 1, 2, 4, 8, 8 seconds.
var DefaultBackoff = []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}

// NewFromEnv returns a Client configured from the environment exactly as huggingface_hub reads
// it, so that both use the same Hub, cache and token:
//
//	HF_ENDPOINT                      the Hub (default https://huggingface.co), trailing "/" removed
//	HF_HUB_CACHE                     the cache; else HUGGINGFACE_HUB_CACHE; else $HF_HOME/hub
//	HF_HOME                          else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface
//	HF_TOKEN                         else HUGGING_FACE_HUB_TOKEN, else the file $HF_TOKEN_PATH
//	                                 (default $HF_HOME/token)
//	HF_HUB_OFFLINE                   1/ON/YES/TRUE: no request at all; if unset, TRANSFORMERS_OFFLINE
//	HF_HUB_ETAG_TIMEOUT              seconds to wait for the metadata answer (default 10)
//	HF_HUB_DOWNLOAD_TIMEOUT          seconds a download may receive nothing (default 10)
//	HF_HUB_DISABLE_PROGRESS_BARS     1/ON/YES/TRUE: no progress; else on standard error (a bar on a
//	                                 terminal, plain lines otherwise)
//
// Paths get "~" and $VAR expanded, as Python's expanduser and expandvars do. An empty
// variable counts as unset.
func NewFromEnv() (*Client, error) {
	home, _ := os.UserHomeDir()
	return newFromEnv(os.Getenv, home)
}

func newFromEnv(getenv func(string) string, home string) (*Client, error) {
	expand := func(p string) string { return expandPath(p, getenv, home) }

	endpoint := strings.TrimRight(getenv("HF_ENDPOINT"), "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("HF_ENDPOINT=%q is not an http(s) URL such as %s; fix or unset it", getenv("HF_ENDPOINT"), DefaultEndpoint)
	}

	hfHome := getenv("HF_HOME")
	if hfHome == "" {
		xdg := getenv("XDG_CACHE_HOME")
		if xdg == "" {
			xdg = filepath.Join(home, ".cache")
		}
		hfHome = filepath.Join(xdg, "huggingface")
	}
	hfHome = expand(hfHome)

	cacheDir := firstSet(getenv, "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
	if cacheDir == "" {
		cacheDir = filepath.Join(hfHome, "hub")
	}
	cacheDir = expand(cacheDir)
	if abs, err := filepath.Abs(cacheDir); err == nil {
		cacheDir = abs
	}

	c := &Client{
		Endpoint:        endpoint,
		CacheDir:        cacheDir,
		Offline:         envTrue(firstSet(getenv, "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")),
		HTTP:            &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		UserAgent:       DefaultUserAgent(),
		Backoff:         DefaultBackoff,
		MetadataTimeout: 10 * time.Second,
		IdleTimeout:     10 * time.Second,
	}

	switch {
	case getenv("HF_TOKEN") != "":
		c.Token, c.TokenSource = cleanToken(getenv("HF_TOKEN")), "HF_TOKEN"
	case getenv("HUGGING_FACE_HUB_TOKEN") != "":
		c.Token, c.TokenSource = cleanToken(getenv("HUGGING_FACE_HUB_TOKEN")), "HUGGING_FACE_HUB_TOKEN"
	default:
		tokenPath := getenv("HF_TOKEN_PATH")
		if tokenPath == "" {
			tokenPath = filepath.Join(hfHome, "token")
		}
		tokenPath = expand(tokenPath)
		b, err := os.ReadFile(tokenPath)
		switch {
		case err == nil:
			c.Token, c.TokenSource = cleanToken(string(b)), "the token file "+tokenPath
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, fmt.Errorf("cannot read the Hugging Face token file: %w; fix its permissions, set HF_TOKEN, or set HF_TOKEN_PATH to another file", err)
		}
	}
	if c.Token == "" {
		c.TokenSource = ""
	}
	if !envTrue(getenv("HF_HUB_DISABLE_PROGRESS_BARS")) {
		c.Progress = progress.New(os.Stderr)
	}

	for _, t := range []struct {
		name string
		dst  *time.Duration
	}{{"HF_HUB_ETAG_TIMEOUT", &c.MetadataTimeout}, {"HF_HUB_DOWNLOAD_TIMEOUT", &c.IdleTimeout}} {
		v := getenv(t.name)
		if v == "" {
			continue
		}
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs <= 0 {
			return nil, fmt.Errorf("%s=%q is not a positive number of seconds; fix or unset it", t.name, v)
		}
		*t.dst = time.Duration(secs * float64(time.Second))
	}
	return c, nil
}

// firstSet returns the value of the first variable that is set and not empty. Python's
// `os.environ.get(A) or os.environ.get(B)` has this meaning.
func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// envTrue is huggingface_hub's _is_true: 1, ON, YES or TRUE in any case.
func envTrue(v string) bool {
	switch strings.ToUpper(v) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// cleanToken drops line breaks and surrounding blanks, as huggingface_hub does: token files
// written by editors end with a newline, which must not reach the Authorization header.
func cleanToken(t string) string {
	return strings.TrimSpace(strings.NewReplacer("\r", "", "\n", "").Replace(t))
}

// expandPath is Python's os.path.expandvars(os.path.expanduser(p)): a leading "~" is the home
// directory, $NAME and ${NAME} are replaced when NAME is set and left as written otherwise.
func expandPath(p string, getenv func(string) string, home string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = home + p[1:]
	}
	if !strings.Contains(p, "$") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '$' {
			b.WriteByte(p[i])
			i++
			continue
		}
		name, end := "", i+1
		if end < len(p) && p[end] == '{' {
			if j := strings.IndexByte(p[end:], '}'); j > 0 {
				name, end = p[end+1:end+j], end+j+1
			}
		} else {
			for end < len(p) && (isUnreservedByte(p[end]) && p[end] != '.' && p[end] != '-' && p[end] != '~') {
				end++
			}
			name = p[i+1 : end]
		}
		if v := getenv(name); name != "" && v != "" {
			b.WriteString(v)
		} else {
			b.WriteString(p[i:max(end, i+1)])
		}
		i = max(end, i+1)
	}
	return b.String()
}

// DefaultUserAgent is "vitc/<version>; go/<go version>". It names vitc rather than hf_hub so
// that the Hub's statistics and any rate limits count vitc for what it is.
func DefaultUserAgent() string {
	version := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	return "vitc/" + version + "; go/" + strings.TrimPrefix(runtime.Version(), "go")
}
