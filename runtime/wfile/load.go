package wfile

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
)

// Load is how a weights file's bytes are brought into memory.
type Load string

const (
	// Copy reads the file into memory of the process's own, in huge pages where the system
	// has them (Linux transparent huge pages), as ONNX Runtime and PyTorch do with their
	// weights. Forward passes are 2-4% faster than over a mapping of the file (paired passes
	// over one file in one process, copy/map: vitb14 0.960 ± 0.005, vitl14 0.979 ± 0.007 of
	// the time; in 4 KiB pages, vitb14 0.979 ± 0.007), the more so when the file's pages in
	// the page cache are old. Reading vitb14's 346 MB takes ~63 ms
	// (230-460 ms when the kernel first compacts memory for the huge pages), where a first
	// pass over a mapping spends 25-80 ms faulting pages in.
	Copy Load = "copy"
	// Map maps the file read-only and shared: processes using one model share its pages
	// through the page cache, and the kernel can drop them under memory pressure and read
	// them back when used, for devices short of memory.
	Map Load = "map"
)

// EnvLoad names the environment variable that picks the Load of Open and OpenSection.
const EnvLoad = "VITC_WEIGHTS"

// DefaultLoad is the Load that $VITC_WEIGHTS names ("copy" or "map"), Copy when it is unset.
func DefaultLoad() (Load, error) {
	l, _, err := EnvDefault()
	return l, err
}

// EnvDefault is DefaultLoad, also saying whether $VITC_WEIGHTS chose it: a program can pick
// another default for its own work (vitc maps the file for a few images, where reading it
// would cost more than it saves) and still leave the last word to the variable.
func EnvDefault() (l Load, set bool, err error) {
	switch v := os.Getenv(EnvLoad); v {
	case "":
		return Copy, false, nil
	case string(Copy), string(Map):
		return Load(v), true, nil
	default:
		return "", false, fmt.Errorf("%s=%q: want %q (read the weights into memory) or %q (map the file)", EnvLoad, v, Copy, Map)
	}
}

// copyChunk is the size of the pieces that readInto reads in parallel.
const copyChunk = 8 << 20

// readInto fills dst with the bytes of f from offset off, in chunks read in parallel on
// all cores (the copy out of the page cache is the cost, and it is memory-bound per core).
func readInto(dst []byte, f *os.File, off int64) error {
	chunks := (len(dst) + copyChunk - 1) / copyChunk
	workers := min(chunks, runtime.GOMAXPROCS(0))
	var (
		next  = make(chan int, chunks)
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for c := range chunks {
		next <- c
	}
	close(next)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				lo, hi := c*copyChunk, min(len(dst), (c+1)*copyChunk)
				if _, err := f.ReadAt(dst[lo:hi], off+int64(lo)); err != nil {
					if err == io.EOF {
						err = io.ErrUnexpectedEOF
					}
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
