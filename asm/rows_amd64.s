//go:build !purego

#include "textflag.h"

// Row kernels: softmax, e^x and LayerNorm over one row of n floats, n ≥ 1 (rows_amd64.go
// keeps n ≤ rowMax so that one call stays short). No alignment is required; lanes past n are
// neither read nor written (masked loads and stores).
//
// e^x, as asm.Exp: x = n·ln 2 + r, n = round(x·log2 e), r by Cody and Waite's two-part ln 2
// with FMAs, e^r by its Taylor polynomial of degree 7 (Horner, FMA), then 2ⁿ·p: VSCALEFPS on
// AVX-512, two exact power-of-two products on AVX2 (the same bits). x is clamped to
// [-100, 100] first so that n stays small (±Inf and overflow still give +Inf), and results
// for x < -87.33654 (below the smallest normal float32) are 0, as asm.Exp has them. NaN
// stays NaN: the clamps take x as the operand that MAXPS/MINPS return for NaN.

// Constants, each repeated 8 times: AVX2 reads 32 bytes, AVX-512 broadcasts the first float.
#define CONST8(off, bits) \
	DATA rowsC<>+(off)(SB)/4, $bits; DATA rowsC<>+(off+4)(SB)/4, $bits; \
	DATA rowsC<>+(off+8)(SB)/4, $bits; DATA rowsC<>+(off+12)(SB)/4, $bits; \
	DATA rowsC<>+(off+16)(SB)/4, $bits; DATA rowsC<>+(off+20)(SB)/4, $bits; \
	DATA rowsC<>+(off+24)(SB)/4, $bits; DATA rowsC<>+(off+28)(SB)/4, $bits

#define LOG2E 0
#define LN2HI 32
#define LN2LO 64
#define T7 96
#define T6 128
#define T5 160
#define T4 192
#define T3 224
#define T2 256
#define ONE 288
#define CLAMPLO 320
#define CLAMPHI 352
#define EXPLO 384
#define NEGINF 416
#define BIAS 448

CONST8(LOG2E, 0x3fb8aa3b)   // log2(e)
CONST8(LN2HI, 0x3f317200)   // ln 2 to 16 bits: n·LN2HI is exact
CONST8(LN2LO, 0x35bfbe8e)   // ln 2 - LN2HI
CONST8(T7, 0x39500d01)      // 1/5040
CONST8(T6, 0x3ab60b61)      // 1/720
CONST8(T5, 0x3c088889)      // 1/120
CONST8(T4, 0x3d2aaaab)      // 1/24
CONST8(T3, 0x3e2aaaab)      // 1/6
CONST8(T2, 0x3f000000)      // 1/2
CONST8(ONE, 0x3f800000)     // 1: T1 and T0
CONST8(CLAMPLO, 0xc2c80000) // -100
CONST8(CLAMPHI, 0x42c80000) // 100
CONST8(EXPLO, 0xc2aeac4f)   // -87.33654: e^x is 0 below
CONST8(NEGINF, 0xff800000)  // -Inf
CONST8(BIAS, 0x0000007f)    // 127, the float32 exponent bias (int32)
GLOBL rowsC<>(SB), RODATA|NOPTR, $480

// rowsTail: the 8 int32 at rowsTail+4·(8-r) are all ones in lanes j < r (AVX2 tails).
DATA rowsTail<>+0x00(SB)/8, $0xffffffffffffffff
DATA rowsTail<>+0x08(SB)/8, $0xffffffffffffffff
DATA rowsTail<>+0x10(SB)/8, $0xffffffffffffffff
DATA rowsTail<>+0x18(SB)/8, $0xffffffffffffffff
DATA rowsTail<>+0x20(SB)/8, $0
DATA rowsTail<>+0x28(SB)/8, $0
DATA rowsTail<>+0x30(SB)/8, $0
DATA rowsTail<>+0x38(SB)/8, $0
GLOBL rowsTail<>(SB), RODATA|NOPTR, $64

#define C(off) rowsC<>+off(SB)

// ---------------------------------------------------------------------------------------
// AVX-512. The exponential's constants live in Z16-Z28 (EXPCONST512), set once per call.

