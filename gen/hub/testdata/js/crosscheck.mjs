// Cross-check of vitc's hub cache against @huggingface/hub, the JavaScript client of the
// Hugging Face Hub (the version pinned in package.json; install it with
// `npm ci --prefix gen/hub/testdata/js`).
//
// Run by gen/hub's TestCrossCheckWithJS, never by hand against the real Hub: the Go test passes
// the URL of a local stand-in server as HUB_URL and gives each run its own cache folder.
//
//   node crosscheck.mjs read     CACHE REPO PATH HUB_URL  # the file at the commit refs/main names
//   node crosscheck.mjs download CACHE REPO PATH HUB_URL  # downloadFileToCacheDir at "main"
//   node crosscheck.mjs snapshot CACHE REPO HUB_URL       # snapshotDownload at "main"
//
// @huggingface/hub has no offline mode and does not read refs/ itself: downloadFileToCacheDir
// asks the Hub (paths-info) for any revision but a 40-hex commit whose snapshot entry exists.
// "read" therefore does what a JS user of a shared cache does: it finds the commit of refs/main
// with scanCacheDir and asks downloadFileToCacheDir for that commit, which answers from the
// cache without a request.
//
// Prints one JSON object: the path returned, the SHA-256 of the bytes it leads to, and what
// scanCacheDir thinks of the cache (its warnings list a missing refs/ or snapshots/ folder, a
// ref naming a missing snapshot, ...).

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

// downloadFileToCacheDir logs "Downloading ..." with console.debug, which writes to stdout:
// keep stdout for the JSON answer.
for (const k of ["log", "debug", "info"]) {
	console[k] = (...args) => console.error(...args);
}

const { downloadFileToCacheDir, scanCacheDir, snapshotDownload } = await import("@huggingface/hub");

async function scan(cache) {
	const info = await scanCacheDir(cache);
	return {
		warnings: info.warnings.map((w) => String(w?.message ?? w)),
		repos: info.repos.map((r) => ({
			id: r.id.name,
			type: r.id.type,
			path: r.path,
			revisions: r.revisions
				.map((rev) => ({ commit: rev.commitOid, refs: [...rev.refs].sort(), files: rev.files.map((f) => f.path).sort() }))
				.sort((a, b) => (a.commit < b.commit ? -1 : 1)),
		})),
	};
}

async function sha256(path) {
	return createHash("sha256").update(await readFile(path)).digest("hex");
}

async function main() {
	const [mode, cache, repo, ...rest] = process.argv.slice(2);
	const out = {};
	switch (mode) {
		case "read": {
			const [path, hubUrl] = rest;
			const before = await scan(cache);
			const cached = before.repos.find((r) => r.id === repo && r.type === "model");
			const rev = cached?.revisions.find((r) => r.refs.includes("main"));
			if (!rev) {
				throw new Error(`scanCacheDir finds no revision of ${repo} with the ref main in ${cache}: ${JSON.stringify(before)}`);
			}
			out.commit = rev.commit;
			out.path = await downloadFileToCacheDir({ repo, path, revision: rev.commit, cacheDir: cache, hubUrl });
			break;
		}
		case "download": {
			const [path, hubUrl] = rest;
			out.path = await downloadFileToCacheDir({ repo, path, revision: "main", cacheDir: cache, hubUrl });
			break;
		}
		case "snapshot": {
			const [hubUrl] = rest;
			out.path = await snapshotDownload({ repo, revision: "main", cacheDir: cache, hubUrl });
			break;
		}
		default:
			throw new Error(`unknown mode ${JSON.stringify(mode)}`);
	}
	if (mode !== "snapshot") {
		out.sha256 = await sha256(out.path);
	}
	out.scan = await scan(cache);
	process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
	console.error(err?.stack ?? String(err));
	process.exit(1);
});
