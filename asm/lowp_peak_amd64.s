//go:build !purego

#include "textflag.h"
#include "lowp_amd64.h"

// Register-only loops of the low-precision instructions, to measure their issue rate against
// VFMADD231PS's (fmaLoopAVX512 in peak_amd64.s): 24 independent accumulators hide the
// latencies; nothing touches memory.
//
// Register map: CX iterations left; Z0-Z23 / Y0-Y11 accumulators; Z24, Z25 / Y14, Y15 operands.

#define R24(M) \
	M(0); M(1); M(2); M(3); M(4); M(5); M(6); M(7); M(8); M(9); M(10); M(11); \
	M(12); M(13); M(14); M(15); M(16); M(17); M(18); M(19); M(20); M(21); M(22); M(23)

#define DPZ(i) VDPBF16PS_Z(i, 24, 25)

#define ZERO2425 \
	VPXORD Z24, Z24, Z24; \
	VPXORD Z25, Z25, Z25

// func lowpDPBF16Loop(n int)
// Requires: AVX512F, AVX512_BF16
TEXT ·lowpDPBF16Loop(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	ZERO2425

dploop:
	R24(DPZ)                     // zi += pairs of z24·z25 (32 multiply-adds each)
	DECQ CX
	JNZ  dploop
	VZEROUPPER
	RET

// func lowpVNNILoop(n int)
// Requires: AVX512F, AVX512_VNNI
TEXT ·lowpVNNILoop(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	ZERO2425

vnniloop:
	VPDPBUSD Z24, Z25, Z0; VPDPBUSD Z24, Z25, Z1; VPDPBUSD Z24, Z25, Z2; VPDPBUSD Z24, Z25, Z3
	VPDPBUSD Z24, Z25, Z4; VPDPBUSD Z24, Z25, Z5; VPDPBUSD Z24, Z25, Z6; VPDPBUSD Z24, Z25, Z7
	VPDPBUSD Z24, Z25, Z8; VPDPBUSD Z24, Z25, Z9; VPDPBUSD Z24, Z25, Z10; VPDPBUSD Z24, Z25, Z11
	VPDPBUSD Z24, Z25, Z12; VPDPBUSD Z24, Z25, Z13; VPDPBUSD Z24, Z25, Z14; VPDPBUSD Z24, Z25, Z15
	VPDPBUSD Z24, Z25, Z16; VPDPBUSD Z24, Z25, Z17; VPDPBUSD Z24, Z25, Z18; VPDPBUSD Z24, Z25, Z19
	VPDPBUSD Z24, Z25, Z20; VPDPBUSD Z24, Z25, Z21; VPDPBUSD Z24, Z25, Z22; VPDPBUSD Z24, Z25, Z23 // zi += 4-byte dots of z25 (u8)·z24 (s8): 64 multiply-adds each
	DECQ CX
	JNZ  vnniloop
	VZEROUPPER
	RET

#define VEXV(i) VPDPBUSD_VEX(i, 14, 15)

#define R12(M) M(0); M(1); M(2); M(3); M(4); M(5); M(6); M(7); M(8); M(9); M(10); M(11)

// func lowpAVXVNNILoop(n int)
// Requires: AVX_VNNI
TEXT ·lowpAVXVNNILoop(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	VPXOR Y14, Y14, Y14
	VPXOR Y15, Y15, Y15

avxvnniloop:
	R12(VEXV)                    // yi += 4-byte dots of y14 (u8)·y15 (s8): 32 multiply-adds each
	R12(VEXV)
	DECQ CX
	JNZ  avxvnniloop
	VZEROUPPER
	RET

// func lowpMADDWDLoop(n int)
// Requires: AVX2
TEXT ·lowpMADDWDLoop(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	VPXOR Y14, Y14, Y14
	VPXOR Y15, Y15, Y15

maddloop:
	VPMADDWD Y14, Y15, Y12; VPADDD Y12, Y0, Y0 // y0 += pairs of y14·y15 (16 multiply-adds)
	VPMADDWD Y14, Y15, Y13; VPADDD Y13, Y1, Y1
	VPMADDWD Y14, Y15, Y12; VPADDD Y12, Y2, Y2
	VPMADDWD Y14, Y15, Y13; VPADDD Y13, Y3, Y3
	VPMADDWD Y14, Y15, Y12; VPADDD Y12, Y4, Y4
	VPMADDWD Y14, Y15, Y13; VPADDD Y13, Y5, Y5
	VPMADDWD Y14, Y15, Y12; VPADDD Y12, Y6, Y6
	VPMADDWD Y14, Y15, Y13; VPADDD Y13, Y7, Y7
	VPMADDWD Y14, Y15, Y12; VPADDD Y12, Y8, Y8
	VPMADDWD Y14, Y15, Y13; VPADDD Y13, Y9, Y9
	VPMADDWD Y14, Y15, Y12; VPADDD Y12, Y10, Y10
	VPMADDWD Y14, Y15, Y13; VPADDD Y13, Y11, Y11
	DECQ CX
	JNZ  maddloop
	VZEROUPPER
	RET

#define TDPB(d, a, b) TDPBF16PS(d, a, b)
#define TDPU(d, a, b) TDPBUSD(d, a, b)

// func lowpTDPBF16PSLoop(cfg *byte, n int)
// n iterations of 4 independent TDPBF16PS (TMM0-3 += TMM4,5 · TMM6,7; 16·16·32 multiply-adds
// each) on tiles alone.
// Requires: AMX-TILE, AMX-BF16
TEXT ·lowpTDPBF16PSLoop(SB), NOSPLIT, $0-16
	MOVQ cfg+0(FP), DI
	MOVQ n+8(FP), CX
	LDTILECFG_DI

tdpbloop:
	TDPB(0, 4, 6)
	TDPB(1, 4, 7)
	TDPB(2, 5, 6)
	TDPB(3, 5, 7)
	DECQ CX
	JNZ  tdpbloop
	TILERELEASE
	RET

// func lowpTDPBUSDLoop(cfg *byte, n int)
// lowpTDPBF16PSLoop with TDPBUSD (16·16·64 multiply-adds each).
// Requires: AMX-TILE, AMX-INT8
TEXT ·lowpTDPBUSDLoop(SB), NOSPLIT, $0-16
	MOVQ cfg+0(FP), DI
	MOVQ n+8(FP), CX
	LDTILECFG_DI

tdpuloop:
	TDPU(0, 4, 6)
	TDPU(1, 4, 7)
	TDPU(2, 5, 6)
	TDPU(3, 5, 7)
	DECQ CX
	JNZ  tdpuloop
	TILERELEASE
	RET