// EXPCONST512 loads e^x's constants: Z16 -100, Z17 100, Z18 log2 e, Z19 LN2HI, Z20 LN2LO,
// Z21-Z26 1/5040 … 1/2, Z27 1, Z28 -87.33654.
#define EXPCONST512 \
	VBROADCASTSS C(CLAMPLO), Z16; \
	VBROADCASTSS C(CLAMPHI), Z17; \
	VBROADCASTSS C(LOG2E), Z18; \
	VBROADCASTSS C(LN2HI), Z19; \
	VBROADCASTSS C(LN2LO), Z20; \
	VBROADCASTSS C(T7), Z21; \
	VBROADCASTSS C(T6), Z22; \
	VBROADCASTSS C(T5), Z23; \
	VBROADCASTSS C(T4), Z24; \
	VBROADCASTSS C(T3), Z25; \
	VBROADCASTSS C(T2), Z26; \
	VBROADCASTSS C(ONE), Z27; \
	VBROADCASTSS C(EXPLO), Z28

// EXPR512 replaces z0 with e^z0, with scratch z1 (x clamped, then r), z2 (n) and z3 (p), and
// k (x ≥ -87.33654 or NaN). EXP512 is it on Z0 with Z1-Z3 and K2; softmax2AVX512 runs it on
// two sets of registers at once.
#define EXPR512(z0, z1, z2, z3, k) \
	VMAXPS       z0, Z16, z1;  \ // z1 = max(-100, x)   (x if NaN)
	VMINPS       z1, Z17, z1;  \ // z1 = min(100, z1)
	VMULPS       Z18, z1, z2;  \ // n = x·log2 e
	VRNDSCALEPS  $0, z2, z2;   \ // n = round(n), ties to even
	VFNMADD231PS Z19, z2, z1;  \ // r = x - n·LN2HI
	VFNMADD231PS Z20, z2, z1;  \ // r -= n·LN2LO
	VMOVAPS      Z21, z3;      \ // p = 1/5040
	VFMADD213PS  Z22, z1, z3;  \ // p = p·r + 1/720
	VFMADD213PS  Z23, z1, z3;  \
	VFMADD213PS  Z24, z1, z3;  \
	VFMADD213PS  Z25, z1, z3;  \
	VFMADD213PS  Z26, z1, z3;  \
	VFMADD213PS  Z27, z1, z3;  \
	VFMADD213PS  Z27, z1, z3;  \ // p = e^r
	VCMPPS       $0x15, Z28, z0, k; \ // k = !(x < -87.33654)
	VSCALEFPS.Z  z2, z3, k, z0  // e^x = p·2ⁿ, or 0

#define EXP512 EXPR512(Z0, Z1, Z2, Z3, K2)

// HREDR512 reduces z with op (VMAXPS, VADDPS) into every lane of its low lanes x (y its low
// half); ys and xs are scratch. HMAXR512 and HSUMR512 are it for the largest float and the
// sum; HMAX512 and HSUM512 are those on Z4 with Z5 as scratch.
#define HREDR512(op, z, y, x, ys, xs) \
	VEXTRACTF64X4 $1, z, ys; \
	op            ys, y, y; \
	VEXTRACTF128  $1, y, xs; \
	op            xs, x, x; \
	VPERMILPS     $0x4e, x, xs; \
	op            xs, x, x; \
	VPERMILPS     $0xb1, x, xs; \
	op            xs, x, x

#define HMAXR512(z, y, x, ys, xs) HREDR512(VMAXPS, z, y, x, ys, xs)
#define HSUMR512(z, y, x, ys, xs) HREDR512(VADDPS, z, y, x, ys, xs)
#define HMAX512 HMAXR512(Z4, Y4, X4, Y5, X5)
#define HSUM512 HSUMR512(Z4, Y4, X4, Y5, X5)

// TAILMASK512 sets K1 to the lanes of the last n mod 16 floats and BX to n rounded down to a
// multiple of 16 (n in SI).
#define TAILMASK512 \
	MOVQ  SI, CX;  \
	ANDQ  $15, CX; \
	MOVL  $1, AX;  \
	SHLL  CX, AX;  \
	DECL  AX;      \
	KMOVW AX, K1;  \
	MOVQ  SI, BX;  \
	ANDQ  $-16, BX

// Register map of softmaxAVX512:
//   DI        x;  SI n;  BX n rounded down to 16;  AX index of the next float;  K1 tail lanes
//   DX        the last start of a 32-float step (BX - 16);  CX scratch
//   Z31       scale;  Z30 max, then its broadcast;  Z29 Σ;  Z4, Z5 max accumulators, scratch
//   Z0-Z3     the exponential;  Z16-Z28 its constants

