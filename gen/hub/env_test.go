package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestEnvCacheDirPrecedence(t *testing.T) {
	home := t.TempDir() // no token file there
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, filepath.Join(home, ".cache/huggingface/hub")},
		{"XDG_CACHE_HOME", map[string]string{"XDG_CACHE_HOME": "/xdg"}, "/xdg/huggingface/hub"},
		{"HF_HOME over XDG", map[string]string{"XDG_CACHE_HOME": "/xdg", "HF_HOME": "/hf"}, "/hf/hub"},
		{"HUGGINGFACE_HUB_CACHE over HF_HOME", map[string]string{"HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/legacy"}, "/legacy"},
		{"HF_HUB_CACHE over all", map[string]string{"HF_HOME": "/hf", "HUGGINGFACE_HUB_CACHE": "/legacy", "HF_HUB_CACHE": "/new"}, "/new"},
		{"empty counts as unset", map[string]string{"HF_HUB_CACHE": "", "HF_HOME": "/hf"}, "/hf/hub"},
		{"tilde", map[string]string{"HF_HUB_CACHE": "~/models"}, filepath.Join(home, "models")},
		{"tilde in HF_HOME", map[string]string{"HF_HOME": "~/hfhome"}, filepath.Join(home, "hfhome/hub")},
		{"vars", map[string]string{"HF_HUB_CACHE": "${BASE}/c/$SUB", "BASE": "/b", "SUB": "s"}, "/b/c/s"},
		{"unknown var kept", map[string]string{"HF_HUB_CACHE": "/x/$NOPE/y"}, "/x/$NOPE/y"},
	}
	for _, c := range cases {
		cl, err := newFromEnv(envFrom(c.env), home)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if cl.CacheDir != c.want {
			t.Errorf("%s: CacheDir = %q, want %q", c.name, cl.CacheDir, c.want)
		}
	}
}

func TestEnvEndpointOfflineTimeouts(t *testing.T) {
	home := t.TempDir()
	cl, err := newFromEnv(envFrom(nil), home)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Endpoint != "https://huggingface.co" || cl.Offline || cl.Token != "" ||
		cl.MetadataTimeout != 10*time.Second || cl.IdleTimeout != 10*time.Second || len(cl.Backoff) != 5 {
		t.Errorf("defaults: %+v", cl)
	}
	if !strings.HasPrefix(cl.UserAgent, "vitc/") || !strings.Contains(cl.UserAgent, "; go/") || strings.Contains(cl.UserAgent, "hf_hub") {
		t.Errorf("User-Agent %q", cl.UserAgent)
	}
	cl, _ = newFromEnv(envFrom(map[string]string{"HF_ENDPOINT": "http://mirror.local:8080/"}), home)
	if cl.Endpoint != "http://mirror.local:8080" {
		t.Errorf("Endpoint = %q, want trailing / removed", cl.Endpoint)
	}
	if _, err := newFromEnv(envFrom(map[string]string{"HF_ENDPOINT": "mirror.local"}), home); err == nil ||
		!strings.Contains(err.Error(), "HF_ENDPOINT") {
		t.Errorf("bad HF_ENDPOINT: err = %v", err)
	}

	offline := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"HF_HUB_OFFLINE": "1"}, true},
		{map[string]string{"HF_HUB_OFFLINE": "yes"}, true},
		{map[string]string{"HF_HUB_OFFLINE": "On"}, true},
		{map[string]string{"HF_HUB_OFFLINE": "TRUE"}, true},
		{map[string]string{"HF_HUB_OFFLINE": "0"}, false},
		{map[string]string{"HF_HUB_OFFLINE": "auto"}, false},
		{map[string]string{"TRANSFORMERS_OFFLINE": "1"}, true},
		{map[string]string{"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "1"}, false}, // HF_HUB_OFFLINE set wins
		{map[string]string{"HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "1"}, true},
	}
	for _, c := range offline {
		cl, err := newFromEnv(envFrom(c.env), home)
		if err != nil {
			t.Fatal(err)
		}
		if cl.Offline != c.want {
			t.Errorf("%v: Offline = %v, want %v", c.env, cl.Offline, c.want)
		}
	}

	if cl.Progress == nil {
		t.Error("no progress by default")
	}
	if cl, _ := newFromEnv(envFrom(map[string]string{"HF_HUB_DISABLE_PROGRESS_BARS": "1"}), home); cl.Progress != nil {
		t.Error("HF_HUB_DISABLE_PROGRESS_BARS=1 left progress on")
	}

	cl, err = newFromEnv(envFrom(map[string]string{"HF_HUB_ETAG_TIMEOUT": "2.5", "HF_HUB_DOWNLOAD_TIMEOUT": "30"}), home)
	if err != nil || cl.MetadataTimeout != 2500*time.Millisecond || cl.IdleTimeout != 30*time.Second {
		t.Errorf("timeouts: %v %v %v", err, cl.MetadataTimeout, cl.IdleTimeout)
	}
	if _, err := newFromEnv(envFrom(map[string]string{"HF_HUB_DOWNLOAD_TIMEOUT": "soon"}), home); err == nil {
		t.Error("HF_HUB_DOWNLOAD_TIMEOUT=soon accepted")
	}
}

func TestEnvTokenPrecedence(t *testing.T) {
	home := t.TempDir()
	hfHome := filepath.Join(home, "hf")
	os.MkdirAll(hfHome, 0o755)
	os.WriteFile(filepath.Join(hfHome, "token"), []byte("  file-token\r\n"), 0o600)
	other := filepath.Join(home, "other-token")
	os.WriteFile(other, []byte("other-token\n"), 0o600)

	cases := []struct {
		env        map[string]string
		token, src string
	}{
		{map[string]string{"HF_HOME": hfHome}, "file-token", "the token file " + filepath.Join(hfHome, "token")},
		{map[string]string{"HF_HOME": hfHome, "HF_TOKEN_PATH": other}, "other-token", "the token file " + other},
		{map[string]string{"HF_HOME": hfHome, "HUGGING_FACE_HUB_TOKEN": "legacy"}, "legacy", "HUGGING_FACE_HUB_TOKEN"},
		{map[string]string{"HF_HOME": hfHome, "HUGGING_FACE_HUB_TOKEN": "legacy", "HF_TOKEN": " new\n"}, "new", "HF_TOKEN"},
		{map[string]string{"HF_HOME": filepath.Join(home, "none")}, "", ""},
	}
	for _, c := range cases {
		cl, err := newFromEnv(envFrom(c.env), home)
		if err != nil {
			t.Fatal(err)
		}
		if cl.Token != c.token || cl.TokenSource != c.src {
			t.Errorf("%v: token %q from %q, want %q from %q", c.env, cl.Token, cl.TokenSource, c.token, c.src)
		}
	}
}

func TestExpandPath(t *testing.T) {
	env := envFrom(map[string]string{"A": "/a", "B_2": "b"})
	cases := map[string]string{
		"~":           "/home/u",
		"~/x":         "/home/u/x",
		"~x":          "~x",
		"$A/$B_2":     "/a/b",
		"${A}x":       "/ax",
		"$":           "$",
		"x$":          "x$",
		"$UNSET/y":    "$UNSET/y",
		"${UNSET}/y":  "${UNSET}/y",
		"/p/$A.txt":   "/p//a.txt",
		"${A":         "${A",
		"cost $5 now": "cost $5 now",
	}
	for in, want := range cases {
		if got := expandPath(in, env, "/home/u"); got != want {
			t.Errorf("expandPath(%q) = %q, want %q", in, got, want)
		}
	}
}
