//go:build !purego

#include "textflag.h"

// The NEON micro-kernel of Sgemm: one 6×16 tile of c from six rows of a and one packed panel
// of b, accumulated in float32 in increasing k.
//
// Register map:
//   R0–R5    a0…a5, the six rows of a, advancing with k (rows past `rows` repeat the last one)
//   R6       b, the panel (16 floats per k), advancing with k
//   R7       k/4: blocks of four k left
//   R8       k%4: single k left
//   R9       c, the output row being stored
//   R10      ldc in bytes
//   R11      bias (16 floats), read when flags&neonBias
//   R12      flags (neonBias = 1, neonAccumulate = 2)
//   R13      rows, 1…6
//   R14      lda in bytes
//   R15      scratch
//   V0–V23   accumulators: V(4i+q) = acc[i][4q:4q+4]
//   V24–V29  a_i[k:k+4], one row each (lane l is k+l); in the epilogue V24–V27 hold the bias
//   V30–V31  b[k][0:8], then b[k][8:16]; in the epilogue V28–V31 hold a row of c
//
// The Go assembler has neither FMLA by element nor vector FADD: they are WORDs, with the
// instruction in a comment (GNU syntax; Go's objdump prints FMLA by element as VFMLA).

// KSTEP0 loads b[k+0] and adds a_i[k+0] (lane 0 of V24–V29) · b[k+0] to every accumulator:
// for i := range 6 { acc[i][0:16] += a_i[k+0] * b[k+0][0:16] }; b += 16.
#define KSTEP0 \
	VLD1.P 32(R6), [V30.S4, V31.S4] \
	WORD $0x4f9813c0 /* FMLA V0.4S, V30.4S, V24.S[0] */ \
	WORD $0x4f9813e1 /* FMLA V1.4S, V31.4S, V24.S[0] */ \
	WORD $0x4f9913c4 /* FMLA V4.4S, V30.4S, V25.S[0] */ \
	WORD $0x4f9913e5 /* FMLA V5.4S, V31.4S, V25.S[0] */ \
	WORD $0x4f9a13c8 /* FMLA V8.4S, V30.4S, V26.S[0] */ \
	WORD $0x4f9a13e9 /* FMLA V9.4S, V31.4S, V26.S[0] */ \
	WORD $0x4f9b13cc /* FMLA V12.4S, V30.4S, V27.S[0] */ \
	WORD $0x4f9b13ed /* FMLA V13.4S, V31.4S, V27.S[0] */ \
	WORD $0x4f9c13d0 /* FMLA V16.4S, V30.4S, V28.S[0] */ \
	WORD $0x4f9c13f1 /* FMLA V17.4S, V31.4S, V28.S[0] */ \
	WORD $0x4f9d13d4 /* FMLA V20.4S, V30.4S, V29.S[0] */ \
	WORD $0x4f9d13f5 /* FMLA V21.4S, V31.4S, V29.S[0] */ \
	VLD1.P 32(R6), [V30.S4, V31.S4] \
	WORD $0x4f9813c2 /* FMLA V2.4S, V30.4S, V24.S[0] */ \
	WORD $0x4f9813e3 /* FMLA V3.4S, V31.4S, V24.S[0] */ \
	WORD $0x4f9913c6 /* FMLA V6.4S, V30.4S, V25.S[0] */ \
	WORD $0x4f9913e7 /* FMLA V7.4S, V31.4S, V25.S[0] */ \
	WORD $0x4f9a13ca /* FMLA V10.4S, V30.4S, V26.S[0] */ \
	WORD $0x4f9a13eb /* FMLA V11.4S, V31.4S, V26.S[0] */ \
	WORD $0x4f9b13ce /* FMLA V14.4S, V30.4S, V27.S[0] */ \
	WORD $0x4f9b13ef /* FMLA V15.4S, V31.4S, V27.S[0] */ \
	WORD $0x4f9c13d2 /* FMLA V18.4S, V30.4S, V28.S[0] */ \
	WORD $0x4f9c13f3 /* FMLA V19.4S, V31.4S, V28.S[0] */ \
	WORD $0x4f9d13d6 /* FMLA V22.4S, V30.4S, V29.S[0] */ \
	WORD $0x4f9d13f7 /* FMLA V23.4S, V31.4S, V29.S[0] */

