//go:build unix

package wfile

import (
	"os"
	"unsafe"

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

// hugePage is the alignment of the private copy: the size of an x86-64 or arm64 (4 KiB
// granule) huge page, so that the whole copy can be backed by them.
const hugePage = 2 << 20

// copyFile reads size bytes of the file from offset off into private anonymous memory,
// outside the garbage-collected heap, aligned to hugePage and advised to be backed by huge
// pages (see adviseHuge), then made read-only as a mapping of the file is.
func copyFile(f *os.File, off, size int64) ([]byte, func() error, error) {
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	region, err := unix.Mmap(-1, 0, int(size)+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, err
	}
	free := func() error { return unix.Munmap(region) }
	pad := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(region))) % hugePage); r != 0 {
		pad = hugePage - r
	}
	b := region[pad : pad+int(size) : pad+int(size)]
	adviseHuge(b)
	if err := readInto(b, f, off); err != nil {
		free()
		return nil, nil, err
	}
	if err := unix.Mprotect(region, unix.PROT_READ); err != nil {
		free()
		return nil, nil, err
	}
	return b, free, nil
}
