//go:build !linux && !purego

package asm

// amxPermission: AMX is used on Linux only (elsewhere the OS's consent is not asked for).
func amxPermission() bool { return false }
