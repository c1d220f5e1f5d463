package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// store puts the file described by md into the cache, in huggingface_hub's order: folders,
// refs/<revision>, the lock, the blob (unless present), the snapshot link.
func (c *Client) store(ctx context.Context, rq request, md *metadata) (string, error) {
	repoDir := c.RepoDir(rq.repo)
	pointer := c.pointerPath(rq.repo, md.commit, rq.path)
	if isFile(pointer) {
		// Already there. The ref is refreshed if it can be; a read-only cache is fine.
		if rq.revision != md.commit {
			_ = writeRef(repoDir, rq.revision, md.commit)
		}
		return pointer, nil
	}

	blobs := filepath.Join(repoDir, "blobs")
	lockPath := filepath.Join(c.CacheDir, ".locks", repoFolderName(rq.repo), md.etag+".lock")
	for _, dir := range []string{blobs, filepath.Dir(pointer), filepath.Dir(lockPath)} {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return "", c.cacheWriteError(err)
		}
	}
	writeCacheDirTag(c.CacheDir)
	if rq.revision != md.commit {
		if err := writeRef(repoDir, rq.revision, md.commit); err != nil {
			return "", c.cacheWriteError(err)
		}
	}

	// The lock is shared with Python (flock on the same file), so two programs do not download
	// the same blob at once; the one that waited finds the blob and only links it.
	unlock, err := lockFile(ctx, lockPath)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", c.cacheWriteError(err)
	}
	defer unlock()

	blob := filepath.Join(blobs, md.etag)
	if !hasSize(blob, md.size) {
		if err := c.fetchBlob(ctx, rq, md, blob); err != nil {
			return "", err
		}
	}
	if !isFile(pointer) {
		if err := linkPointer(blob, pointer, md.etag, rq.path); err != nil {
			return "", c.cacheWriteError(err)
		}
	}
	return pointer, nil
}

// hasSize reports whether a blob is there with the size the Hub gave. A blob of another size
// can only be a corrupt one (blobs are named by content), and is downloaded again.
func hasSize(blob string, size int64) bool {
	fi, err := os.Stat(blob)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

func (c *Client) cacheWriteError(err error) error {
	return &Error{Kind: ErrCacheWrite, Err: err,
		msg: fmt.Sprintf("cannot write to the Hugging Face cache at %s: %v; check its permissions and free "+
			"space, or set HF_HUB_CACHE to another folder", c.CacheDir, err)}
}

// writeRef records that revision is at commit, in refs/<revision>: the 40 hex digits and no
// newline (Python's cache scanner reports a ref with a newline as corrupt). It writes a
// temporary file and renames it, so that a reader never sees half a ref, and leaves an
// unchanged ref alone, so that a read-only cache still works.
func writeRef(repoDir, revision, commit string) error {
	p := filepath.Join(repoDir, "refs", filepath.FromSlash(revision))
	if b, err := os.ReadFile(p); err == nil && string(b) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return err
	}
	tmp := p + "." + randomHex() + ".tmp"
	if err := os.WriteFile(tmp, []byte(commit), 0o666); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// symlink is os.Symlink; tests replace it to act as a file system without symlinks.
var symlink = os.Symlink

// linkPointer makes snapshots/<commit>/<path> lead to the blob: a relative symlink
// "../../(../)*blobs/<etag>", one "../" per directory level below the repository folder, so
// that the cache still works when it is moved or mounted elsewhere. The link is made under a
// temporary name and renamed into place, so a reader sees either no file or the whole file.
//
// Where symlinks cannot be made, the snapshot gets the file itself, as Python does: a hard
// link when the file system has them, else a copy (Python moves a new blob instead; keeping
// it lets other snapshots of the same blob be linked without a download).
func linkPointer(blob, pointer, etag, path string) error {
	target := strings.Repeat("../", 2+strings.Count(path, "/")) + "blobs/" + etag
	tmp := pointer + "." + randomHex() + ".tmp"
	if err := symlink(target, tmp); err == nil {
		return renameOrRemove(tmp, pointer)
	} else if errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := os.Link(blob, tmp); err == nil {
		return renameOrRemove(tmp, pointer)
	}
	if err := copyFile(blob, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	return renameOrRemove(tmp, pointer)
}

func renameOrRemove(tmp, dst string) error {
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeCacheDirTag marks the cache for backup tools (https://bford.info/cachedir/), as
// huggingface_hub does; best effort.
func writeCacheDirTag(cacheDir string) {
	p := filepath.Join(cacheDir, "CACHEDIR.TAG")
	if _, err := os.Lstat(p); err == nil {
		return
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return
	}
	defer f.Close()
	io.WriteString(f, "Signature: 8a477f597d28d172789f06886806bc55\n"+
		"# This file is a cache directory tag created by vitc (a Hugging Face hub cache).\n"+
		"# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n")
}

// randomHex is 8 hex digits, to make names that no other writer uses.
func randomHex() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