// KSTEP1 loads b[k+1] and adds a_i[k+1] (lane 1 of V24–V29) · b[k+1] to every accumulator:
// for i := range 6 { acc[i][0:16] += a_i[k+1] * b[k+1][0:16] }; b += 16.
#define KSTEP1 \
	VLD1.P 32(R6), [V30.S4, V31.S4] \
	WORD $0x4fb813c0 /* FMLA V0.4S, V30.4S, V24.S[1] */ \
	WORD $0x4fb813e1 /* FMLA V1.4S, V31.4S, V24.S[1] */ \
	WORD $0x4fb913c4 /* FMLA V4.4S, V30.4S, V25.S[1] */ \
	WORD $0x4fb913e5 /* FMLA V5.4S, V31.4S, V25.S[1] */ \
	WORD $0x4fba13c8 /* FMLA V8.4S, V30.4S, V26.S[1] */ \
	WORD $0x4fba13e9 /* FMLA V9.4S, V31.4S, V26.S[1] */ \
	WORD $0x4fbb13cc /* FMLA V12.4S, V30.4S, V27.S[1] */ \
	WORD $0x4fbb13ed /* FMLA V13.4S, V31.4S, V27.S[1] */ \
	WORD $0x4fbc13d0 /* FMLA V16.4S, V30.4S, V28.S[1] */ \
	WORD $0x4fbc13f1 /* FMLA V17.4S, V31.4S, V28.S[1] */ \
	WORD $0x4fbd13d4 /* FMLA V20.4S, V30.4S, V29.S[1] */ \
	WORD $0x4fbd13f5 /* FMLA V21.4S, V31.4S, V29.S[1] */ \
	VLD1.P 32(R6), [V30.S4, V31.S4] \
	WORD $0x4fb813c2 /* FMLA V2.4S, V30.4S, V24.S[1] */ \
	WORD $0x4fb813e3 /* FMLA V3.4S, V31.4S, V24.S[1] */ \
	WORD $0x4fb913c6 /* FMLA V6.4S, V30.4S, V25.S[1] */ \
	WORD $0x4fb913e7 /* FMLA V7.4S, V31.4S, V25.S[1] */ \
	WORD $0x4fba13ca /* FMLA V10.4S, V30.4S, V26.S[1] */ \
	WORD $0x4fba13eb /* FMLA V11.4S, V31.4S, V26.S[1] */ \
	WORD $0x4fbb13ce /* FMLA V14.4S, V30.4S, V27.S[1] */ \
	WORD $0x4fbb13ef /* FMLA V15.4S, V31.4S, V27.S[1] */ \
	WORD $0x4fbc13d2 /* FMLA V18.4S, V30.4S, V28.S[1] */ \
	WORD $0x4fbc13f3 /* FMLA V19.4S, V31.4S, V28.S[1] */ \
	WORD $0x4fbd13d6 /* FMLA V22.4S, V30.4S, V29.S[1] */ \
	WORD $0x4fbd13f7 /* FMLA V23.4S, V31.4S, V29.S[1] */

// KSTEP2 loads b[k+2] and adds a_i[k+2] (lane 2 of V24–V29) · b[k+2] to every accumulator:
// for i := range 6 { acc[i][0:16] += a_i[k+2] * b[k+2][0:16] }; b += 16.
#define KSTEP2 \
	VLD1.P 32(R6), [V30.S4, V31.S4] \
	WORD $0x4f981bc0 /* FMLA V0.4S, V30.4S, V24.S[2] */ \
	WORD $0x4f981be1 /* FMLA V1.4S, V31.4S, V24.S[2] */ \
	WORD $0x4f991bc4 /* FMLA V4.4S, V30.4S, V25.S[2] */ \
	WORD $0x4f991be5 /* FMLA V5.4S, V31.4S, V25.S[2] */ \
	WORD $0x4f9a1bc8 /* FMLA V8.4S, V30.4S, V26.S[2] */ \
	WORD $0x4f9a1be9 /* FMLA V9.4S, V31.4S, V26.S[2] */ \
	WORD $0x4f9b1bcc /* FMLA V12.4S, V30.4S, V27.S[2] */ \
	WORD $0x4f9b1bed /* FMLA V13.4S, V31.4S, V27.S[2] */ \
	WORD $0x4f9c1bd0 /* FMLA V16.4S, V30.4S, V28.S[2] */ \
	WORD $0x4f9c1bf1 /* FMLA V17.4S, V31.4S, V28.S[2] */ \
	WORD $0x4f9d1bd4 /* FMLA V20.4S, V30.4S, V29.S[2] */ \
	WORD $0x4f9d1bf5 /* FMLA V21.4S, V31.4S, V29.S[2] */ \
	VLD1.P 32(R6), [V30.S4, V31.S4] \
	WORD $0x4f981bc2 /* FMLA V2.4S, V30.4S, V24.S[2] */ \
	WORD $0x4f981be3 /* FMLA V3.4S, V31.4S, V24.S[2] */ \
	WORD $0x4f991bc6 /* FMLA V6.4S, V30.4S, V25.S[2] */ \
	WORD $0x4f991be7 /* FMLA V7.4S, V31.4S, V25.S[2] */ \
	WORD $0x4f9a1bca /* FMLA V10.4S, V30.4S, V26.S[2] */ \
	WORD $0x4f9a1beb /* FMLA V11.4S, V31.4S, V26.S[2] */ \
	WORD $0x4f9b1bce /* FMLA V14.4S, V30.4S, V27.S[2] */ \
	WORD $0x4f9b1bef /* FMLA V15.4S, V31.4S, V27.S[2] */ \
	WORD $0x4f9c1bd2 /* FMLA V18.4S, V30.4S, V28.S[2] */ \
	WORD $0x4f9c1bf3 /* FMLA V19.4S, V31.4S, V28.S[2] */ \
	WORD $0x4f9d1bd6 /* FMLA V22.4S, V30.4S, V29.S[2] */ \
	WORD $0x4f9d1bf7 /* FMLA V23.4S, V31.4S, V29.S[2] */