// func softmaxAVX512(x *float32, n int, scale float32)
// Requires: AVX512F
TEXT ·softmaxAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), SI
	VBROADCASTSS scale+16(FP), Z31
	TAILMASK512
	EXPCONST512

	// m = max(scale·x): two accumulators, 32 floats a step.
	VBROADCASTSS C(NEGINF), Z4
	VMOVAPS      Z4, Z5
	XORQ         AX, AX
	LEAQ         -16(BX), DX // the last start of a 32-float step

max32:
	CMPQ   AX, DX
	JGE    max16
	VMULPS (DI)(AX*4), Z31, Z0
	VMULPS 64(DI)(AX*4), Z31, Z1
	VMAXPS Z0, Z4, Z4
	VMAXPS Z1, Z5, Z5
	ADDQ   $32, AX
	JMP    max32

max16:
	CMPQ   AX, BX
	JGE    maxTail
	VMULPS (DI)(AX*4), Z31, Z0
	VMAXPS Z0, Z4, Z4
	ADDQ   $16, AX

maxTail:
	VMULPS.Z (DI)(AX*4), Z31, K1, Z0
	VMAXPS   Z0, Z4, K1, Z4 // lanes past n keep Z4
	VMAXPS   Z5, Z4, Z4
	HMAX512
	VBROADCASTSS X4, Z30

	// x = e^(scale·x - m), Σ += x.
	VPXORD Z29, Z29, Z29
	XORQ   AX, AX

exp16:
	CMPQ      AX, BX
	JGE       expTail
	VMULPS    (DI)(AX*4), Z31, Z0
	VSUBPS    Z30, Z0, Z0
	EXP512
	VMOVUPS   Z0, (DI)(AX*4)
	VADDPS    Z0, Z29, Z29
	ADDQ      $16, AX
	JMP       exp16

expTail:
	KORTESTW K1, K1
	JZ       sum
	VMULPS.Z (DI)(AX*4), Z31, K1, Z0
	VSUBPS   Z30, Z0, Z0
	EXP512
	VMOVUPS  Z0, K1, (DI)(AX*4)
	VADDPS   Z0, Z29, K1, Z29

sum:
	VMOVAPS      Z29, Z4
	HSUM512
	VMOVSS       C(ONE), X5
	VDIVSS       X4, X5, X5 // 1/Σ
	VBROADCASTSS X5, Z29

	// x *= 1/Σ.
	XORQ AX, AX

scale16:
	CMPQ    AX, BX
	JGE     scaleTail
	VMULPS  (DI)(AX*4), Z29, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX
	JMP     scale16

scaleTail:
	VMULPS.Z (DI)(AX*4), Z29, K1, Z0
	VMOVUPS  Z0, K1, (DI)(AX*4)
	VZEROUPPER
	RET

// Register map of softmax2AVX512 (two rows in step, each as softmaxAVX512 has it, so that
// the one's dependency chains, the horizontal max and sum above all, fill the other's gaps):
//   DI, R8    the rows;  SI n;  BX n rounded down to 16;  AX index;  K1 tail lanes
//   Z31       scale;  Z30, Z29 the rows' max, then its broadcast;  Z14, Z15 the rows' Σ
//   Z4, Z5    row 1's max accumulators, scratch;  Z6, Z7 row 2's
//   Z0-Z3     row 1's exponential (K2);  Z8-Z11 row 2's (K3);  Z16-Z28 the constants

// func softmax2AVX512(x *float32, ld int, n int, scale float32)
// Requires: AVX512F
TEXT ·softmax2AVX512(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), DI
	MOVQ         ld+8(FP), R8
	LEAQ         (DI)(R8*4), R8
	MOVQ         n+16(FP), SI
	VBROADCASTSS scale+24(FP), Z31
	TAILMASK512
	EXPCONST512

	// m = max(scale·x) of each row, two accumulators each.
	VBROADCASTSS C(NEGINF), Z4
	VMOVAPS      Z4, Z5
	VMOVAPS      Z4, Z6
	VMOVAPS      Z4, Z7
	XORQ         AX, AX
	LEAQ         -16(BX), DX

max32x2:
	CMPQ   AX, DX
	JGE    max16x2
	VMULPS (DI)(AX*4), Z31, Z0
	VMULPS 64(DI)(AX*4), Z31, Z1
	VMULPS (R8)(AX*4), Z31, Z8
	VMULPS 64(R8)(AX*4), Z31, Z9
	VMAXPS Z0, Z4, Z4
	VMAXPS Z1, Z5, Z5
	VMAXPS Z8, Z6, Z6
	VMAXPS Z9, Z7, Z7
	ADDQ   $32, AX
	JMP    max32x2

