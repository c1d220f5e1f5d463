//go:build !purego && arm64

package asm

import "golang.org/x/sys/unix"

// hasBF16 reports whether the CPU runs the FEAT_BF16 instructions (BFDOT), as macOS says
// (hw.optional.arm.FEAT_BF16 is 1 from the M2 on; absent on older systems).
func hasBF16() bool {
	v, err := unix.SysctlUint32("hw.optional.arm.FEAT_BF16")
	return err == nil && v == 1
}
