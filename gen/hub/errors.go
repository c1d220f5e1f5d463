package hub

import (
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"strings"
)

// The kinds of failure, for errors.Is. Every error that Download returns for a reason other
// than a bad argument or the context is an *Error whose Kind is one of these.
var (
	ErrEntryNotFound    = errors.New("no such file on the hub")                // 404 EntryNotFound
	ErrRepoNotFound     = errors.New("repository not found or not accessible") // 404 RepoNotFound
	ErrRevisionNotFound = errors.New("no such revision")                       // 404 RevisionNotFound
	ErrGatedRepo        = errors.New("gated repository")                       // GatedRepo
	ErrUnauthorized     = errors.New("authentication required or refused")     // 401
	ErrForbidden        = errors.New("access forbidden")                       // 403
	ErrNotCached        = errors.New("hub unreachable and file not cached")    // network down, 5xx, 429
	ErrOffline          = errors.New("offline and file not cached")            // HF_HUB_OFFLINE
	ErrBadResponse      = errors.New("unexpected answer from the hub")         // missing metadata, 416, other status
	ErrCorrupt          = errors.New("downloaded file is corrupt")             // size or SHA-256 mismatch
	ErrTransfer         = errors.New("download failed")                        // retries exhausted mid-transfer
	ErrCacheWrite       = errors.New("cannot write to the cache")              // permissions, disk full
)

// Error is a failure to get a file, told so that a user knows what happened and what to do.
type Error struct {
	Kind   error  // one of the Err values above
	URL    string // the request that failed, when there was one
	Status int    // its HTTP status, 0 when there was no answer
	Err    error  // the cause underneath (a network error, ...), may be nil
	msg    string
	commit string // X-Repo-Commit of a 404 EntryNotFound, for .no_exist
}

func (e *Error) Error() string   { return e.msg }
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// isAccessError: answers after which a cached copy is still used: the Hub may be asking
// for a token that this machine does not have, while the file was fetched earlier.
func isAccessError(err error) bool {
	return errors.Is(err, ErrRepoNotFound) || errors.Is(err, ErrGatedRepo) ||
		errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden)
}

// request describes one file being fetched, for the messages.
type request struct {
	repo, revision, path string
}

// statusError turns an HTTP error answer into an *Error, reading X-Error-Code and
// X-Error-Message as huggingface_hub's hf_raise_for_status does.
func (c *Client) statusError(rq request, resp *http.Response, url string) *Error {
	code := resp.Header.Get("X-Error-Code")
	serverMsg := resp.Header.Get("X-Error-Message")
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if code != "" {
		status = fmt.Sprintf("%d %s", resp.StatusCode, code)
	}
	if serverMsg != "" {
		status += ": " + strings.TrimSuffix(serverMsg, ".")
	}
	e := &Error{URL: url, Status: resp.StatusCode}
	tokenHint := c.tokenHint()
	switch {
	case code == "EntryNotFound":
		e.Kind = ErrEntryNotFound
		e.msg = fmt.Sprintf("%s has no file %q at revision %s (the hub answered %s for %s): "+
			"this model id or file name does not exist on the hub; check its spelling and whether the "+
			"pretrained or the finetuned checkpoint was meant", rq.repo, rq.path, rq.revision, status, url)
	case code == "RevisionNotFound":
		e.Kind = ErrRevisionNotFound
		e.msg = fmt.Sprintf("%s has no revision %q (the hub answered %s for %s): use main, a tag, or a full "+
			"40-character commit hash of the repository", rq.repo, rq.revision, status, url)
	case code == "GatedRepo":
		e.Kind = ErrGatedRepo
		e.msg = fmt.Sprintf("%s is a gated repository and this request was not granted access (the hub answered %s "+
			"for %s): accept its conditions on %s/%s while logged in, then %s", rq.repo, status, url, c.Endpoint, rq.repo, tokenHint)
	case code == "RepoNotFound":
		e.Kind = ErrRepoNotFound
		e.msg = fmt.Sprintf("repository %s was not found or is not accessible (the hub answered %s for %s): "+
			"check the repository name and HF_ENDPOINT (now %s); if the repository is private, %s",
			rq.repo, status, url, c.Endpoint, tokenHint)
	case resp.StatusCode == 401:
		// The Hub answers 401 for a missing repository as well as for a private or gated one
		// when the token does not open it, so the message names every cause that fits.
		e.Kind = ErrUnauthorized
		switch {
		case c.Token != "" && serverMsg == "Invalid credentials in Authorization header":
			e.msg = fmt.Sprintf("the hub rejected the token from %s (it answered %s for %s): the token is invalid "+
				"or expired; create a new one at %s/settings/tokens and put it in HF_TOKEN, or unset it to "+
				"download public files anonymously", c.TokenSource, status, url, c.Endpoint)
		case c.Token != "":
			e.msg = fmt.Sprintf("the hub did not accept the token from %s for %s (it answered %s for %s): the "+
				"token is invalid, expired or lacks read access, or the repository does not exist; check the "+
				"repository name and use a token with read access in HF_TOKEN", c.TokenSource, rq.repo, status, url)
		default:
			e.msg = fmt.Sprintf("the hub requires authentication for %s (it answered %s for %s): the repository "+
				"is private or gated, or does not exist; %s", rq.repo, status, url, tokenHint)
		}
	case resp.StatusCode == 403:
		e.Kind = ErrForbidden
		if c.Token != "" {
			e.msg = fmt.Sprintf("the hub refused access (it answered %s for %s): the token from %s lacks read "+
				"access to %s; use a token with read permission in HF_TOKEN", status, url, c.TokenSource, rq.repo)
		} else {
			e.msg = fmt.Sprintf("the hub refused access (it answered %s for %s): %s", status, url, tokenHint)
		}
	default:
		e.Kind = ErrBadResponse
		e.msg = fmt.Sprintf("the hub answered %s for %s while fetching %q", status, url, rq.path)
	}
	return e
}

func (c *Client) tokenHint() string {
	if c.Token != "" {
		return fmt.Sprintf("make sure the token from %s (which was sent) has read access", c.TokenSource)
	}
	return fmt.Sprintf("set HF_TOKEN to a read token from %s/settings/tokens (none was sent)", c.Endpoint)
}

// isRetryableStatus: answers that say "not now" rather than "no" (huggingface_hub retries the
// same set).
func isRetryableStatus(code int) bool {
	return code == 408 || code == 429 || code >= 500 && code <= 599
}

// netCause drops net/http's "Head \"URL\": " wrapping, since the messages name the URL already.
func netCause(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
