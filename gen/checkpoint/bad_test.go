package checkpoint

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openBytes writes data to a file named name in a fresh directory and opens it.
func openBytes(t testing.TB, name string, data []byte) (*Checkpoint, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(path)
	return c, path, err
}

// wantError checks that err exists, names the file and contains every substring of want.
func wantError(t *testing.T, err error, path string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", path)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("error does not name the file %s: %s", path, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not say %q: %s", w, msg)
		}
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func makeZip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBadInputs(t *testing.T) {
	var tarFile bytes.Buffer
	tw := tar.NewWriter(&tarFile)
	for _, name := range []string{"storages", "tensors", "pickle"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 4})
		tw.Write([]byte("abcd"))
	}
	tw.Close()
	pkl := readFixture(t, "module_zip.pth")
	zr, err := zip.NewReader(bytes.NewReader(pkl), int64(len(pkl)))
	if err != nil {
		t.Fatal(err)
	}
	torchZip := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		torchZip[f.Name] = b.Bytes()
	}
	without := func(suffix string) map[string][]byte {
		m := map[string][]byte{}
		for k, v := range torchZip {
			if !strings.HasSuffix(k, suffix) {
				m[k] = v
			}
		}
		return m
	}
	with := func(name string, data []byte) map[string][]byte {
		m := without(name)
		m["module_zip/"+name] = data
		return m
	}

	for _, c := range []struct {
		name string
		data []byte
		want []string
	}{
		{"empty.pth", nil, []string{"empty"}},
		{"notes.txt", []byte("model: mae_vit_small_patch14\nepoch: 7\n"), []string{"not a PyTorch checkpoint"}},
		{"photo.jpg", append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01"), make([]byte, 600)...),
			[]string{"not a PyTorch checkpoint", "ff d8 ff e0"}},
		{"plain.pkl", []byte("\x80\x02}q\x00."), []string{"not a PyTorch checkpoint"}},
		{"old.tar", tarFile.Bytes(), []string{"tar", "save it again"}},
		{"other.zip", makeZip(t, map[string][]byte{"readme.txt": []byte("hello")}), []string{"without data.pkl"}},
		{"emptyzip.pth", makeZip(t, nil), []string{"without data.pkl"}},
		{"garbage_pkl.pth", makeZip(t, with("data.pkl", []byte("not a pickle"))), []string{"data.pkl"}},
		{"no_storage.pth", makeZip(t, without("data/0")), []string{"no entry"}},
		{"bigendian.pth", makeZip(t, with("byteorder", []byte("big"))), []string{"little-endian"}},
		{"nostop.pth", makeZip(t, with("data.pkl", []byte("\x80\x02}q\x00"))), []string{"STOP"}},
		{"list.pth", makeZip(t, with("data.pkl", []byte("\x80\x02]q\x00."))), []string{"not a dict"}},
		{"empty_dict.pth", makeZip(t, with("data.pkl", []byte("\x80\x02}q\x00."))), []string{"no model state dict"}},
		{"odd_dict.pth", makeZip(t, with("data.pkl", []byte("\x80\x02(K\x01d."))), []string{"malformed pickle"}},
		{"huge_bytes.pth", makeZip(t, with("data.pkl", []byte("\x80\x02\x8e\xff\xff\xff\xff\xff\xff\xff\x7f."))),
			[]string{"announces"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, path, err := openBytes(t, c.name, c.data)
			wantError(t, err, path, c.want...)
		})
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nonexistent.pth")
	_, err := Open(path)
	wantError(t, err, path, "no such file")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) is false for %v", err)
	}
	dir := t.TempDir()
	_, err = Open(dir)
	wantError(t, err, dir, "directory")
}

// TestBadFixtures opens the corrupt files that make_testdata.py crafts with torch.
func TestBadFixtures(t *testing.T) {
	for name, want := range map[string][]string{
		"bad_parameter_only.pth":       {"single tensor"},
		"bad_view_past_end_zip.pth":    {`tensor "w"`, "past the end of its storage"},
		"bad_view_past_end_legacy.pth": {`tensor "w"`, "past the end of its storage"},
		"bad_huge_numel_zip.pth":       {`tensor "w"`, "elements"},
		"bad_negative_stride_zip.pth":  {`tensor "w"`, "negative stride"},
		"bad_short_storage_zip.pth":    {`tensor "f32"`, "holds 4 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			_, err := Open(path)
			wantError(t, err, path, want...)
		})
	}
}

// TestTruncated cuts fixtures at every byte of their first and last 48 bytes (headers, the
// zip directory's end, the last storage) and at 250 points between, and expects an error each time.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"module_zip.pth", "module_legacy.pth", "dtypes_legacy.pth",
		"views_legacy.pth", "mae_zip.pth", "mae_legacy.pth", "dtypes_deflated.pth"} {
		data := readFixture(t, name)
		var cuts []int
		for n := 1; n < len(data); n++ {
			if n < 48 || n > len(data)-48 || n%(len(data)/250+1) == 0 {
				cuts = append(cuts, n)
			}
		}
		path := filepath.Join(t.TempDir(), "cut_"+name)
		for _, n := range cuts {
			if err := os.WriteFile(path, data[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := Open(path)
			if err == nil {
				c.Close()
				t.Errorf("%s cut to %d of %d bytes: no error", name, n, len(data))
				continue
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("%s cut to %d bytes: error does not name the file: %v", name, n, err)
			}
		}
	}
}

// TestRandomBytes feeds random files of several sizes, some starting like a zip or a legacy file.
func TestRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	legacy := readFixture(t, "module_legacy.pth")[:40]
	for i := 0; i < 200; i++ {
		data := make([]byte, rng.Intn(4096)+1)
		rng.Read(data)
		switch i % 3 {
		case 1:
			copy(data, "PK\x03\x04")
		case 2:
			copy(data, legacy)
		}
		c, path, err := openBytes(t, "random.pth", data)
		if err == nil {
			c.Close()
			t.Errorf("random file %d: no error", i)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("random file %d: error does not name the file: %v", i, err)
		}
	}
}

// TestCorruptBytes flips bytes of the legacy fixtures, whose pickles (unlike a zip's) carry no
// checksum: whatever Open makes of them, it must not panic, and what it accepts must read.
func TestCorruptBytes(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, name := range []string{"module_legacy.pth", "dtypes_legacy.pth", "views_legacy.pth"} {
		orig := readFixture(t, name)
		for i := 0; i < 300; i++ {
			data := bytes.Clone(orig)
			for k := rng.Intn(4) + 1; k > 0; k-- {
				data[rng.Intn(len(data))] = byte(rng.Intn(256))
			}
			c, _, err := openBytes(t, name, data)
			if err != nil {
				continue
			}
			for _, tensor := range c.Tensors {
				if tensor.Numel() < 1<<16 {
					tensor.Float32()
				}
			}
			c.Close()
		}
	}
}
