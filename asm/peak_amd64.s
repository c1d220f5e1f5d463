//go:build !purego

#include "textflag.h"

// Register-only FMA loops: the multiply-add rate the core can reach at all, against which the
// kernels' GFLOP/s are judged. Twelve independent accumulators hide the FMA latency; nothing
// touches memory.
//
// Register map: CX iterations left; Z0-Z11 / Y0-Y11 accumulators; Z12, Z13 / Y12, Y13 operands.

#define FMA12(op, a, b, r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11) \
	op a, b, r0; op a, b, r1; op a, b, r2; op a, b, r3; op a, b, r4; op a, b, r5; \
	op a, b, r6; op a, b, r7; op a, b, r8; op a, b, r9; op a, b, r10; op a, b, r11

// func fmaLoopAVX512(n int)
// Requires: AVX512F
TEXT ·fmaLoopAVX512(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11

loop512:
	FMA12(VFMADD231PS, Z12, Z13, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11) // zi += z12·z13
	DECQ CX
	JNZ  loop512
	VZEROUPPER
	RET

// func fmaLoopAVX2(n int)
// Requires: AVX, FMA3
TEXT ·fmaLoopAVX2(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop256:
	FMA12(VFMADD231PS, Y12, Y13, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11) // yi += y12·y13
	DECQ CX
	JNZ  loop256
	VZEROUPPER
	RET
