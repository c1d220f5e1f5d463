// Package cli is vitc's command line, shared by the vitc command and the per-architecture
// programs: each command is a function over its arguments and output streams, so tests
// drive it as a user would.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

// env is what a command writes to.
type env struct {
	stdout, stderr io.Writer
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
}

// usageError is a mistake in the command line: reported with a hint and exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main runs the command line and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return Main([]string{args[1], "--help"}, stdout, stderr)
		}
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(e, args[1:])
			var ue usageError
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, &ue):
				fmt.Fprintf(stderr, "vitc %s: %v\nRun 'vitc %s --help' for usage.\n", c.name, err, c.name)
				return 2
			default:
				fmt.Fprintf(stderr, "vitc %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "vitc: unknown command %q\n", args[0])
	printUsage(stderr)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "vitc compiles and runs the humanlike-vits vision transformers (Orhan 2023).")
	fmt.Fprintln(w, "\nUsage: vitc <command> [flags]\n\nCommands:")
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	sort.Strings(names)
	for _, n := range names {
		for _, c := range commands {
			if c.name == n {
				fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
			}
		}
	}
	fmt.Fprintln(w, "\nRun 'vitc <command> --help' for a command's flags.")
}

// flags makes a command's flag set; usage text comes first, then the flags.
func (e *env) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("vitc "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: vitc %s %s\n\nFlags:\n", name, strings.TrimSpace(usage))
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
