package checkpoint

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// openZip reads the zip format of torch >= 1.6: every entry lies under one folder (named after
// the file, or "archive"), data.pkl is the pickle, data/<key> the raw bytes of each storage.
func (c *Checkpoint) openZip(size int64) error {
	zr, err := zip.NewReader(c.src.ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return c.errorf("damaged or truncated zip archive (%v): download or save the file again", err)
	}
	var pkl *zip.File
	for _, f := range zr.File {
		if f.Name == "data.pkl" || strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 {
			pkl = f
			break
		}
	}
	if pkl == nil {
		return c.errorf("a zip archive without data.pkl: not a PyTorch checkpoint")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	entries := make(map[string]*zip.File)
	for _, f := range zr.File {
		if rest, ok := strings.CutPrefix(f.Name, prefix); ok {
			entries[rest] = f
		}
	}
	if bo := entries["byteorder"]; bo != nil {
		order, err := readEntry(bo, 16)
		if err != nil {
			return c.errorf("%s: %w", bo.Name, err)
		}
		if s := string(bytes.TrimSpace(order)); s != "little" {
			return c.errorf("byte order %q: only little-endian checkpoints are supported", s)
		}
	}
	data, err := readEntry(pkl, maxPickleBytes)
	if err != nil {
		return c.errorf("%s: %w", pkl.Name, err)
	}
	var reg registry
	top, _, err := loadPickle(bytes.NewReader(data), 0, int64(len(data)), reg.persistentLoad)
	if err != nil {
		return c.errorf("%s: %w", pkl.Name, err)
	}
	return c.fill(top, func(st *storage) error { return findZipStorage(st, entries, prefix, size) })
}

// findZipStorage finds the bytes of entry data/<key> in the file. torch stores these entries
// uncompressed (and 64-byte aligned), so they are read in place; the data start after the local
// file header, whose extra field may differ from the central directory's.
func findZipStorage(st *storage, entries map[string]*zip.File, prefix string, size int64) error {
	f := entries["data/"+st.key]
	if f == nil {
		return fmt.Errorf("storage %q has no entry %sdata/%s in the archive", st.key, prefix, st.key)
	}
	off, err := f.DataOffset()
	if err != nil {
		return fmt.Errorf("entry %s: %w", f.Name, err)
	}
	if off < 0 || f.CompressedSize64 > uint64(size-off) {
		return fmt.Errorf("entry %s reaches past the end of the file (truncated?)", f.Name)
	}
	switch f.Method {
	case zip.Store:
		if f.CompressedSize64 != f.UncompressedSize64 {
			return fmt.Errorf("stored entry %s has compressed size %d but size %d", f.Name,
				f.CompressedSize64, f.UncompressedSize64)
		}
		st.offset, st.size = off, int64(f.UncompressedSize64)
	case zip.Deflate:
		if f.UncompressedSize64 > maxStorageBytes {
			return fmt.Errorf("entry %s claims %d bytes", f.Name, f.UncompressedSize64)
		}
		st.deflate = &deflatedEntry{offset: off, size: int64(f.CompressedSize64)}
		st.offset, st.size = 0, int64(f.UncompressedSize64)
	default:
		return fmt.Errorf("entry %s uses zip compression method %d; only stored and deflated entries can be read",
			f.Name, f.Method)
	}
	return nil
}

// readEntry reads a small entry whole; archive/zip checks its size and CRC.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("entry of %d bytes, more than the %d expected", f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("damaged entry (%w)", err)
	}
	return data, nil
}
