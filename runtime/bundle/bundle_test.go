package bundle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/vitc-dev/vitc/compiled/testarch/all"
	"github.com/vitc-dev/vitc/gen/arch"
	"github.com/vitc-dev/vitc/gen/pack"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// The test architectures of compiled/testarch.
const (
	tinySpec = "name=tiny,embed=32,depth=2,heads=2,image=42"
	oddSpec  = "name=odd,embed=24,depth=3,heads=3,image=56,mlp=96"
)

// weights writes a random-weight weights file of a test architecture.
func weights(t *testing.T, spec string) string {
	t.Helper()
	c, err := arch.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), c.Package()+".safetensors")
	if err := pack.WriteRandom(c, 10, 1, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// write makes a bundle of a fake program (any bytes: nothing runs it here) and a weights file.
func write(t *testing.T, program []byte, weightsPath string, m Manifest) string {
	t.Helper()
	wf, err := wfile.Open(weightsPath)
	if err != nil {
		t.Fatal(err)
	}
	if m.Arch == "" {
		m.Arch = wf.Header.Meta[wfile.KeyArch]
	}
	m.DataSHA256 = wf.Header.Meta[wfile.KeyDataSHA256]
	wf.Close()
	data, err := os.ReadFile(weightsPath)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Write(&buf, bytes.NewReader(program), bytes.NewReader(data), int64(len(data)), m, nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bundle")
	if err := os.WriteFile(p, buf.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	w := weights(t, tinySpec)
	program := bytes.Repeat([]byte("program "), 1000)
	p := write(t, program, w, Manifest{Model: "tiny.pth", Target: "linux/amd64"})
	b, err := Find(p)
	if err != nil || b == nil {
		t.Fatalf("Find: %v %v", b, err)
	}
	if b.Offset%wfile.PageAlign != 0 || b.Offset < int64(len(program)) || b.Arch != "tiny" || b.Model != "tiny.pth" {
		t.Fatalf("manifest %+v", b.Manifest)
	}
	data, _ := os.ReadFile(p)
	if !bytes.Equal(data[:len(program)], program) {
		t.Fatal("the program is not at the start, unchanged")
	}
	m, err := b.Open("tiny")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x := make([]float32, 3*m.ImageSize()*m.ImageSize())
	if _, err := m.Forward(x, 1); err != nil {
		t.Fatal(err)
	}
	// A file without the magic is a plain program.
	if b, err := Find(w); b != nil || err != nil {
		t.Fatalf("Find of a weights file: %v %v", b, err)
	}
}

// TestRefusals: every way a bundle can be wrong is an error that names the file.
func TestRefusals(t *testing.T) {
	w := weights(t, tinySpec)
	good := write(t, []byte("program"), w, Manifest{Model: "tiny.pth"})
	data, _ := os.ReadFile(good)
	b, _ := Find(good)
	variant := func(name string, edit func(d []byte) []byte) string {
		d := edit(append([]byte(nil), data...))
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, d, 0o755)
		return p
	}
	footer := len(data) - footerSize
	n := int(binary.LittleEndian.Uint64(data[footer:]))
	manifest := data[footer-n : footer]
	withManifest := func(old, new string) func(d []byte) []byte {
		return func(d []byte) []byte {
			js := strings.Replace(string(manifest), old, new, 1)
			if js == string(manifest) {
				t.Fatalf("manifest has no %q: %s", old, manifest)
			}
			out := append(d[:footer-n:footer-n], js...)
			var foot [footerSize]byte
			binary.LittleEndian.PutUint64(foot[:8], uint64(len(js)))
			copy(foot[8:], Magic)
			return append(out, foot[:]...)
		}
	}
	for _, c := range []struct {
		name string
		edit func(d []byte) []byte
		find bool // Find fails (else Open does)
		want string
	}{
		{"truncated", func(d []byte) []byte { return append(d[:b.Offset+b.Size/2:b.Offset+b.Size/2], d[footer-n:]...) }, true, "do not fit"},
		{"bad-length", func(d []byte) []byte { binary.LittleEndian.PutUint64(d[footer:], 1<<40); return d }, true, "manifest length"},
		{"bad-json", withManifest(`"format":1`, `"format":1,"extra":2`), true, "manifest"},
		{"future-format", withManifest(`"format":1`, `"format":9`), true, "format 9"},
		{"odd-offset", withManifest(`"offset":65536`, `"offset":65537`), true, "offset"},
		{"damaged", func(d []byte) []byte { d[b.Offset+b.Size-3] ^= 1; return d }, false, "weights damaged"},
		{"other-sha", withManifest(`"data_sha256":"`, `"data_sha256":"0`), false, "not the ones it was built with"},
		{"other-arch", withManifest(`"arch":"tiny"`, `"arch":"odd"`), false, "holds odd weights"},
	} {
		p := variant(c.name, c.edit)
		got, err := Find(p)
		if !c.find && err == nil {
			_, err = got.Open("tiny")
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v (want an error naming %s and saying %q)", c.name, err, p, c.want)
		}
		if c.name == "damaged" && !errors.Is(err, ErrChecksum) {
			t.Errorf("damaged: %v is not ErrChecksum", err)
		}
	}
	// A program of another architecture.
	if _, err := b.Open("odd"); err == nil || !strings.Contains(err.Error(), "runs odd only") {
		t.Errorf("Open for another architecture: %v", err)
	}
	// Weights of another architecture under a manifest that says tiny.
	other := write(t, []byte("program"), weights(t, oddSpec), Manifest{Model: "x", Arch: "tiny"})
	ob, err := Find(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Open("tiny"); err == nil || !strings.Contains(err.Error(), "the weights inside are for odd") {
		t.Errorf("odd weights in a tiny bundle: %v", err)
	}
}