max16x2:
	CMPQ   AX, BX
	JGE    maxTailx2
	VMULPS (DI)(AX*4), Z31, Z0
	VMULPS (R8)(AX*4), Z31, Z8
	VMAXPS Z0, Z4, Z4
	VMAXPS Z8, Z6, Z6
	ADDQ   $16, AX

maxTailx2:
	VMULPS.Z (DI)(AX*4), Z31, K1, Z0
	VMULPS.Z (R8)(AX*4), Z31, K1, Z8
	VMAXPS   Z0, Z4, K1, Z4
	VMAXPS   Z8, Z6, K1, Z6
	VMAXPS   Z5, Z4, Z4
	VMAXPS   Z7, Z6, Z6
	HMAXR512(Z4, Y4, X4, Y5, X5)
	HMAXR512(Z6, Y6, X6, Y7, X7)
	VBROADCASTSS X4, Z30
	VBROADCASTSS X6, Z29

	// x = e^(scale·x - m), Σ += x.
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	XORQ   AX, AX

exp16x2:
	CMPQ    AX, BX
	JGE     expTailx2
	VMULPS  (DI)(AX*4), Z31, Z0
	VMULPS  (R8)(AX*4), Z31, Z8
	VSUBPS  Z30, Z0, Z0
	VSUBPS  Z29, Z8, Z8
	EXPR512(Z0, Z1, Z2, Z3, K2)
	EXPR512(Z8, Z9, Z10, Z11, K3)
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z8, (R8)(AX*4)
	VADDPS  Z0, Z14, Z14
	VADDPS  Z8, Z15, Z15
	ADDQ    $16, AX
	JMP     exp16x2

expTailx2:
	KORTESTW K1, K1
	JZ       sumx2
	VMULPS.Z (DI)(AX*4), Z31, K1, Z0
	VMULPS.Z (R8)(AX*4), Z31, K1, Z8
	VSUBPS   Z30, Z0, Z0
	VSUBPS   Z29, Z8, Z8
	EXPR512(Z0, Z1, Z2, Z3, K2)
	EXPR512(Z8, Z9, Z10, Z11, K3)
	VMOVUPS  Z0, K1, (DI)(AX*4)
	VMOVUPS  Z8, K1, (R8)(AX*4)
	VADDPS   Z0, Z14, K1, Z14
	VADDPS   Z8, Z15, K1, Z15

sumx2:
	HSUMR512(Z14, Y14, X14, Y5, X5)
	HSUMR512(Z15, Y15, X15, Y7, X7)
	VMOVSS       C(ONE), X5
	VMOVSS       C(ONE), X7
	VDIVSS       X14, X5, X5
	VDIVSS       X15, X7, X7
	VBROADCASTSS X5, Z14
	VBROADCASTSS X7, Z15

	// x *= 1/Σ.
	XORQ AX, AX

scale16x2:
	CMPQ    AX, BX
	JGE     scaleTailx2
	VMULPS  (DI)(AX*4), Z14, Z0
	VMULPS  (R8)(AX*4), Z15, Z8
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z8, (R8)(AX*4)
	ADDQ    $16, AX
	JMP     scale16x2

scaleTailx2:
	VMULPS.Z (DI)(AX*4), Z14, K1, Z0
	VMULPS.Z (R8)(AX*4), Z15, K1, Z8
	VMOVUPS  Z0, K1, (DI)(AX*4)
	VMOVUPS  Z8, K1, (R8)(AX*4)
	VZEROUPPER
	RET

// func expAVX512(x *float32, n int)
// Requires: AVX512F
TEXT ·expAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), SI
	TAILMASK512
	EXPCONST512
	XORQ AX, AX

loop:
	CMPQ    AX, BX
	JGE     tail
	VMOVUPS (DI)(AX*4), Z0
	EXP512
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX
	JMP     loop

tail:
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	EXP512
	VMOVUPS   Z0, K1, (DI)(AX*4)
	VZEROUPPER
	RET

