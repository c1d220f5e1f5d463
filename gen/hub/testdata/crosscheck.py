"""Cross-check of vitc's hub cache against Python's huggingface_hub.

Run by gen/hub's TestCrossCheckWithPython, never by hand against the real Hub: the Go test sets
HF_ENDPOINT to a local stand-in server and gives each run its own cache folder.

    crosscheck.py read     CACHE REPO SUBFOLDER FILENAME   # local_files_only=True
    crosscheck.py download CACHE REPO SUBFOLDER FILENAME   # from $HF_ENDPOINT

Prints one JSON object: the path hf_hub_download returned and what scan_cache_dir thinks of
the cache (its warnings list any corrupt ref, missing blob or stray file).
"""

import json
import sys

from huggingface_hub import hf_hub_download, scan_cache_dir


def main() -> None:
    mode, cache, repo, subfolder, filename = sys.argv[1:6]
    path = hf_hub_download(
        repo_id=repo,
        subfolder=subfolder or None,
        filename=filename,
        cache_dir=cache,
        local_files_only=(mode == "read"),
    )
    info = scan_cache_dir(cache)
    print(
        json.dumps(
            {
                "path": path,
                "warnings": [str(w) for w in info.warnings],
                "repos": [r.repo_id for r in info.repos],
                "files": sorted(
                    str(f.file_path) for r in info.repos for rev in r.revisions for f in rev.files
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
