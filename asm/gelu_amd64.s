//go:build !purego

#include "textflag.h"

// The exact GELU, gelu(x) = x·Φ(x) with Φ the normal CDF, in place over n floats, to a few
// float32 ulps (see TestGeluKernels). With u = |x|:
//
//	u ≤ 1:  Φ(x) = 1/2 + x·B(x²)                      (B: degree 5)
//	u > 1:  Q(u) = Φ(-u) = exp(-u²/2)·R(t - tc),  t = 1/(1 + p·u)   (R: degree 9)
//	        Φ(x) = Q(u) for x < 0, 1 - Q(u) for x > 0;  Q = 0 beyond u = 9
//
// The coefficients are minimax fits (relative error ≲ 2⁻²⁸ in exact arithmetic). -u²/2 enters
// exp as an exact sum hi + lo (an FMA gives lo), reduced by Cody and Waite's two-part ln 2, so
// that Q keeps its relative accuracy down to 1e-19: the negative tail does not lose it to
// 1 + erf(x/√2) ≈ 0 as the textbook formula does.
//
// Register map of geluAVX512 (geluAVX2: the same in Y registers, masks in Y9):
//   DI        x: the next 16 (8) floats
//   SI        floats left
//   Z0        x, then gelu(x);  Z1 u = |x|;  Z2 x²;  Z3 B(x²);  Z4 Φ for u ≤ 1
//   Z5        min(u, 9);  Z6 1 + p·u, hi, exp's argument, 1 - Q;  Z7 t - tc, lo, exp, Q, Φ
//   Z8        R(t - tc);  Z9 -u/2, n;  K1 tail mask;  K2 u ≤ 9;  K3 x > 0;  K4 u ≤ 1

// Constants, each repeated 8 times: AVX2 reads 32 bytes, AVX-512 broadcasts the first float.
#define CONST8(off, bits) \
	DATA geluC<>+(off)(SB)/4, $bits; DATA geluC<>+(off+4)(SB)/4, $bits; \
	DATA geluC<>+(off+8)(SB)/4, $bits; DATA geluC<>+(off+12)(SB)/4, $bits; \
	DATA geluC<>+(off+16)(SB)/4, $bits; DATA geluC<>+(off+20)(SB)/4, $bits; \
	DATA geluC<>+(off+24)(SB)/4, $bits; DATA geluC<>+(off+28)(SB)/4, $bits

#define ABS 0
#define HALF 32
#define MHALF 64
#define ONE 96
#define NINE 128
#define P 160
#define TC 192
#define LOG2E 224
#define LN2HI 256
#define LN2LO 288
#define B0 320
#define B1 352
#define B2 384
#define B3 416
#define B4 448
#define B5 480
#define R0 512
#define R1 544
#define R2 576
#define R3 608
#define R4 640
#define R5 672
#define R6 704
#define R7 736
#define R8 768
#define R9 800
#define E2 832
#define E3 864
#define E4 896
#define E5 928
#define E6 960

CONST8(ABS, 0x7fffffff)
CONST8(HALF, 0x3f000000)   // 0.5
CONST8(MHALF, 0xbf000000)  // -0.5
CONST8(ONE, 0x3f800000)    // 1; also E0 and E1
CONST8(NINE, 0x41100000)   // 9
CONST8(P, 0x3f19999a)      // p = 0.6
CONST8(TC, 0x3ec80000)     // tc = 0.390625
CONST8(LOG2E, 0x3fb8aa3b)  // log2(e)
CONST8(LN2HI, 0x3f317200)  // ln 2 to 16 bits: n·LN2HI is exact
CONST8(LN2LO, 0x35bfbe8e)  // ln 2 - LN2HI
CONST8(B0, 0x3ecc422a)     // 0.398942292
CONST8(B1, 0xbd882c19)     // -0.0664903596
CONST8(B2, 0x3c23672f)     // 0.00997333135
CONST8(B3, 0xba9b7f68)     // -0.00118635315
CONST8(B4, 0x38ee0dac)     // 0.00011351271
CONST8(B5, 0xb70097a2)     // -7.6646993e-06
CONST8(R0, 0x3e0c3038)     // 0.13690269
CONST8(R1, 0x3ef07277)     // 0.469623297
CONST8(R2, 0x3e9783dd)     // 0.295927912
CONST8(R3, 0xbdca7f2c)     // -0.0988753736
CONST8(R4, 0xbe236ba5)     // -0.159590319
CONST8(R5, 0x3e150eed)     // 0.14556475
CONST8(R6, 0x3d85d20f)     // 0.0653420612
CONST8(R7, 0xbe638f05)     // -0.222225264
CONST8(R8, 0x3daf6710)     // 0.0856457949
CONST8(R9, 0x3e5d09e2)     // 0.215858012
CONST8(E2, 0x3efffffd)     // 0.499999911
CONST8(E3, 0x3e2aaa05)     // 0.166664198
CONST8(E4, 0x3d2aac4d)     // 0.0416682251
CONST8(E5, 0x3c093686)     // 0.00837481581
CONST8(E6, 0x3ab55cc0)     // 0.00138368458
GLOBL geluC<>(SB), RODATA|NOPTR, $992

