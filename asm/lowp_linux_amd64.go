//go:build !purego

package asm

import "syscall"

// amxPermission asks Linux for the AMX tile data state (arch_prctl ARCH_REQ_XCOMP_PERM with
// XFEATURE_XTILEDATA, Linux 5.16 and later) and says whether it was granted. It is asked once,
// for the whole process, before the first AMX kernel runs; the kernel then saves the tiles
// with each thread's state (the AMX kernels release them before returning).
func amxPermission() bool {
	const archReqXcompPerm, xfeatureXtiledata = 0x1023, 18
	_, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0)
	return errno == 0
}