// KSTEP3 loads b[k+3] and adds a_i[k+3] (lane 3 of V24–V29) · b[k+3] to every accumulator:
// for i := range 6 { acc[i][0:16] += a_i[k+3] * b[k+3][0:16] }; b += 16.
#define KSTEP3 \
	VLD1.P 32(R6), [V30.S4, V31.S4] \
	WORD $0x4fb81bc0 /* FMLA V0.4S, V30.4S, V24.S[3] */ \
	WORD $0x4fb81be1 /* FMLA V1.4S, V31.4S, V24.S[3] */ \
	WORD $0x4fb91bc4 /* FMLA V4.4S, V30.4S, V25.S[3] */ \
	WORD $0x4fb91be5 /* FMLA V5.4S, V31.4S, V25.S[3] */ \
	WORD $0x4fba1bc8 /* FMLA V8.4S, V30.4S, V26.S[3] */ \
	WORD $0x4fba1be9 /* FMLA V9.4S, V31.4S, V26.S[3] */ \
	WORD $0x4fbb1bcc /* FMLA V12.4S, V30.4S, V27.S[3] */ \
	WORD $0x4fbb1bed /* FMLA V13.4S, V31.4S, V27.S[3] */ \
	WORD $0x4fbc1bd0 /* FMLA V16.4S, V30.4S, V28.S[3] */ \
	WORD $0x4fbc1bf1 /* FMLA V17.4S, V31.4S, V28.S[3] */ \
	WORD $0x4fbd1bd4 /* FMLA V20.4S, V30.4S, V29.S[3] */ \
	WORD $0x4fbd1bf5 /* FMLA V21.4S, V31.4S, V29.S[3] */ \
	VLD1.P 32(R6), [V30.S4, V31.S4] \
	WORD $0x4fb81bc2 /* FMLA V2.4S, V30.4S, V24.S[3] */ \
	WORD $0x4fb81be3 /* FMLA V3.4S, V31.4S, V24.S[3] */ \
	WORD $0x4fb91bc6 /* FMLA V6.4S, V30.4S, V25.S[3] */ \
	WORD $0x4fb91be7 /* FMLA V7.4S, V31.4S, V25.S[3] */ \
	WORD $0x4fba1bca /* FMLA V10.4S, V30.4S, V26.S[3] */ \
	WORD $0x4fba1beb /* FMLA V11.4S, V31.4S, V26.S[3] */ \
	WORD $0x4fbb1bce /* FMLA V14.4S, V30.4S, V27.S[3] */ \
	WORD $0x4fbb1bef /* FMLA V15.4S, V31.4S, V27.S[3] */ \
	WORD $0x4fbc1bd2 /* FMLA V18.4S, V30.4S, V28.S[3] */ \
	WORD $0x4fbc1bf3 /* FMLA V19.4S, V31.4S, V28.S[3] */ \
	WORD $0x4fbd1bd6 /* FMLA V22.4S, V30.4S, V29.S[3] */ \
	WORD $0x4fbd1bf7 /* FMLA V23.4S, V31.4S, V29.S[3] */

