// Package cli is vitc's command line, shared by the vitc command and the per-architecture
// programs: each command is a function over its arguments and output streams, so tests
// drive it as a user would.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vitc-dev/vitc/runtime/bundle"
)

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

// env is what a command writes to, and the program it runs in.
type env struct {
	stdout, stderr io.Writer
	prog           program
}

// program is the running program: vitc, which links every compiled architecture, or the
// program of one architecture (cmd/<arch>), possibly with a model's weights appended by
// `vitc build` (a bundle), in which case it runs that model alone.
type program struct {
	name   string         // in messages: "vitc", "vitb14", or the bundle file's name
	arch   string         // the one architecture it runs; "" for vitc
	bundle *bundle.Bundle // the model inside this file, or nil
}

// offers reports whether the program has the command: build is vitc's alone, and a bundle
// has no use for the commands that fetch or compile other models.
func (p program) offers(name string) bool {
	switch name {
	case "build":
		return p.arch == ""
	case "compile", "fetch", "models", "inspect", "quality":
		return p.bundle == nil
	}
	return true
}

var commands = []command{
	{"classify", "top-5 ImageNet labels of photos (finetuned model)", cmdClassify},
	{"attention", "draw where the class token looks in the last block (PNG heat map)", cmdAttention},
	{"embed", "class-token embeddings of photos, for a folder or a list", cmdEmbed},
	{"preprocess", "write the model input tensors of photos, as test_model.py makes them", cmdPreprocess},
	{"compile", "compile a checkpoint into a weights file", cmdCompile},
	{"run", "run a model on a .npy batch, write embeddings or logits as .npy", cmdRun},
	{"inspect", "show what a checkpoint or weights file holds", cmdInspect},
	{"fetch", "download checkpoints by model id into the hub cache", cmdFetch},
	{"models", "list the model ids, what is cached, and where", cmdModels},
	{"eval", "ImageNet top-1/top-5 accuracy on a validation folder, as test_model.py (resumable, sharded)", cmdEval},
	{"bench", "time a model (latency, images/s, GFLOP/s) or the kernel variants", cmdBench},
	{"quality", "what bf16 and int8 weights cost against float32 on your images (agreement, error, speed, size)", cmdQuality},
	{"build", "write one static executable that runs a model with nothing else present", cmdBuild},
}

// usageError is a mistake in the command line: reported with a hint and exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main runs vitc's command line and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	return program{name: "vitc"}.main(args, stdout, stderr)
}

// MainArch runs the command line of the program that links the architecture arch alone
// (cmd/<arch>): vitc's commands for arch's models. When the running executable has a model's
// weights appended (vitc build), it runs that model and no other.
func MainArch(arch string, args []string, stdout, stderr io.Writer) int {
	p := program{name: programName(arch), arch: arch}
	b, err := bundle.Self()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", p.name, err)
		return 1
	}
	if b != nil {
		p.bundle = b
		p.name = filepath.Base(os.Args[0])
	}
	return p.main(args, stdout, stderr)
}

// programName is the name of an architecture's program, its package's: vith14@448 → vith14_448.
func programName(arch string) string { return strings.ReplaceAll(arch, "@", "_") }

func (p program) main(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, prog: p}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return p.main([]string{args[1], "--help"}, stdout, stderr)
		}
		p.usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] && p.offers(c.name) {
			err := c.run(e, args[1:])
			var ue usageError
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, &ue):
				fmt.Fprintf(stderr, "%s %s: %v\nRun '%s %s --help' for usage.\n", p.name, c.name, err, p.name, c.name)
				return 2
			default:
				fmt.Fprintf(stderr, "%s %s: %v\n", p.name, c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n", p.name, args[0])
	p.usage(stderr)
	return 2
}

func (p program) usage(w io.Writer) {
	switch {
	case p.bundle != nil:
		b := p.bundle
		fmt.Fprintf(w, "%s runs the %s model %s, built into this file by vitc build for %s (%.1f MB of weights).\n", p.name, b.Arch, b.Describe(), b.Target, float64(b.Size)/1e6)
	case p.arch != "":
		fmt.Fprintf(w, "%s runs the %s models of humanlike-vits (Orhan 2023): vitc for this architecture alone.\n", p.name, p.arch)
	default:
		fmt.Fprintln(w, "vitc compiles and runs the humanlike-vits vision transformers (Orhan 2023).")
	}
	fmt.Fprintf(w, "\nUsage: %s <command> [flags]\n\nCommands:\n", p.name)
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		if p.offers(c.name) {
			names = append(names, c.name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		for _, c := range commands {
			if c.name == n {
				fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
			}
		}
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", p.name)
}

// flags makes a command's flag set; usage text comes first, then the flags.
func (e *env) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(e.prog.name+" "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s %s %s\n\nFlags:\n", e.prog.name, name, strings.TrimSpace(usage))
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, routing --help to stdout.
func (e *env) parse(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return flag.ErrHelp
		}
		if a == "--" {
			break
		}
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	return nil
}
