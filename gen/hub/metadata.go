package hub

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// metadata is what the Hub says about a file: which commit the revision is at, which blob
// (etag) the file is, how big it is and where its bytes are.
type metadata struct {
	commit   string
	etag     string
	size     int64
	download *url.URL // the CDN URL from the redirect, or the resolve URL itself
}

// httpClient is c.HTTP with redirects left to us: the HEAD must stop at the redirect to the
// CDN (the metadata is on the 3xx answer), and on every hop we decide whether the token may go.
func (c *Client) httpClient() *http.Client {
	base := c.HTTP
	if base == nil {
		base = http.DefaultClient
	}
	cp := *base
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// send makes one request and follows no redirect. The token goes only to the scheme, host and
// port of origin (the Hub): a CDN URL is pre-signed and must not learn the user's token.
func (c *Client) send(ctx context.Context, method string, u, origin *url.URL, rangeFrom int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	target := *u
	req.URL = &target // keeps RawPath: our quoting, not net/http's, goes on the wire
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent()
	}
	req.Header.Set("User-Agent", ua)
	// The size must be the file's, and a transparently decompressed body could not be resumed
	// by byte offset; huggingface_hub asks for identity for the same reasons.
	req.Header.Set("Accept-Encoding", "identity")
	if c.Token != "" && sameOrigin(u, origin) {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if rangeFrom > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(rangeFrom, 10)+"-")
	}
	return c.httpClient().Do(req)
}

// sameOrigin compares scheme, host and port, with the default ports filled in.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

const maxRedirects = 10

// metadata asks the Hub about a file with HEAD. With retry, answers that may change (5xx, 429,
// no answer) are retried after the backoff waits, or after Retry-After when the Hub gives one.
func (c *Client) metadata(ctx context.Context, rq request, u *url.URL, retry bool) (*metadata, error) {
	for attempt := 0; ; attempt++ {
		md, err := c.headOnce(ctx, rq, u)
		if err == nil || !retry || !isTransient(err) || ctx.Err() != nil {
			return md, err
		}
		wait, ok := c.wait(attempt, err)
		if !ok {
			return nil, err
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// headOnce follows the redirects that stay on the Hub (a renamed repository answers with a
// relative redirect) and stops at the first that leaves it: that is the CDN, whose URL is
// where the bytes are and whose 3xx answer carries the file's metadata.
func (c *Client) headOnce(ctx context.Context, rq request, u *url.URL) (*metadata, error) {
	cur := u
	for hop := 0; hop <= maxRedirects; hop++ {
		hctx, cancel := context.WithTimeout(ctx, orDefault(c.MetadataTimeout, 10*time.Second))
		resp, err := c.send(hctx, http.MethodHead, cur, u, 0)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, transient(&Error{Kind: ErrTransfer, URL: cur.String(), Err: err,
				msg: fmt.Sprintf("no answer from the hub for %s: %v", cur, netCause(err))}, 0)
		}
		resp.Body.Close()
		cancel()
		loc := resp.Header.Get("Location")
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode <= 399 && loc != "":
			next, err := cur.Parse(loc)
			if err != nil {
				return nil, &Error{Kind: ErrBadResponse, URL: cur.String(), Status: resp.StatusCode,
					msg: fmt.Sprintf("the hub redirected %s to an invalid address %q", cur, loc)}
			}
			if sameOrigin(next, cur) {
				cur = next
				continue
			}
			return c.parseMetadata(resp, cur, next, true)
		case resp.StatusCode >= 200 && resp.StatusCode <= 299:
			return c.parseMetadata(resp, cur, cur, false)
		default:
			e := c.statusError(rq, resp, cur.String())
			if e.Kind == ErrEntryNotFound {
				e.commit = resp.Header.Get("X-Repo-Commit")
			}
			if isRetryableStatus(resp.StatusCode) {
				after, _ := retryAfter(resp.Header)
				return nil, transient(e, after)
			}
			return nil, e
		}
	}
	return nil, &Error{Kind: ErrBadResponse, URL: u.String(),
		msg: fmt.Sprintf("more than %d redirects from %s; check HF_ENDPOINT (now %s)", maxRedirects, u, c.Endpoint)}
}

// parseMetadata reads and checks X-Repo-Commit, X-Linked-Etag (else ETag) and X-Linked-Size
// (else Content-Length, which on a redirect is the redirect's own size and so not used).
// Commit and etag become directory and file names, so anything but lower-case hex is refused.
func (c *Client) parseMetadata(resp *http.Response, from, download *url.URL, redirect bool) (*metadata, error) {
	bad := func(format string, args ...any) error {
		return &Error{Kind: ErrBadResponse, URL: from.String(), Status: resp.StatusCode,
			msg: fmt.Sprintf("the answer from %s %s: the server at %s does not answer like the Hugging Face Hub "+
				"(a proxy or firewall may be answering instead); check HF_ENDPOINT and the proxy settings",
				from, fmt.Sprintf(format, args...), c.Endpoint)}
	}
	md := &metadata{download: download}
	md.commit = resp.Header.Get("X-Repo-Commit")
	if md.commit == "" {
		return nil, bad("has no X-Repo-Commit header")
	}
	if !commitRE.MatchString(md.commit) {
		return nil, bad("has X-Repo-Commit %q, not 40 lower-case hex digits", md.commit)
	}
	rawEtag := resp.Header.Get("X-Linked-Etag")
	if rawEtag == "" {
		rawEtag = resp.Header.Get("ETag")
	}
	md.etag = normalizeEtag(rawEtag)
	if md.etag == "" {
		return nil, bad("has no X-Linked-Etag or ETag header")
	}
	if !etagRE.MatchString(md.etag) {
		return nil, bad("has etag %q, not 40 or 64 lower-case hex digits", rawEtag)
	}
	size := resp.Header.Get("X-Linked-Size")
	if size == "" && !redirect {
		size = resp.Header.Get("Content-Length")
		if size == "" && resp.ContentLength >= 0 {
			size = strconv.FormatInt(resp.ContentLength, 10)
		}
	}
	if size == "" {
		return nil, bad("has no X-Linked-Size or Content-Length header")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(size), 10, 64)
	if err != nil || n < 0 {
		return nil, bad("has size %q, not a number of bytes", size)
	}
	md.size = n
	return md, nil
}

// normalizeEtag drops the weak marker and the quotes: W/"abc" and "abc" are both abc.
func normalizeEtag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

// wait is the pause before retry number attempt+1, or false when the retries are used up.
// A Retry-After from the server wins over the backoff table.
func (c *Client) wait(attempt int, err error) (time.Duration, bool) {
	backoff := c.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	if attempt >= len(backoff) {
		return 0, false
	}
	if t, ok := err.(*transientError); ok && t.after > 0 {
		return t.after, true
	}
	return backoff[attempt], true
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
