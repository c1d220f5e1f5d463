// Package atomicfile writes files that are either wholly there or not there at all: the
// contents go to a temporary file in the same directory, which is synced and then renamed over
// the target. A reader never sees half a file, even if the writer or the machine stops midway.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write creates or replaces path with what fill writes. A new file gets mode 0644; an existing
// one keeps its mode. When fill or any step fails, the temporary file is removed and path is
// left as it was.
func Write(path string, fill func(io.Writer) error) error {
	return WriteMode(path, 0o644, fill)
}

// WriteMode is Write with the mode of a new file, e.g. 0755 for an executable.
func WriteMode(path string, perm os.FileMode, fill func(io.Writer) error) (err error) {
	mode := perm
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s: exists and is not a regular file", path)
		}
		mode = st.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Not every system can sync a directory; the file is
	// complete either way, so a failure here is not an error.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFile is Write of a byte slice.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
