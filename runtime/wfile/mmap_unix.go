//go:build unix

package wfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of the file from offset off (page-aligned) read-only and shared:
// pages come from the page cache, so several processes using one model share its memory and
// nothing is read until it is used.
func mapFile(f *os.File, off, size int64) ([]byte, func() error, error) {
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	b, err := unix.Mmap(int(f.Fd()), off, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return unix.Munmap(b) }, nil
}
