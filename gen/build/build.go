// Package build makes one-file deployments: it links the program of one architecture
// (cmd/<arch>, see gen/codegen.ProgramFile) for a target with the Go toolchain, as a static
// executable, and appends a compiled weights file to it (runtime/bundle).
package build

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/vitc-dev/vitc/runtime/atomicfile"
	"github.com/vitc-dev/vitc/runtime/bundle"
	"github.com/vitc-dev/vitc/runtime/wfile"
)

// Module is vitc's module path: the source tree Build links programs from.
const Module = "github.com/vitc-dev/vitc"

// Options say how to build.
type Options struct {
	Target string    // GOOS/GOARCH, e.g. "linux/arm64"; "" for this machine's
	Src    string    // vitc's source tree; "" to find it (FindSource)
	Go     string    // the go command; "" for the one on PATH
	Log    io.Writer // receives go build's output when it fails (and progress lines); may be nil
}

// Target is the GOOS/GOARCH pair of opt, this machine's by default.
func (o Options) target() (goos, goarch string, err error) {
	if o.Target == "" {
		return runtime.GOOS, runtime.GOARCH, nil
	}
	goos, goarch, ok := strings.Cut(o.Target, "/")
	if !ok || goos == "" || goarch == "" || strings.Contains(goarch, "/") {
		return "", "", fmt.Errorf("target %q: give it as GOOS/GOARCH, e.g. linux/arm64", o.Target)
	}
	return goos, goarch, nil
}

// FindSource finds vitc's source tree, which Program needs: $VITC_SRC when set, else the module
// above the current directory when it is vitc's, else the copy of the running vitc's version in
// the Go module cache (present after `go install github.com/vitc-dev/vitc/cmd/vitc@VERSION`).
func FindSource(goCmd string) (string, error) {
	if dir := os.Getenv("VITC_SRC"); dir != "" {
		if !isSource(dir) {
			return "", fmt.Errorf("VITC_SRC=%s is not vitc's source tree (no go.mod of %s there)", dir, Module)
		}
		return dir, nil
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				if isSource(dir) {
					return dir, nil
				}
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == Module && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		if out, err := exec.Command(goCmd, "env", "GOMODCACHE").Output(); err == nil {
			dir := filepath.Join(strings.TrimSpace(string(out)), Module+"@"+bi.Main.Version)
			if isSource(dir) {
				return dir, nil
			}
		}
	}
	return "", errors.New("vitc build links the program from vitc's source: run it inside a clone of " + Module + ", or give --src DIR (or VITC_SRC)")
}

func isSource(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == Module
		}
	}
	return false
}

// Program links the program pkg (an import path inside vitc's module, e.g.
// github.com/vitc-dev/vitc/cmd/vitb14) for the target as a static executable (CGO_ENABLED=0,
// -trimpath, symbol tables stripped) and writes it to out.
func Program(ctx context.Context, pkg, out string, opt Options) error {
	goos, goarch, err := opt.target()
	if err != nil {
		return err
	}
	goCmd := opt.Go
	if goCmd == "" {
		if goCmd, err = exec.LookPath("go"); err != nil {
			return fmt.Errorf("vitc build needs the Go toolchain (go 1.26 or later on PATH) to link the program for %s/%s", goos, goarch)
		}
	}
	src := opt.Src
	if src == "" {
		if src, err = FindSource(goCmd); err != nil {
			return err
		}
	} else if !isSource(src) {
		return fmt.Errorf("--src %s is not vitc's source tree (no go.mod of %s there)", src, Module)
	}
	if opt.Log != nil {
		fmt.Fprintf(opt.Log, "linking %s for %s/%s (go build in %s)\n", pkg, goos, goarch, src)
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s/%s failed: %v\n%s", pkg, goos, goarch, err, strings.TrimSpace(log.String()))
	}
	return nil
}

// Bundle writes out atomically (mode 0755): the program at programPath with the weights file
// at weightsPath appended (see runtime/bundle). m names the model (Model, Finetuned, Target);
// the rest of the manifest comes from the files. progress, if not nil, is told of each weight
// byte copied.
func Bundle(out, programPath, weightsPath string, m bundle.Manifest, progress func(n int64)) (*bundle.Manifest, error) {
	wf, err := wfile.OpenSectionLoad(weightsPath, 0, -1, wfile.Map) // the header alone
	if err != nil {
		return nil, err
	}
	m.Arch = wf.Header.Meta[wfile.KeyArch]
	m.DataSHA256 = wf.Header.Meta[wfile.KeyDataSHA256]
	m.DType = cmp.Or(wf.Header.Meta[wfile.KeyDType], "f32")
	wf.Close()
	prog, err := os.Open(programPath)
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	w, err := os.Open(weightsPath)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	st, err := w.Stat()
	if err != nil {
		return nil, err
	}
	var written *bundle.Manifest
	err = atomicfile.WriteMode(out, 0o755, func(dst io.Writer) error {
		var err error
		written, err = bundle.Write(dst, prog, w, st.Size(), m, progress)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", out, err)
	}
	return written, nil
}
