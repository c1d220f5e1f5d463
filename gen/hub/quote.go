package hub

import (
	"net/url"
	"strings"
)

// quote escapes s the way Python's urllib.parse.quote(s, safe=safe) does, because the Hub's
// URLs (and its CDN signatures) are made by Python: only ASCII letters, digits, "_.-~" and the
// bytes in safe stay; every other byte of the UTF-8 text becomes %XX with upper-case hex.
// Go's url.PathEscape differs (it keeps "@", ":", "+", "=", ...), so it cannot be used: the hub
// path "vith14@476/..." must be sent as "vith14%40476/...".
func quote(s, safe string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (isUnreservedByte(c) || strings.IndexByte(safe, c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isUnreservedByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '~'
}

// resolveURL is the URL of a file: {endpoint}/{repo}/resolve/{revision}/{path}, with the
// revision quoted with nothing safe (so "refs/pr/1" stays one segment) and the path with "/"
// safe. Path holds the decoded form and RawPath the exact bytes to send, so that net/http
// writes our quoting rather than its own.
func resolveURL(endpoint *url.URL, repo, revision, path string) *url.URL {
	u := *endpoint
	base := strings.TrimSuffix(endpoint.EscapedPath(), "/")
	basePath := strings.TrimSuffix(endpoint.Path, "/")
	u.Path = basePath + "/" + repo + "/resolve/" + revision + "/" + path
	u.RawPath = base + "/" + quote(repo, "/") + "/resolve/" + quote(revision, "") + "/" + quote(path, "/")
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	return &u
}
