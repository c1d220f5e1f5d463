//go:build !unix

package wfile

import "os"

// mapFile reads size bytes of the file from offset off into memory where mmap is not
// available.
func mapFile(f *os.File, off, size int64) ([]byte, func() error, error) {
	return copyFile(f, off, size)
}

// copyFile reads size bytes of the file from offset off into memory.
func copyFile(f *os.File, off, size int64) ([]byte, func() error, error) {
	b := make([]byte, size)
	if err := readInto(b, f, off); err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
