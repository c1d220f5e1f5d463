// Package hub downloads files from the Hugging Face Hub into the cache that Python's
// huggingface_hub uses, so that a checkpoint fetched by vitc is found by
// hf_hub_download(..., local_files_only=True) and the other way round, and nothing is fetched
// twice.
//
// It follows huggingface_hub's hf_hub_download (v1.28) step by step, because the cache is a
// shared file format and the Hub a shared protocol; the rules are in shared/specs/hub.md:
//
//   - where the cache is (HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, ~/.cache/huggingface/hub) and its
//     layout: refs/<revision> (a commit, no newline), blobs/<etag>, snapshots/<commit>/<path> as
//     a relative symlink into blobs/ (or a plain file where symlinks are not available);
//   - the request: HEAD {endpoint}/{repo}/resolve/{revision}/{path}, quoted as Python's
//     urllib.parse.quote, redirects followed only within the Hub, metadata taken from the
//     X-Repo-Commit, X-Linked-Etag and X-Linked-Size headers, the token never sent to the CDN;
//   - writing: a lock per blob shared with Python (flock on .locks/.../<etag>.lock), a private
//     temporary file, resume after a dropped connection, retries with backoff, and a size and
//     SHA-256 check before the blob gets its final name, so that nothing corrupt ever appears
//     under blobs/;
//   - offline mode and failures: with HF_HUB_OFFLINE, or when the Hub cannot be reached or
//     refuses access, a copy already in the cache is used.
//
// Where Go differs from Python it is stricter: the commit and etag are validated before they
// become file names, a blob already present is reused only if its size is right, and an
// offline lookup may use another snapshot that holds the file when refs/<revision> has none.
package hub
