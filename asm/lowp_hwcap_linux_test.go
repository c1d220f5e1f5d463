//go:build !purego && arm64

package asm

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// TestLowpHWCAP2: AT_HWCAP2 read from /proc/self/auxv is the runtime's, and its I8MM bit is what
// golang.org/x/sys/cpu reports (it reads the same word, unless GODEBUG turns the flag off), so
// the BF16 bit next to it is read right.
func TestLowpHWCAP2(t *testing.T) {
	auxv, err := unix.Auxv()
	if err != nil {
		t.Skipf("no auxiliary vector: %v", err)
	}
	var want uint64
	for _, e := range auxv {
		if e[0] == atHWCAP2 {
			want = uint64(e[1])
		}
	}
	got, ok := hwcap2()
	if !ok || got != want {
		t.Fatalf("hwcap2() = %#x, %v; the runtime's auxiliary vector has %#x", got, ok, want)
	}
	if b, err := os.ReadFile("/proc/self/auxv"); err != nil {
		t.Logf("no /proc/self/auxv: %v", err)
	} else if v, ok := auxvLookup(b, atHWCAP2); want != 0 && (!ok || v != want) {
		t.Fatalf("/proc/self/auxv: AT_HWCAP2 = %#x, %v; the runtime's %#x", v, ok, want)
	}
	if strings.Contains(os.Getenv("GODEBUG"), "cpu.") {
		t.Logf("GODEBUG=%s may turn golang.org/x/sys/cpu's flags off: I8MM not compared", os.Getenv("GODEBUG"))
	} else if (got&hwcap2I8MM != 0) != cpu.ARM64.HasI8MM {
		t.Fatalf("AT_HWCAP2 %#x: I8MM bit %v, golang.org/x/sys/cpu says %v", got, got&hwcap2I8MM != 0, cpu.ARM64.HasI8MM)
	}
	if hasBF16() != (got&hwcap2BF16 != 0) {
		t.Fatalf("hasBF16() = %v for AT_HWCAP2 %#x", hasBF16(), got)
	}
	t.Logf("AT_HWCAP2 %#x: BF16 %v, I8MM %v", got, hasBF16(), cpu.ARM64.HasI8MM)
}

// TestLowpAuxvLookup parses a made-up auxiliary vector: entries up to AT_NULL, nothing after it.
func TestLowpAuxvLookup(t *testing.T) {
	var b []byte
	for _, e := range [][2]uint64{{16, 0xff}, {atHWCAP2, hwcap2BF16 | hwcap2I8MM}, {0, 0}, {99, 1}} {
		b = binary.LittleEndian.AppendUint64(b, e[0])
		b = binary.LittleEndian.AppendUint64(b, e[1])
	}
	if v, ok := auxvLookup(b, atHWCAP2); !ok || v != hwcap2BF16|hwcap2I8MM {
		t.Errorf("AT_HWCAP2: %#x, %v", v, ok)
	}
	if v, ok := auxvLookup(b, 16); !ok || v != 0xff {
		t.Errorf("AT_HWCAP: %#x, %v", v, ok)
	}
	if _, ok := auxvLookup(b, 99); ok {
		t.Errorf("an entry after AT_NULL was found")
	}
	if _, ok := auxvLookup(b[:20], atHWCAP2); ok {
		t.Errorf("a truncated entry was found")
	}
}
