package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vitc-dev/vitc/runtime/progress"
)

// fetchBlob downloads the blob to a temporary file of its own,
// blobs/<etag>.<8 random hex>.incomplete, checks its size and, for a 64-hex etag (an LFS
// file, whose etag is its SHA-256), its hash, and only then renames it to blobs/<etag>.
// Whatever fails, the temporary file is removed: a partial or corrupt blob never appears, and
// Python's cache scanner finds no orphan of ours.
func (c *Client) fetchBlob(ctx context.Context, rq request, md *metadata, blob string) (err error) {
	tmp := blob + "." + randomHex() + ".incomplete"
	// 0666 before the umask, like any file the user creates (and like Python's blobs): the
	// cache may be shared by a group, so os.CreateTemp's 0600 would not do.
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return c.cacheWriteError(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()

	factory := c.Progress
	if factory == nil {
		factory = progress.Nop
	}
	rep := factory("downloading "+rq.path, md.size, progress.Bytes)
	defer rep.Done()

	h := sha256.New()
	written, err := c.transfer(ctx, rq, md, f, h, rep)
	if err != nil {
		return err
	}
	if written != md.size {
		return &Error{Kind: ErrCorrupt, URL: md.download.String(),
			msg: fmt.Sprintf("the download of %q from %s ended after %d of %d bytes: the server closed the "+
				"transfer early; nothing was stored in the cache, run again to retry", rq.path, md.download, written, md.size)}
	}
	if len(md.etag) == 64 {
		if sum := hex.EncodeToString(h.Sum(nil)); sum != md.etag {
			return &Error{Kind: ErrCorrupt, URL: md.download.String(),
				msg: fmt.Sprintf("the download of %q from %s is corrupt: its SHA-256 is %s, the hub says %s; "+
					"nothing was stored in the cache. Run again to retry; if it happens again, the file on the "+
					"server or a proxy in between is damaged", rq.path, md.download, sum, md.etag)}
		}
	}
	if err := f.Sync(); err != nil {
		return c.cacheWriteError(err)
	}
	if err := f.Close(); err != nil {
		return c.cacheWriteError(err)
	}
	if err := os.Rename(tmp, blob); err != nil {
		os.Remove(tmp)
		return c.cacheWriteError(err)
	}
	return nil
}

// transfer GETs the bytes into f, resuming with a Range request after a dropped connection or
// a stall, and retrying answers that may change. The retry count starts over whenever bytes
// arrive, so a long download on a flaky line still completes. It returns the bytes written.
func (c *Client) transfer(ctx context.Context, rq request, md *metadata, f *os.File, h hash.Hash, rep progress.Reporter) (int64, error) {
	origin, err := c.endpointURL()
	if err != nil {
		return 0, err
	}
	st := &transferState{f: f, h: h, rep: rep, buf: make([]byte, 256<<10)}
	retries := 0
	for {
		if st.written > 0 && st.written == md.size {
			return st.written, nil // the connection dropped after the last byte
		}
		before := st.written
		err := c.transferOnce(ctx, rq, md, origin, st)
		if err == nil {
			return st.written, nil
		}
		if ctx.Err() != nil {
			return st.written, ctx.Err()
		}
		if !isTransient(err) {
			return st.written, err
		}
		if st.written > before {
			retries = 0
		}
		wait, ok := c.wait(retries, err)
		if !ok {
			var e *Error
			errors.As(err, &e)
			return st.written, &Error{Kind: ErrTransfer, URL: e.URL, Status: e.Status, Err: err,
				msg: fmt.Sprintf("the download of %q failed after %d retries (%s); nothing was stored in the "+
					"cache, run again to retry", rq.path, retries, e.msg)}
		}
		if err := sleep(ctx, wait); err != nil {
			return st.written, err
		}
		retries++
	}
}

type transferState struct {
	f       *os.File
	h       hash.Hash
	rep     progress.Reporter
	buf     []byte
	written int64
}

// restart empties the file: the server sent the whole file where the rest was asked for.
func (st *transferState) restart() error {
	if err := st.f.Truncate(0); err != nil {
		return err
	}
	if _, err := st.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	st.h.Reset()
	st.written = 0
	st.rep.Set(0)
	return nil
}

func (c *Client) transferOnce(ctx context.Context, rq request, md *metadata, origin *url.URL, st *transferState) error {
	idleLimit := orDefault(c.IdleTimeout, 10*time.Second)
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A watchdog rather than a deadline: a 2.5 GB file may take an hour, but a transfer that
	// receives nothing for idleLimit is stuck and is better resumed on a new connection.
	idle := time.AfterFunc(idleLimit, cancel)
	defer idle.Stop()
	stalled := func(err error) error {
		if actx.Err() != nil {
			return fmt.Errorf("received nothing for %v", idleLimit)
		}
		return err
	}

	resp, at, err := c.get(actx, md.download, origin, st.written)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return transient(&Error{Kind: ErrTransfer, URL: md.download.String(), Err: err,
			msg: fmt.Sprintf("no answer from %s: %v", md.download, stalled(netCause(err)))}, 0)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusOK:
		if st.written > 0 {
			if err := st.restart(); err != nil {
				return c.cacheWriteError(err)
			}
		}
	case resp.StatusCode == http.StatusPartialContent:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != st.written {
			// Not the part asked for: start over from the first byte rather than guess.
			if err := st.restart(); err != nil {
				return c.cacheWriteError(err)
			}
			return transient(&Error{Kind: ErrTransfer, URL: at.String(), Status: resp.StatusCode,
				msg: fmt.Sprintf("%s answered Content-Range %q to a request from byte %d", at,
					resp.Header.Get("Content-Range"), st.written)}, 0)
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		return &Error{Kind: ErrBadResponse, URL: at.String(), Status: resp.StatusCode,
			msg: fmt.Sprintf("%s refused to resume the download of %q at byte %d of %d (416 Range Not "+
				"Satisfiable, Content-Range %q); nothing was stored in the cache, run again to download "+
				"from the start", at, rq.path, st.written, md.size, resp.Header.Get("Content-Range"))}
	case isRetryableStatus(resp.StatusCode):
		after, _ := retryAfter(resp.Header)
		return transient(c.statusError(rq, resp, at.String()), after)
	default:
		return c.statusError(rq, resp, at.String())
	}

	for {
		n, rerr := resp.Body.Read(st.buf)
		if n > 0 {
			idle.Reset(idleLimit)
			if st.written+int64(n) > md.size {
				return &Error{Kind: ErrCorrupt, URL: at.String(),
					msg: fmt.Sprintf("%s sent more than the %d bytes the hub announced for %q; nothing was "+
						"stored in the cache, run again to retry", at, md.size, rq.path)}
			}
			if _, err := st.f.Write(st.buf[:n]); err != nil {
				return c.cacheWriteError(err)
			}
			st.h.Write(st.buf[:n])
			st.written += int64(n)
			st.rep.Add(int64(n))
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return transient(&Error{Kind: ErrTransfer, URL: at.String(), Err: rerr,
				msg: fmt.Sprintf("the connection to %s broke after %d of %d bytes: %v", at.Host, st.written,
					md.size, stalled(rerr))}, 0)
		}
	}
}

// get sends a GET and follows redirects by hand (a CDN may redirect again), so that the token
// is added only on hops to the Hub itself.
func (c *Client) get(ctx context.Context, u, origin *url.URL, rangeFrom int64) (*http.Response, *url.URL, error) {
	cur := u
	for hop := 0; hop <= maxRedirects; hop++ {
		resp, err := c.send(ctx, http.MethodGet, cur, origin, rangeFrom)
		if err != nil {
			return nil, cur, err
		}
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			return resp, cur, nil
		}
		resp.Body.Close()
		next, err := cur.Parse(loc)
		if err != nil {
			return nil, cur, fmt.Errorf("redirect to an invalid address %q", loc)
		}
		cur = next
	}
	return nil, cur, fmt.Errorf("more than %d redirects", maxRedirects)
}

// contentRangeStart reads the first byte position of "bytes START-END/TOTAL".
func contentRangeStart(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(start), 10, 64)
	return n, err == nil
}
