package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vitc-dev/vitc/gen/build"
	"github.com/vitc-dev/vitc/gen/modelid"
	"github.com/vitc-dev/vitc/runtime/bundle"
	"github.com/vitc-dev/vitc/runtime/engine"
	"github.com/vitc-dev/vitc/runtime/progress"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// checkPrecision measures mf's precision against float32 on the images and fails when it
// agrees less than minTop1 percent.
func checkPrecision(e *env, mf modelFlags, images string, minTop1 float64) error {
	paths, err := listImages(strings.Split(images, ","))
	if err != nil {
		return err
	}
	d := mf.opt.DType
	rows, err := measureQuality(e, mf, []string{d}, paths, 8)
	if err != nil {
		return err
	}
	printQuality(e, rows)
	r := rows[1]
	what, got := "top-1 agreement with float32", 100*r.Top1
	if rows[0].Top1 == 0 { // an encoder
		what, got = "smallest cosine similarity of the embeddings with float32's", 100*r.MinCosine
	}
	if got < minTop1 {
		return fmt.Errorf("%s %s: %s is %.2f%% on the %d images, below --min-top1 %g%%: ship float32, or lower --min-top1, or --force", mf.model, d, what, got, r.Images, minTop1)
	}
	fmt.Fprintf(e.stdout, "%s: %s %.2f%% ≥ %g%% on %d images: building\n", d, what, got, minTop1, r.Images)
	return nil
}

func cmdBuild(e *env, args []string) error {
	fs := e.flags("build", "--model MODEL [--finetuned] [--target GOOS/GOARCH] [--dtype bf16|int8 --check IMAGES] -o FILE")
	var mf modelFlags
	mf.register(e, fs)
	target := fs.String("target", runtime.GOOS+"/"+runtime.GOARCH, "the platform the file runs on: linux/amd64, linux/arm64, darwin/arm64, ...")
	out := fs.String("o", "", "the executable to write")
	src := fs.String("src", "", "vitc's source tree, to link the program from (default: $VITC_SRC, the module above the current directory, or the Go module cache's copy of this vitc)")
	check := fs.String("check", "", "with --dtype bf16 or int8: images (files or directories) to measure the precision on against float32 first")
	minTop1 := fs.Float64("min-top1", 99, "with --check: the least top-1 agreement with float32, in percent, that lets the file be built (for an encoder: the least cosine similarity of the embeddings, in percent)")
	force := fs.Bool("force", false, "build a bf16 or int8 file without checking it (or despite the check)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o FILE is required")
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if st, err := os.Stat(filepath.Dir(*out)); err != nil || !st.IsDir() {
		return fmt.Errorf("-o %s: the directory %s does not exist", *out, filepath.Dir(*out))
	}
	if d := mf.opt.DType; d != "" && d != engine.F32 && !*force {
		if *check == "" {
			return usagef("--dtype %s changes the model's outputs: give --check IMAGES to measure the cost on your images first (see vitc quality), or --force", d)
		}
		if err := checkPrecision(e, mf, *check, *minTop1); err != nil {
			return err
		}
	}
	weights, err := mf.weightsFile(e)
	if err != nil {
		return err
	}
	wf, err := wfile.OpenSectionLoad(weights, 0, -1, wfile.Map) // the header alone
	if err != nil {
		return err
	}
	archName := wf.Header.Meta[wfile.KeyArch]
	dtype := cmp.Or(wf.Header.Meta[wfile.KeyDType], engine.F32)
	wf.Close()
	// The file's precision is what --dtype (and so --check) said: f32 when it said nothing.
	if want := cmp.Or(mf.opt.DType, engine.F32); dtype != want {
		return fmt.Errorf("%s is compiled in %s, not %s: build from the checkpoint, or compile it again with --dtype %s", weights, dtype, want, want)
	}
	a, ok := engine.Lookup(archName)
	if !ok || a.Program == "" {
		return fmt.Errorf("%s: architecture %s has no program in this vitc; add it to compiled/generate.go, run go generate ./... and rebuild vitc", mf.model, archName)
	}

	tmp, err := os.MkdirTemp("", "vitc-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	prog := filepath.Join(tmp, "program")
	if err := build.Program(context.Background(), a.Program, prog, build.Options{Target: *target, Src: *src, Log: e.stderr}); err != nil {
		return err
	}
	m := bundle.Manifest{Model: mf.model, Target: *target}
	if modelid.LooksLikeID(mf.model) {
		m.Finetuned = mf.opt.Finetuned
	} else {
		m.Model = filepath.Base(mf.model)
	}
	st, err := os.Stat(weights)
	if err != nil {
		return err
	}
	r := e.progress()("appending the weights", st.Size(), progress.Bytes)
	written, err := build.Bundle(*out, prog, weights, m, r.Add)
	r.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s: the %s program for %s (%.1f MB) with the weights of %s (%.1f MB)\n",
		*out, archName, written.Target, float64(written.Offset)/1e6, written.Describe(), float64(written.Size)/1e6)
	fmt.Fprintf(e.stdout, "run it with nothing else present: %s classify PHOTO...\n", *out)
	return nil
}
