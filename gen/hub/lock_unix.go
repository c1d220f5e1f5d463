//go:build unix

package hub

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on path, the kind of lock Python's filelock takes on the
// same file, waiting (and polling the context) while another process holds it. The file is
// left in place afterwards, as Python leaves it: deleting it would let a third process lock a
// new file while the second still holds the old one.
//
// On a file system without flock (some network mounts) the download goes on unlocked, as
// huggingface_hub's WeakFileLock does: correctness does not depend on the lock, since every
// writer uses its own temporary file and renames it atomically; only bandwidth may be wasted.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o664)
	if err != nil {
		return nil, err
	}
	// Group-writable whatever the umask, as Python's filelock makes it, so that the users of a
	// shared cache can all open the lock; it fails harmlessly on another user's lock file.
	_ = f.Chmod(0o664)
	fd := int(f.Fd())
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return func() {
				unix.Flock(fd, unix.LOCK_UN)
				f.Close()
			}, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOLCK), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS):
			return func() { f.Close() }, nil
		case !errors.Is(err, unix.EWOULDBLOCK):
			f.Close()
			return nil, err
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			f.Close()
			return nil, err
		}
	}
}
