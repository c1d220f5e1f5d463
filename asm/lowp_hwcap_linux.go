//go:build !purego && arm64

package asm

import (
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"
)

// Linux reports FEAT_BF16 in the auxiliary vector's AT_HWCAP2 (arch/arm64/include/uapi/asm/
// hwcap.h), for which golang.org/x/sys/cpu has no flag.
const (
	atHWCAP2   = 26      // AT_HWCAP2
	hwcap2I8MM = 1 << 13 // HWCAP2_I8MM (golang.org/x/sys/cpu's ARM64.HasI8MM)
	hwcap2BF16 = 1 << 14 // HWCAP2_BF16
)

// hasBF16 reports whether the CPU runs the FEAT_BF16 instructions (BFDOT), as the kernel
// says.
func hasBF16() bool {
	v, ok := hwcap2()
	return ok && v&hwcap2BF16 != 0
}

// hwcap2 returns AT_HWCAP2: from the auxiliary vector the runtime was started with, or, where
// it has none (some build modes), from /proc/self/auxv.
func hwcap2() (uint64, bool) {
	if auxv, err := unix.Auxv(); err == nil {
		for _, e := range auxv {
			if e[0] == atHWCAP2 {
				return uint64(e[1]), true
			}
		}
		return 0, true // no AT_HWCAP2: a kernel older than 4.18 (no BF16 either)
	}
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, false
	}
	return auxvLookup(b, atHWCAP2)
}

// auxvLookup returns the value of the entry tag of an auxiliary vector as /proc/self/auxv
// holds it on a 64-bit little-endian system: pairs of 8-byte type and value, up to AT_NULL (0).
func auxvLookup(b []byte, tag uint64) (uint64, bool) {
	for ; len(b) >= 16; b = b[16:] {
		t := binary.LittleEndian.Uint64(b)
		if t == 0 {
			break
		}
		if t == tag {
			return binary.LittleEndian.Uint64(b[8:]), true
		}
	}
	return 0, false
}