// tailMask: the 8 int32 at tailMask+4·(16-n) are all ones in lanes j < n.
DATA tailMask<>+0x00(SB)/8, $0xffffffffffffffff
DATA tailMask<>+0x08(SB)/8, $0xffffffffffffffff
DATA tailMask<>+0x10(SB)/8, $0xffffffffffffffff
DATA tailMask<>+0x18(SB)/8, $0xffffffffffffffff
DATA tailMask<>+0x20(SB)/8, $0xffffffffffffffff
DATA tailMask<>+0x28(SB)/8, $0xffffffffffffffff
DATA tailMask<>+0x30(SB)/8, $0xffffffffffffffff
DATA tailMask<>+0x38(SB)/8, $0xffffffffffffffff
DATA tailMask<>+0x40(SB)/8, $0
DATA tailMask<>+0x48(SB)/8, $0
DATA tailMask<>+0x50(SB)/8, $0
DATA tailMask<>+0x58(SB)/8, $0
GLOBL tailMask<>(SB), RODATA|NOPTR, $96

#define C(off) geluC<>+off(SB)

// GELU512 replaces z0 with gelu(z0): Φ for u ≤ 1 in z4; t - tc in z7 and R in z8; hi, lo in
// z6, z7; n in z9; exp(hi + lo) = 2ⁿ·E(hi + lo - n·ln 2) in z7, then Q, then Φ; masks k2-k4.
// The loop runs it on two vectors at once (Z0-Z9 and Z10-Z19): one chain of some fifty
// dependent instructions left the vector units idle for part of its latency (BenchmarkGelu:
// 1.12 -> 1.22 Gelem/s, the copy of its input included).
#define GELU512(z0, z1, z2, z3, z4, z5, z6, z7, z8, z9, k2, k3, k4) \
	VPANDD.BCST       C(ABS), z0, z1; \
	VMULPS            z0, z0, z2; \
	VBROADCASTSS      C(B5), z3; \
	VFMADD213PS.BCST  C(B4), z2, z3; \
	VFMADD213PS.BCST  C(B3), z2, z3; \
	VFMADD213PS.BCST  C(B2), z2, z3; \
	VFMADD213PS.BCST  C(B1), z2, z3; \
	VFMADD213PS.BCST  C(B0), z2, z3; \
	VBROADCASTSS      C(HALF), z4; \
	VFMADD231PS       z3, z0, z4; \
	VMINPS.BCST       C(NINE), z1, z5; \
	VBROADCASTSS      C(ONE), z6; \
	VFMADD231PS.BCST  C(P), z5, z6; \
	VBROADCASTSS      C(ONE), z7; \
	VDIVPS            z6, z7, z7; \
	VSUBPS.BCST       C(TC), z7, z7; \
	VBROADCASTSS      C(R9), z8; \
	VFMADD213PS.BCST  C(R8), z7, z8; \
	VFMADD213PS.BCST  C(R7), z7, z8; \
	VFMADD213PS.BCST  C(R6), z7, z8; \
	VFMADD213PS.BCST  C(R5), z7, z8; \
	VFMADD213PS.BCST  C(R4), z7, z8; \
	VFMADD213PS.BCST  C(R3), z7, z8; \
	VFMADD213PS.BCST  C(R2), z7, z8; \
	VFMADD213PS.BCST  C(R1), z7, z8; \
	VFMADD213PS.BCST  C(R0), z7, z8; \
	VMULPS.BCST       C(MHALF), z5, z9; \
	VMULPS            z5, z9, z6; \
	VMOVAPS           z6, z7; \
	VFMSUB231PS       z5, z9, z7; \
	VMULPS.BCST       C(LOG2E), z6, z9; \
	VRNDSCALEPS       $0, z9, z9; \
	VFNMADD231PS.BCST C(LN2HI), z9, z6; \
	VFNMADD231PS.BCST C(LN2LO), z9, z6; \
	VADDPS            z7, z6, z6; \
	VBROADCASTSS      C(E6), z7; \
	VFMADD213PS.BCST  C(E5), z6, z7; \
	VFMADD213PS.BCST  C(E4), z6, z7; \
	VFMADD213PS.BCST  C(E3), z6, z7; \
	VFMADD213PS.BCST  C(E2), z6, z7; \
	VFMADD213PS.BCST  C(ONE), z6, z7; \
	VFMADD213PS.BCST  C(ONE), z6, z7; \
	VSCALEFPS         z9, z7, z7; \
	VMULPS            z8, z7, z7; \
	VCMPPS.BCST       $0x12, C(NINE), z1, k2; \
	VMOVAPS.Z         z7, k2, z7; \
	VBROADCASTSS      C(ONE), z6; \
	VSUBPS            z7, z6, z6; \
	VPXORD            z9, z9, z9; \
	VCMPPS            $0x1e, z9, z0, k3; \
	VMOVAPS           z6, k3, z7; \
	VCMPPS.BCST       $0x12, C(ONE), z1, k4; \
	VMOVAPS           z4, k4, z7; \
	VMULPS            z7, z0, z0