// Register map of layerNormAVX512:
//   DX dst;  DI x;  R8 w;  R9 b;  SI n;  BX n rounded down to 16;  AX index;  K1 tail lanes
//   CX        the last start of a 32-float step (BX - 16)
//   Z0-Z3     accumulators: Σx, then Σd and Σd² with d = x - m1
//   Z4, Z5    scratch, horizontal sums;  Z6, Z7 x, d
//   Z29       inv = 1/sqrt(var + eps);  Z30 m1 = Σx/n;  Z31 c = Σd/n (mean = m1 + c)
//   X8 n, X9 eps (scalars)
//
// m1 is the mean to float32 rounding, and the second pass sums d = x - m1, which is exact
// for every x within a factor of 2 of m1: mean = m1 + Σd/n and var = Σd²/n - (Σd/n)² then
// lose nothing to a large mean (the corrected two-pass algorithm). The output is
// ((x - m1) - c)·inv·w + b, the last step an FMA.

// func layerNormAVX512(dst *float32, x *float32, w *float32, b *float32, n int, eps float32)
// Requires: AVX512F
TEXT ·layerNormAVX512(SB), NOSPLIT, $0-44
	MOVQ     dst+0(FP), DX
	MOVQ     x+8(FP), DI
	MOVQ     w+16(FP), R8
	MOVQ     b+24(FP), R9
	MOVQ     n+32(FP), SI
	VMOVSS   eps+40(FP), X9
	VXORPS   X8, X8, X8
	VCVTSI2SSQ SI, X8, X8
	TAILMASK512

	// Σx: two accumulators, 32 floats a step.
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	XORQ   AX, AX
	LEAQ   -16(BX), CX

sum32:
	CMPQ   AX, CX
	JGE    sum16
	VADDPS (DI)(AX*4), Z0, Z0
	VADDPS 64(DI)(AX*4), Z1, Z1
	ADDQ   $32, AX
	JMP    sum32

sum16:
	CMPQ   AX, BX
	JGE    sumTail
	VADDPS (DI)(AX*4), Z0, Z0
	ADDQ   $16, AX

sumTail:
	VMOVUPS.Z (DI)(AX*4), K1, Z6
	VADDPS    Z6, Z0, Z0
	VADDPS    Z1, Z0, Z4
	HSUM512
	VDIVSS       X8, X4, X4 // m1 = Σx/n
	VBROADCASTSS X4, Z30

	// Σd, Σd²: two of each, 32 floats a step.
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ   AX, AX

dev32:
	CMPQ        AX, CX
	JGE         dev16
	VSUBPS      (DI)(AX*4), Z30, Z6 // -d: its square is the same
	VSUBPS      64(DI)(AX*4), Z30, Z7
	VSUBPS      Z6, Z0, Z0          // Σd
	VSUBPS      Z7, Z1, Z1
	VFMADD231PS Z6, Z6, Z2          // Σd²
	VFMADD231PS Z7, Z7, Z3
	ADDQ        $32, AX
	JMP         dev32

dev16:
	CMPQ        AX, BX
	JGE         devTail
	VSUBPS      (DI)(AX*4), Z30, Z6
	VSUBPS      Z6, Z0, Z0
	VFMADD231PS Z6, Z6, Z2
	ADDQ        $16, AX

devTail:
	VMOVUPS.Z   (DI)(AX*4), K1, Z6
	VSUBPS.Z    Z6, Z30, K1, Z6 // -d, 0 past n
	VSUBPS      Z6, Z0, Z0
	VFMADD231PS Z6, Z6, Z2
	VADDPS      Z1, Z0, Z4
	HSUM512
	VDIVSS      X8, X4, X6 // c = Σd/n
	VADDPS      Z3, Z2, Z4
	HSUM512
	VDIVSS      X8, X4, X4 // Σd²/n
	VFNMADD231SS X6, X6, X4 // var = Σd²/n - c²
	VXORPS      X5, X5, X5
	VMAXSS      X5, X4, X4 // var ≥ 0 despite rounding
	VADDSS      X9, X4, X4
	VSQRTSS     X4, X4, X4
	VMOVSS      C(ONE), X5
	VDIVSS      X4, X5, X5
	VBROADCASTSS X5, Z29 // inv
	VBROADCASTSS X6, Z31 // c

	// dst = ((x - m1) - c)·inv·w + b.
	XORQ AX, AX

norm16:
	CMPQ        AX, BX
	JGE         normTail
	VMOVUPS     (DI)(AX*4), Z6
	VSUBPS      Z30, Z6, Z6
	VSUBPS      Z31, Z6, Z6
	VMULPS      Z29, Z6, Z6
	VMOVUPS     (R8)(AX*4), Z7
	VFMADD213PS (R9)(AX*4), Z7, Z6
	VMOVUPS     Z6, (DX)(AX*4)
	ADDQ        $16, AX
	JMP         norm16

