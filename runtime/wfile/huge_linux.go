package wfile

import "golang.org/x/sys/unix"

// adviseHuge asks for b to be backed by transparent huge pages, as it is first written: fewer
// TLB misses while the kernels stream the weights. Where THP is off, nothing changes.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