// ADD_BIAS adds the bias (V24–V27) to every accumulator: acc[i][0:16] += bias[0:16].
#define ADD_BIAS \
	WORD $0x4e38d400 /* FADD V0.4S, V0.4S, V24.4S */ \
	WORD $0x4e39d421 /* FADD V1.4S, V1.4S, V25.4S */ \
	WORD $0x4e3ad442 /* FADD V2.4S, V2.4S, V26.4S */ \
	WORD $0x4e3bd463 /* FADD V3.4S, V3.4S, V27.4S */ \
	WORD $0x4e38d484 /* FADD V4.4S, V4.4S, V24.4S */ \
	WORD $0x4e39d4a5 /* FADD V5.4S, V5.4S, V25.4S */ \
	WORD $0x4e3ad4c6 /* FADD V6.4S, V6.4S, V26.4S */ \
	WORD $0x4e3bd4e7 /* FADD V7.4S, V7.4S, V27.4S */ \
	WORD $0x4e38d508 /* FADD V8.4S, V8.4S, V24.4S */ \
	WORD $0x4e39d529 /* FADD V9.4S, V9.4S, V25.4S */ \
	WORD $0x4e3ad54a /* FADD V10.4S, V10.4S, V26.4S */ \
	WORD $0x4e3bd56b /* FADD V11.4S, V11.4S, V27.4S */ \
	WORD $0x4e38d58c /* FADD V12.4S, V12.4S, V24.4S */ \
	WORD $0x4e39d5ad /* FADD V13.4S, V13.4S, V25.4S */ \
	WORD $0x4e3ad5ce /* FADD V14.4S, V14.4S, V26.4S */ \
	WORD $0x4e3bd5ef /* FADD V15.4S, V15.4S, V27.4S */ \
	WORD $0x4e38d610 /* FADD V16.4S, V16.4S, V24.4S */ \
	WORD $0x4e39d631 /* FADD V17.4S, V17.4S, V25.4S */ \
	WORD $0x4e3ad652 /* FADD V18.4S, V18.4S, V26.4S */ \
	WORD $0x4e3bd673 /* FADD V19.4S, V19.4S, V27.4S */ \
	WORD $0x4e38d694 /* FADD V20.4S, V20.4S, V24.4S */ \
	WORD $0x4e39d6b5 /* FADD V21.4S, V21.4S, V25.4S */ \
	WORD $0x4e3ad6d6 /* FADD V22.4S, V22.4S, V26.4S */ \
	WORD $0x4e3bd6f7 /* FADD V23.4S, V23.4S, V27.4S */

// ADD_Ci adds row i of c (V28–V31) to its accumulators: acc[i][0:16] += c[i][0:16].
#define ADD_C0 \
	WORD $0x4e3cd400 /* FADD V0.4S, V0.4S, V28.4S */ \
	WORD $0x4e3dd421 /* FADD V1.4S, V1.4S, V29.4S */ \
	WORD $0x4e3ed442 /* FADD V2.4S, V2.4S, V30.4S */ \
	WORD $0x4e3fd463 /* FADD V3.4S, V3.4S, V31.4S */
#define ADD_C1 \
	WORD $0x4e3cd484 /* FADD V4.4S, V4.4S, V28.4S */ \
	WORD $0x4e3dd4a5 /* FADD V5.4S, V5.4S, V29.4S */ \
	WORD $0x4e3ed4c6 /* FADD V6.4S, V6.4S, V30.4S */ \
	WORD $0x4e3fd4e7 /* FADD V7.4S, V7.4S, V31.4S */
#define ADD_C2 \
	WORD $0x4e3cd508 /* FADD V8.4S, V8.4S, V28.4S */ \
	WORD $0x4e3dd529 /* FADD V9.4S, V9.4S, V29.4S */ \
	WORD $0x4e3ed54a /* FADD V10.4S, V10.4S, V30.4S */ \
	WORD $0x4e3fd56b /* FADD V11.4S, V11.4S, V31.4S */
#define ADD_C3 \
	WORD $0x4e3cd58c /* FADD V12.4S, V12.4S, V28.4S */ \
	WORD $0x4e3dd5ad /* FADD V13.4S, V13.4S, V29.4S */ \
	WORD $0x4e3ed5ce /* FADD V14.4S, V14.4S, V30.4S */ \
	WORD $0x4e3fd5ef /* FADD V15.4S, V15.4S, V31.4S */
#define ADD_C4 \
	WORD $0x4e3cd610 /* FADD V16.4S, V16.4S, V28.4S */ \
	WORD $0x4e3dd631 /* FADD V17.4S, V17.4S, V29.4S */ \
	WORD $0x4e3ed652 /* FADD V18.4S, V18.4S, V30.4S */ \
	WORD $0x4e3fd673 /* FADD V19.4S, V19.4S, V31.4S */