normTail:
	VMOVUPS.Z   (DI)(AX*4), K1, Z6
	VMOVUPS.Z   (R8)(AX*4), K1, Z7
	VMOVUPS.Z   (R9)(AX*4), K1, Z5
	VSUBPS      Z30, Z6, Z6
	VSUBPS      Z31, Z6, Z6
	VMULPS      Z29, Z6, Z6
	VFMADD213PS Z5, Z7, Z6
	VMOVUPS     Z6, K1, (DX)(AX*4)
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------------------
// AVX2. Only Y11 and Y10 (-100, 100) hold constants of the exponential: the clamps need them
// in registers to keep NaN; the others are memory operands.

// EXP256 replaces Y0 with e^Y0; Y1 x clamped, then r; Y2 n; Y3 p; Y4 2^(n>>1), x < -87.33654.
// 2ⁿ is 2^(n>>1)·2^(n - n>>1), both factors normal for |n| ≤ 145, so that p·2ⁿ has one rounding.
#define EXP256 \
	VMAXPS       Y0, Y11, Y1;     \ // Y1 = max(-100, x)   (x if NaN)
	VMINPS       Y1, Y10, Y1;     \ // Y1 = min(100, Y1)
	VMULPS       C(LOG2E), Y1, Y2; \
	VROUNDPS     $0, Y2, Y2;      \ // n = round(x·log2 e), ties to even
	VFNMADD231PS C(LN2HI), Y2, Y1; \ // r = x - n·LN2HI
	VFNMADD231PS C(LN2LO), Y2, Y1; \ // r -= n·LN2LO
	VMOVUPS      C(T7), Y3;       \
	VFMADD213PS  C(T6), Y1, Y3;   \
	VFMADD213PS  C(T5), Y1, Y3;   \
	VFMADD213PS  C(T4), Y1, Y3;   \
	VFMADD213PS  C(T3), Y1, Y3;   \
	VFMADD213PS  C(T2), Y1, Y3;   \
	VFMADD213PS  C(ONE), Y1, Y3;  \
	VFMADD213PS  C(ONE), Y1, Y3;  \ // p = e^r
	VCVTPS2DQ    Y2, Y2;          \
	VPSRAD       $1, Y2, Y4;      \ // h = n>>1
	VPSUBD       Y4, Y2, Y2;      \ // l = n - h
	VPADDD       C(BIAS), Y4, Y4; \
	VPSLLD       $23, Y4, Y4;     \ // 2^h
	VPADDD       C(BIAS), Y2, Y2; \
	VPSLLD       $23, Y2, Y2;     \ // 2^l
	VMULPS       Y4, Y3, Y3;      \
	VMULPS       Y2, Y3, Y3;      \ // p·2ⁿ
	VCMPPS       $0x11, C(EXPLO), Y0, Y4; \ // x < -87.33654
	VANDNPS      Y3, Y4, Y0

// HMAX256 puts the largest float of Y4 in every lane of X4; Y5 is scratch.
#define HMAX256 \
	VEXTRACTF128 $1, Y4, X5; \
	VMAXPS       X5, X4, X4; \
	VPERMILPS    $0x4e, X4, X5; \
	VMAXPS       X5, X4, X4; \
	VPERMILPS    $0xb1, X4, X5; \
	VMAXPS       X5, X4, X4

// HSUM256 puts the sum of the floats of Y4 in every lane of X4; Y5 is scratch.
#define HSUM256 \
	VEXTRACTF128 $1, Y4, X5; \
	VADDPS       X5, X4, X4; \
	VPERMILPS    $0x4e, X4, X5; \
	VADDPS       X5, X4, X4; \
	VPERMILPS    $0xb1, X4, X5; \
	VADDPS       X5, X4, X4

// TAILMASK256 sets Y12 to the lanes of the last n mod 8 floats, CX to n mod 8 and BX to n
// rounded down to a multiple of 8 (n in SI).
#define TAILMASK256 \
	MOVQ    SI, CX;  \
	ANDQ    $7, CX;  \
	MOVQ    $8, AX;  \
	SUBQ    CX, AX;  \
	LEAQ    rowsTail<>(SB), BX; \
	VMOVUPS (BX)(AX*4), Y12; \
	MOVQ    SI, BX;  \
	ANDQ    $-8, BX

