//go:build !purego

package asm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// noavx512Probe prints what CPUID leaf 7 says of AVX-512F and AVX2; with an argument it then
// faults: "segv" with no handler of its own; "handled" with one it installed with sigaction
// before asking CPUID, as Node.js does at start (the library must keep answering CPUID, and
// pass the program every SIGSEGV that is not one).
const noavx512Probe = `
#include <cpuid.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static void on_segv(int sig) { (void)sig; write(1, "handled\n", 8); _exit(42); }
int main(int argc, char **argv) {
	unsigned a, b, c, d;
	if (argc > 1 && strcmp(argv[1], "handled") == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_segv;
		sigaction(SIGSEGV, &sa, NULL);
	}
	__cpuid_count(7, 0, a, b, c, d);
	printf("avx512f=%u avx2=%u\n", (b >> 16) & 1, (b >> 5) & 1);
	fflush(stdout);
	if (argc > 1) {
		*(volatile int *)0 = 1;
	}
	return 0;
}
`

// TestNoAVX512Preload checks make compare's library that hides AVX-512 from ONNX Runtime
// (gen/testdata/bench/noavx512.c) on a C program: AVX-512F gone and AVX2 kept under it, the
// CPUIDs reported, and other faults still reaching the program's handler or killing it.
func TestNoAVX512Preload(t *testing.T) {
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo: %v", err)
	}
	flags := ""
	for _, line := range strings.Split(string(cpuinfo), "\n") {
		if strings.HasPrefix(line, "flags") {
			flags = " " + line + " "
			break
		}
	}
	if !strings.Contains(flags, " avx512f ") || !strings.Contains(flags, " cpuid_fault ") {
		t.Skip("needs a CPU with AVX-512F that can make CPUID fault (cpuid_fault in /proc/cpuinfo)")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("needs gcc")
	}
	dir := t.TempDir()
	so, probe, src := filepath.Join(dir, "noavx512.so"), filepath.Join(dir, "probe"), filepath.Join(dir, "probe.c")
	if err := os.WriteFile(src, []byte(noavx512Probe), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-o", so, "../gen/testdata/bench/noavx512.c", "-ldl"},
		{"-O2", "-o", probe, src},
	} {
		if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run := func(preload bool, arg ...string) (stdout, stderr string, err error) {
		// A handler that neither answers a fault nor passes it on would refault forever.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, probe, arg...)
		if preload {
			cmd.Env = append(os.Environ(), "LD_PRELOAD="+so, "NOAVX512_REPORT=1")
		}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		return o.String(), e.String(), err
	}

	if out, _, err := run(false); err != nil || out != "avx512f=1 avx2=1\n" {
		t.Fatalf("without the library: %q, %v; want avx512f=1 avx2=1", out, err)
	}
	out, errOut, err := run(true)
	if err != nil || out != "avx512f=0 avx2=1\n" {
		t.Fatalf("with the library: %q, %v (stderr %q); want avx512f=0 avx2=1", out, err, errOut)
	}
	if !strings.Contains(errOut, "noavx512: answered 1 CPUIDs (1 of leaf 7)") {
		t.Errorf("report %q: want one CPUID of leaf 7 answered", errOut)
	}
	out, _, err = run(true, "handled")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 42 || out != "avx512f=0 avx2=1\nhandled\n" {
		t.Errorf("a program with a SIGSEGV handler of its own: %q, %v; want avx512f=0, then its handler to exit 42", out, err)
	}
	_, _, err = run(true, "segv")
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGSEGV {
		t.Errorf("a fault with no handler: %v; want death by SIGSEGV", err)
	}
}