#define ADD_C5 \
	WORD $0x4e3cd694 /* FADD V20.4S, V20.4S, V28.4S */ \
	WORD $0x4e3dd6b5 /* FADD V21.4S, V21.4S, V29.4S */ \
	WORD $0x4e3ed6d6 /* FADD V22.4S, V22.4S, V30.4S */ \
	WORD $0x4e3fd6f7 /* FADD V23.4S, V23.4S, V31.4S */

// STORE_ROW stores acc[i] (Va–Vd) to c, first adding c when flags&neonAccumulate.
#define STORE_ROW(addc, va, vb, vc, vd, skip) \
	TBZ  $1, R12, skip \
	VLD1 (R9), [V28.S4, V29.S4, V30.S4, V31.S4] \
	addc \
skip: \
	VST1 [va.S4, vb.S4, vc.S4, vd.S4], (R9)

// func sgemm6x16NEON(a *float32, lda, rows int, b *float32, k int, c *float32, ldc int, bias *float32, flags int)
// Requires: ASIMD (every ARMv8-A CPU)
TEXT ·sgemm6x16NEON(SB), NOSPLIT, $0-72
	MOVD a+0(FP), R0
	MOVD lda+8(FP), R14
	MOVD rows+16(FP), R13
	MOVD b+24(FP), R6
	MOVD k+32(FP), R7
	MOVD c+40(FP), R9
	MOVD ldc+48(FP), R10
	MOVD bias+56(FP), R11
	MOVD flags+64(FP), R12
	LSL  $2, R14      // lda *= 4
	LSL  $2, R10      // ldc *= 4
	AND  $3, R7, R8   // R8 = k % 4
	LSR  $2, R7       // R7 = k / 4

	// a_i = a_{i-1} + lda if i < rows, else a_{i-1}: missing rows repeat the last one, whose
	// results are not stored.
	ADD  R14, R0, R15
	CMP  $1, R13
	CSEL GT, R15, R0, R1
	ADD  R14, R1, R15
	CMP  $2, R13
	CSEL GT, R15, R1, R2
	ADD  R14, R2, R15
	CMP  $3, R13
	CSEL GT, R15, R2, R3
	ADD  R14, R3, R15
	CMP  $4, R13
	CSEL GT, R15, R3, R4
	ADD  R14, R4, R15
	CMP  $5, R13
	CSEL GT, R15, R4, R5

	// acc = 0
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16

	CBZ R7, single

	// Four k per iteration: one 16-byte load per row of a, four KSTEPs.
quad:
	VLD1.P 16(R0), [V24.S4]
	VLD1.P 16(R1), [V25.S4]
	VLD1.P 16(R2), [V26.S4]
	VLD1.P 16(R3), [V27.S4]
	VLD1.P 16(R4), [V28.S4]
	VLD1.P 16(R5), [V29.S4]
	KSTEP0
	KSTEP1
	KSTEP2
	KSTEP3
	SUBS $1, R7
	BNE  quad

single:
	// The last k%4: lane 0 only (FMOVS zeroes the other lanes).
	CBZ R8, epilogue

singleLoop:
	FMOVS.P 4(R0), F24
	FMOVS.P 4(R1), F25
	FMOVS.P 4(R2), F26
	FMOVS.P 4(R3), F27
	FMOVS.P 4(R4), F28
	FMOVS.P 4(R5), F29
	KSTEP0
	SUBS $1, R8
	BNE  singleLoop

epilogue:
	// acc += bias
	TBZ  $0, R12, store
	VLD1 (R11), [V24.S4, V25.S4, V26.S4, V27.S4]
	ADD_BIAS

store:
	// Rows 0…rows-1 only, one ldc apart.
	STORE_ROW(ADD_C0, V0, V1, V2, V3, store0)
	CMP  $2, R13
	BLT  done
	ADD  R10, R9
	STORE_ROW(ADD_C1, V4, V5, V6, V7, store1)
	CMP  $3, R13
	BLT  done
	ADD  R10, R9
	STORE_ROW(ADD_C2, V8, V9, V10, V11, store2)
	CMP  $4, R13
	BLT  done
	ADD  R10, R9
	STORE_ROW(ADD_C3, V12, V13, V14, V15, store3)
	CMP  $5, R13
	BLT  done
	ADD  R10, R9
	STORE_ROW(ADD_C4, V16, V17, V18, V19, store4)
	CMP  $6, R13
	BLT  done
	ADD  R10, R9
	STORE_ROW(ADD_C5, V20, V21, V22, V23, store5)

done:
	RET