// Register map of softmaxAVX2:
//   DI x;  SI n;  BX n rounded down to 8;  CX n mod 8;  AX index;  DX last start of a step
//   Y15 scale;  Y14 max, then its broadcast;  Y13 Σ;  Y12 tail lanes;  Y11, Y10 -100, 100
//   Y6, Y7 max accumulators;  Y0-Y4 the exponential;  Y4, Y5 horizontal reductions

// func softmaxAVX2(x *float32, n int, scale float32)
// Requires: AVX, AVX2, FMA
TEXT ·softmaxAVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), SI
	VBROADCASTSS scale+16(FP), Y15
	TAILMASK256
	VBROADCASTSS C(CLAMPLO), Y11
	VBROADCASTSS C(CLAMPHI), Y10

	// m = max(scale·x): two accumulators, 16 floats a step.
	VMOVUPS C(NEGINF), Y6
	VMOVUPS Y6, Y7
	XORQ    AX, AX
	LEAQ    -8(BX), DX

max16:
	CMPQ   AX, DX
	JGE    max8
	VMULPS (DI)(AX*4), Y15, Y0
	VMULPS 32(DI)(AX*4), Y15, Y1
	VMAXPS Y0, Y6, Y6
	VMAXPS Y1, Y7, Y7
	ADDQ   $16, AX
	JMP    max16

max8:
	CMPQ   AX, BX
	JGE    maxTail
	VMULPS (DI)(AX*4), Y15, Y0
	VMAXPS Y0, Y6, Y6
	ADDQ   $8, AX

maxTail:
	VMASKMOVPS (DI)(AX*4), Y12, Y0
	VMULPS     Y15, Y0, Y0
	VBLENDVPS  Y12, Y0, Y7, Y0 // lanes past n: Y7's, no new maximum
	VMAXPS     Y0, Y6, Y6
	VMAXPS     Y7, Y6, Y4
	HMAX256
	VBROADCASTSS X4, Y14

	// x = e^(scale·x - m), Σ += x.
	VXORPS Y13, Y13, Y13
	XORQ   AX, AX

exp8:
	CMPQ    AX, BX
	JGE     expTail
	VMULPS  (DI)(AX*4), Y15, Y0
	VSUBPS  Y14, Y0, Y0
	EXP256
	VMOVUPS Y0, (DI)(AX*4)
	VADDPS  Y0, Y13, Y13
	ADDQ    $8, AX
	JMP     exp8

expTail:
	TESTQ      CX, CX
	JZ         sum
	VMASKMOVPS (DI)(AX*4), Y12, Y0
	VMULPS     Y15, Y0, Y0
	VSUBPS     Y14, Y0, Y0
	EXP256
	VANDPS     Y12, Y0, Y0 // 0 past n
	VMASKMOVPS Y0, Y12, (DI)(AX*4)
	VADDPS     Y0, Y13, Y13

sum:
	VMOVAPS      Y13, Y4
	HSUM256
	VMOVSS       C(ONE), X5
	VDIVSS       X4, X5, X5 // 1/Σ
	VBROADCASTSS X5, Y13

	// x *= 1/Σ.
	XORQ AX, AX

scale8:
	CMPQ    AX, BX
	JGE     scaleTail
	VMULPS  (DI)(AX*4), Y13, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     scale8

scaleTail:
	VMASKMOVPS (DI)(AX*4), Y12, Y0
	VMULPS     Y13, Y0, Y0
	VMASKMOVPS Y0, Y12, (DI)(AX*4)
	VZEROUPPER
	RET

// func expAVX2(x *float32, n int)
// Requires: AVX, AVX2, FMA
TEXT ·expAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), SI
	TAILMASK256
	VBROADCASTSS C(CLAMPLO), Y11
	VBROADCASTSS C(CLAMPHI), Y10
	XORQ AX, AX

loop:
	CMPQ    AX, BX
	JGE     tail
	VMOVUPS (DI)(AX*4), Y0
	EXP256
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     loop

tail:
	VMASKMOVPS (DI)(AX*4), Y12, Y0
	EXP256
	VMASKMOVPS Y0, Y12, (DI)(AX*4)
	VZEROUPPER
	RET

// Register map of layerNormAVX2 (the algorithm of layerNormAVX512):
//   DX dst;  DI x;  R8 w;  R9 b;  SI n;  BX n rounded down to 8;  CX last start of a step
//   AX index;  Y12 tail lanes
//   Y0-Y3     accumulators: Σx, then Σd and Σd²;  Y4, Y5 scratch;  Y6, Y7 x, -d
//   Y13       inv;  Y14 m1;  Y15 c;  X8 n, X9 eps

