//go:build !purego && arm64 && !linux && !darwin

package asm

// hasBF16 is false where the OS is not asked (the bf16 kernels widen to float32 instead).
func hasBF16() bool { return false }
