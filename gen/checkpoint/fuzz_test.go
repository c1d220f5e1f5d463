package checkpoint

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// readAll exercises what a caller does after Open: read every small float tensor. Broadcast views
// (stride 0) may claim far more elements than the file holds, hence the size cap.
func readAll(c *Checkpoint) {
	for _, tensor := range c.Tensors {
		if tensor.Numel() <= 1<<16 {
			tensor.Float32()
		}
	}
	c.Names()
	c.ArgString("model")
	c.ArgInt("input_size")
}

// watchdog turns a hang into a crash, which the fuzzer records like any other: Go's fuzzing
// does not report inputs that never finish.
func watchdog() *time.Timer {
	return time.AfterFunc(10*time.Second, func() { panic("one input took more than 10 s") })
}

// FuzzOpen writes arbitrary bytes to a file and opens it: Open and the reads after it must
// return errors, never panic. The seeds are the fixtures.
func FuzzOpen(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pth")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	// One file per worker process, rewritten for each input: a directory per input would cost
	// more than the Open.
	path := filepath.Join(f.TempDir(), "fuzz.pth")
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog().Stop()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Open(path)
		if err != nil {
			return
		}
		readAll(c)
		c.Close()
	})
}

// FuzzPickle runs data.pkl-like bytes through the unpickler and the state-dict logic with the
// storages in memory. A zip's CRC makes FuzzOpen's mutations of data.pkl mostly fail early, and
// a legacy file's pickles sit behind its header; this target reaches the pickle directly.
func FuzzPickle(f *testing.F) {
	files, _ := filepath.Glob("testdata/*_zip.pth")
	for _, name := range files {
		zr, err := zip.OpenReader(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, zf := range zr.File {
			if filepath.Base(zf.Name) == "data.pkl" {
				rc, _ := zf.Open()
				data, _ := io.ReadAll(rc)
				rc.Close()
				f.Add(data)
			}
		}
		zr.Close()
	}
	store := make([]byte, 4096)
	for i := range store {
		store[i] = byte(i * 7)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog().Stop()
		var reg registry
		top, _, err := loadPickle(bytes.NewReader(data), 0, int64(len(data)), reg.persistentLoad)
		if err != nil {
			return
		}
		c := &Checkpoint{Path: "fuzz.pth", Epoch: -1, src: &source{path: "fuzz.pth", ra: bytes.NewReader(store)}}
		err = c.fill(top, func(st *storage) error {
			st.offset, st.size = 0, int64(len(store))
			return nil
		})
		if err != nil {
			return
		}
		readAll(c)
	})
}