// func layerNormAVX2(dst *float32, x *float32, w *float32, b *float32, n int, eps float32)
// Requires: AVX, AVX2, FMA
TEXT ·layerNormAVX2(SB), NOSPLIT, $0-44
	MOVQ      dst+0(FP), DX
	MOVQ      x+8(FP), DI
	MOVQ      w+16(FP), R8
	MOVQ      b+24(FP), R9
	MOVQ      n+32(FP), SI
	VMOVSS    eps+40(FP), X9
	VXORPS    X8, X8, X8
	VCVTSI2SSQ SI, X8, X8
	TAILMASK256
	LEAQ      -8(BX), CX

	// Σx: two accumulators, 16 floats a step.
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX

sum16:
	CMPQ   AX, CX
	JGE    sum8
	VADDPS (DI)(AX*4), Y0, Y0
	VADDPS 32(DI)(AX*4), Y1, Y1
	ADDQ   $16, AX
	JMP    sum16

sum8:
	CMPQ   AX, BX
	JGE    sumTail
	VADDPS (DI)(AX*4), Y0, Y0
	ADDQ   $8, AX

sumTail:
	VMASKMOVPS (DI)(AX*4), Y12, Y6
	VADDPS     Y6, Y0, Y0
	VADDPS     Y1, Y0, Y4
	HSUM256
	VDIVSS       X8, X4, X4 // m1 = Σx/n
	VBROADCASTSS X4, Y14

	// Σd, Σd²: two of each, 16 floats a step.
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX

dev16:
	CMPQ        AX, CX
	JGE         dev8
	VSUBPS      (DI)(AX*4), Y14, Y6 // -d: its square is the same
	VSUBPS      32(DI)(AX*4), Y14, Y7
	VSUBPS      Y6, Y0, Y0          // Σd
	VSUBPS      Y7, Y1, Y1
	VFMADD231PS Y6, Y6, Y2          // Σd²
	VFMADD231PS Y7, Y7, Y3
	ADDQ        $16, AX
	JMP         dev16

dev8:
	CMPQ        AX, BX
	JGE         devTail
	VSUBPS      (DI)(AX*4), Y14, Y6
	VSUBPS      Y6, Y0, Y0
	VFMADD231PS Y6, Y6, Y2
	ADDQ        $8, AX

devTail:
	VMASKMOVPS   (DI)(AX*4), Y12, Y6
	VSUBPS       Y6, Y14, Y6
	VANDPS       Y12, Y6, Y6 // -d, 0 past n
	VSUBPS       Y6, Y0, Y0
	VFMADD231PS  Y6, Y6, Y2
	VADDPS       Y1, Y0, Y4
	HSUM256
	VDIVSS       X8, X4, X6 // c = Σd/n
	VADDPS       Y3, Y2, Y4
	HSUM256
	VDIVSS       X8, X4, X4 // Σd²/n
	VFNMADD231SS X6, X6, X4 // var = Σd²/n - c²
	VXORPS       X5, X5, X5
	VMAXSS       X5, X4, X4 // var ≥ 0 despite rounding
	VADDSS       X9, X4, X4
	VSQRTSS      X4, X4, X4
	VMOVSS       C(ONE), X5
	VDIVSS       X4, X5, X5
	VBROADCASTSS X5, Y13 // inv
	VBROADCASTSS X6, Y15 // c

	// dst = ((x - m1) - c)·inv·w + b.
	XORQ AX, AX

norm8:
	CMPQ        AX, BX
	JGE         normTail
	VMOVUPS     (DI)(AX*4), Y6
	VSUBPS      Y14, Y6, Y6
	VSUBPS      Y15, Y6, Y6
	VMULPS      Y13, Y6, Y6
	VMOVUPS     (R8)(AX*4), Y7
	VFMADD213PS (R9)(AX*4), Y7, Y6
	VMOVUPS     Y6, (DX)(AX*4)
	ADDQ        $8, AX
	JMP         norm8

normTail:
	VMASKMOVPS  (DI)(AX*4), Y12, Y6
	VMASKMOVPS  (R8)(AX*4), Y12, Y7
	VMASKMOVPS  (R9)(AX*4), Y12, Y5
	VSUBPS      Y14, Y6, Y6
	VSUBPS      Y15, Y6, Y6
	VMULPS      Y13, Y6, Y6
	VFMADD213PS Y5, Y7, Y6
	VMASKMOVPS  Y6, Y12, (DX)(AX*4)
	VZEROUPPER
	RET
