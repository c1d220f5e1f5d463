package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vitc-dev/vitc/gen/compile"
	"github.com/vitc-dev/vitc/gen/hub"
	"github.com/vitc-dev/vitc/gen/modelid"
)

func cmdFetch(e *env, args []string) error {
	fs := e.flags("fetch", "[--finetuned] ID...")
	finetuned := fs.Bool("finetuned", false, "fetch the checkpoints finetuned on ImageNet (default: the MAE-pretrained ones)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("give at least one model id (vitc models lists them)")
	}
	var ids []modelid.ID
	for _, a := range fs.Args() {
		id, err := modelid.Parse(a)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	c, err := hub.NewFromEnv()
	if err != nil {
		return err
	}
	c.Progress = e.progress()
	for _, id := range ids {
		p, err := c.Download(context.Background(), modelid.Repo, "main", id.HubPath(*finetuned))
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, p)
	}
	return nil
}

func cmdModels(e *env, args []string) error {
	fs := e.flags("models", "[--paths]")
	paths := fs.Bool("paths", false, "show where checkpoints and compiled weights are kept, and the variables that move them")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	c, err := hub.NewFromEnv()
	if err != nil {
		return err
	}
	cache, err := compile.CacheDir()
	if err != nil {
		return err
	}
	if *paths {
		fmt.Fprintf(e.stdout, "checkpoints (shared with Python's huggingface_hub): %s\n", c.RepoDir(modelid.Repo))
		fmt.Fprintf(e.stdout, "  set by HF_HUB_CACHE, HF_HOME or XDG_CACHE_HOME; endpoint %s (HF_ENDPOINT); offline: %v (HF_HUB_OFFLINE)\n", c.Endpoint, c.Offline)
		fmt.Fprintf(e.stdout, "compiled weights: %s\n", filepath.Join(cache, "weights"))
		fmt.Fprintf(e.stdout, "  set by VITC_CACHE or XDG_CACHE_HOME\n")
		return nil
	}
	fmt.Fprintf(e.stdout, "%-22s %-24s %-24s\n", "ID", "PRETRAINED", "FINETUNED")
	for _, id := range modelid.All() {
		fmt.Fprintf(e.stdout, "%-22s %-24s %-24s\n", id, cachedState(c, cache, id.HubPath(false)), cachedState(c, cache, id.HubPath(true)))
	}
	fmt.Fprintf(e.stdout, "\nvitc run --model ID [--finetuned] fetches and compiles on first use; vitc models --paths shows the caches.\n")
	return nil
}

// cachedState says whether a checkpoint is in the hub cache, its size, and whether compiled
// weights made from it are in vitc's cache.
func cachedState(c *hub.Client, cache, path string) string {
	p, ok := c.Cached(modelid.Repo, "main", path)
	if !ok {
		return "-"
	}
	st, err := os.Stat(p)
	if err != nil {
		return "-"
	}
	s := fmt.Sprintf("cached %s", humanBytes(st.Size()))
	if etag, ok := hub.BlobEtag(p); ok {
		if m, _ := filepath.Glob(filepath.Join(cache, "weights", etag+"-*")); len(m) > 0 {
			s += ", compiled"
		}
	}
	return s
}

func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") + " " + []string{"B", "kB", "MB", "GB", "TB"}[i]
}