// func geluAVX512(x *float32, n int)
// Requires: AVX512F
TEXT ·geluAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), SI

loop32:
	CMPQ    SI, $32
	JLT     loop16
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z10
	GELU512(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, K2, K3, K4)
	GELU512(Z10, Z11, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, K5, K6, K7)
	VMOVUPS Z0, (DI)
	VMOVUPS Z10, 64(DI)
	ADDQ    $128, DI
	SUBQ    $32, SI
	JMP     loop32

loop16:
	CMPQ    SI, $16
	JLT     tail
	VMOVUPS (DI), Z0
	GELU512(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, K2, K3, K4)
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	SUBQ    $16, SI

tail:
	TESTQ SI, SI
	JZ    done
	MOVQ  SI, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX                     // AX = 1<<n - 1
	KMOVW AX, K1
	VMOVUPS.Z (DI), K1, Z0
	GELU512(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, K2, K3, K4)
	VMOVUPS Z0, K1, (DI)

done:
	VZEROUPPER
	RET

// GELU256 replaces Y0 with gelu(Y0).
#define GELU256 \
	VANDPS          C(ABS), Y0, Y1; \
	VMULPS          Y0, Y0, Y2; \
	VMOVUPS         C(B5), Y3; \
	VFMADD213PS     C(B4), Y2, Y3; \
	VFMADD213PS     C(B3), Y2, Y3; \
	VFMADD213PS     C(B2), Y2, Y3; \
	VFMADD213PS     C(B1), Y2, Y3; \
	VFMADD213PS     C(B0), Y2, Y3; \
	VMOVUPS         C(HALF), Y4; \
	VFMADD231PS     Y3, Y0, Y4; \
	VMINPS          C(NINE), Y1, Y5; \
	VMOVUPS         C(ONE), Y6; \
	VFMADD231PS     C(P), Y5, Y6; \
	VMOVUPS         C(ONE), Y7; \
	VDIVPS          Y6, Y7, Y7; \
	VSUBPS          C(TC), Y7, Y7; \
	VMOVUPS         C(R9), Y8; \
	VFMADD213PS     C(R8), Y7, Y8; \
	VFMADD213PS     C(R7), Y7, Y8; \
	VFMADD213PS     C(R6), Y7, Y8; \
	VFMADD213PS     C(R5), Y7, Y8; \
	VFMADD213PS     C(R4), Y7, Y8; \
	VFMADD213PS     C(R3), Y7, Y8; \
	VFMADD213PS     C(R2), Y7, Y8; \
	VFMADD213PS     C(R1), Y7, Y8; \
	VFMADD213PS     C(R0), Y7, Y8; \
	VMULPS          C(MHALF), Y5, Y9; \
	VMULPS          Y5, Y9, Y6; \
	VMOVAPS         Y6, Y7; \
	VFMSUB231PS     Y5, Y9, Y7; \
	VMULPS          C(LOG2E), Y6, Y9; \
	VROUNDPS        $0, Y9, Y9; \
	VFNMADD231PS    C(LN2HI), Y9, Y6; \
	VFNMADD231PS    C(LN2LO), Y9, Y6; \
	VADDPS          Y7, Y6, Y6; \
	VMOVUPS         C(E6), Y7; \
	VFMADD213PS     C(E5), Y6, Y7; \
	VFMADD213PS     C(E4), Y6, Y7; \
	VFMADD213PS     C(E3), Y6, Y7; \
	VFMADD213PS     C(E2), Y6, Y7; \
	VFMADD213PS     C(ONE), Y6, Y7; \
	VFMADD213PS     C(ONE), Y6, Y7; \
	VCVTPS2DQ       Y9, Y9; \
	VPSLLD          $23, Y9, Y9; \
	VPADDD          Y9, Y7, Y7; \
	VMULPS          Y8, Y7, Y7; \
	VCMPPS          $0x12, C(NINE), Y1, Y9; \
	VANDPS          Y9, Y7, Y7; \
	VMOVUPS         C(ONE), Y6; \
	VSUBPS          Y7, Y6, Y6; \
	VXORPS          Y9, Y9, Y9; \
	VCMPPS          $0x1e, Y9, Y0, Y9; \
	VBLENDVPS       Y9, Y6, Y7, Y7; \
	VCMPPS          $0x12, C(ONE), Y1, Y9; \
	VBLENDVPS       Y9, Y4, Y7, Y7; \
	VMULPS          Y7, Y0, Y0

// func geluAVX2(x *float32, n int)
// Requires: AVX, AVX2, FMA
TEXT ·geluAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), SI
	CMPQ SI, $8
	JLT  tail

loop:
	VMOVUPS (DI), Y0
	GELU256
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	SUBQ    $8, SI
	CMPQ    SI, $8
	JGE     loop

tail:
	TESTQ SI, SI
	JZ    done
	MOVQ  $16, AX
	SUBQ  SI, AX
	LEAQ  tailMask<>(SB), CX
	VMOVUPS    (CX)(AX*4), Y10   // lanes < n
	VMASKMOVPS (DI), Y10, Y0
	GELU256
	VMASKMOVPS Y0, Y10, (DI)

done:
	VZEROUPPER
	RET
