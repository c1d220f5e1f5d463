//go:build !unix

package wfile

import (
	"io"
	"os"
)

// mapFile reads size bytes of the file from offset off into memory where mmap is not
// available.
func mapFile(f *os.File, off, size int64) ([]byte, func() error, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, off, size), b); err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
