//go:build unix

package compile

import (
	"os"
	"syscall"
)

// inode is the file's inode number, which tells a replaced file from the same one.
func inode(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Ino)
	}
	return 0
}
