//go:build !purego

#include "textflag.h"
#include "lowp_arm64.h"

// The NEON micro-kernels of GemmBF16 and GemmInt8: each call computes one tile of c from a few
// packed rows of A (astride bytes apart, rows past the product's zero) and one panel of B, over
// a range of k, and stores it to a scratch tile (16 values a row, contiguous); Go adds the
// bias, the int8 scales and the epilogue. With acc ≠ 0 the tile's contents are the starting
// sums (a range of k split over several calls).
//
// Instructions of the inner loops (go tool objdump), per 768 multiply-adds (8 k of a 6×16 tile):
//   lowpBF16NEON6x16   272: 192 FMLA, 48 SHL/BIC (widening b), 28 loads, 4 loop  (0.354 a MAC)
//   lowpBF16BFDOT6x16  112:  96 BFDOT, 14 loads, 2 loop                          (0.146)
//   lowpInt8SMULL2x16  222: 96 SMULL/SMULL2, 96 SADALP, 18 loads, 12 loop (2×16) (0.289)
//   lowpInt8SDOT6x16    56:  48 SDOT, 7 loads, 1 loop                            (0.073)
//   lowpInt8SMMLA6x16   39:  24 SMMLA, 8 ZIP1/ZIP2 (b's 4-k groups into 8-k runs),
//                            5 loads, 2 loop                                     (0.051)
//
// Register map of lowpBF16NEON6x16:
//   R0-R5    a0…a5, the six rows of A (float32, rounded to bfloat16), advancing with k
//   R6       b, the panel (16 columns × 2 k of bfloat16 per 64 bytes), advancing with k
//   R7       pairs of k pairs left; R8 a last single pair
//   R9       the tile (6×16 floats)
//   R10      acc; R11 scratch; R14 astride
//   V0-V23   accumulators: V(4i+q) = row i, columns 4q…4q+3
//   V24-V29  a_i[k:k+4] (lanes 0, 1: one pair; 2, 3: the next)
//   V30      4 columns of b as pairs, then the odd k of them (low halves cleared)
//   V31      the even k of them (b << 16)
//
// Register map of lowpInt8SDOT6x16 (FEAT_DotProd):
//   R0-R5    the six rows of A (signed bytes: u - 128), advancing with k
//   R6       b, the panel (16 columns × 4 k of signed bytes per 64 bytes), advancing with k
//   R7       groups of 16 k left; R8 groups of 4 k after them
//   R9       the tile (6×16 int32); R10 acc; R11 scratch; R14 astride
//   V0-V23   accumulators: V(4i+q) = row i, columns 4q…4q+3
//   V24-V29  a_i[k:k+16] (byte lanes 4g…4g+3: the k group g)
//   V30, V31 8 columns of b × 4 k
//
// Register map of lowpBF16BFDOT6x16 (FEAT_BF16):
//   R0-R5    the six rows of A (bfloat16), advancing with k
//   R6       b, the panel (16 columns × 2 k of bfloat16 per 64 bytes), advancing with k
//   R7       groups of 4 pairs of k left; R8 single pairs after them
//   R9       the tile (6×16 floats); R10 acc; R11 scratch; R14 astride
//   V0-V23   accumulators: V(4i+q) = row i, columns 4q…4q+3
//   V24-V29  a_i[k:k+8] (32-bit lane g: the pair of k g)
//   V30, V31 8 columns of b × one pair of k
//
// Register map of lowpInt8SMMLA6x16 (FEAT_I8MM):
//   R0       A, the six rows interleaved: 48 bytes per 8 k (see the kernel), advancing with k
//   R6       b at the even group of 4 k of the current 8 k, R7 at the odd one (R6 + 64)
//   R8       blocks of 8 k left; R13 1 if a last lone group of 4 k follows
//   R9       the tile (6×16 int32); R10 acc; R11 scratch; R12 96 (the stride to the next 8 k)
//   V0-V23   accumulators: V(8p+c) = the 2×2 block of rows 2p, 2p+1 × columns 2c, 2c+1
//            (lanes: (2p, 2c), (2p, 2c+1), (2p+1, 2c), (2p+1, 2c+1))
//   V24-V26  A's row pairs p = 0, 1, 2 × 8 k (row 2p in bytes 0-7, row 2p+1 in 8-15)
//   V27, V28 columns 0-3 and 4-7 (then 8-11 and 12-15) of b × the even group of 4 k (4 bytes
//            a column); after MMQ's ZIP2, the second column pair of each × 8 k
//   V29, V30 the same columns × the odd group of 4 k
//   V31      MMQ's ZIP1: the first column pair of V27 (V28) and V29 (V30) × 8 k (8 bytes a column)
//   (V24-V31 are also the scratch rows of the tile when loading and storing it)
//
// Register map of lowpInt8SMULL2x16 (every ARMv8-A):
//   R0, R1   the two rows of A (signed bytes), advancing with k
//   R6       b; R7 groups of 4 k left; R9 the tile (2×16 int32); R10 acc; R14 astride
//   V0-V15   accumulators: V(8i+2q) = row i, columns 4q, 4q+1 (two partial sums each),
//            V(8i+2q+1) columns 4q+2, 4q+3
//   V16, V17 a_i[k:k+4] repeated in each lane
//   V20-V23  b[k:k+4][0:16]
//   V24, V25 products (int16); V26-V29 a row of sums when storing; V16-V19 the tile's row

// BPAIRQ adds b[k][4q:4q+4]·a_i[k] (lane e) and b[k+1][4q:4q+4]·a_i[k+1] (lane o) to row i's
// accumulators V(4i+q), i < 6.
#define BPAIRQ(q, e, o) \
	VLD1.P 16(R6), [V30.S4] \
	SHL16_4S(31, 30) \
	FMLA_E(0+(q), 31, 24, e) \
	FMLA_E(4+(q), 31, 25, e) \
	FMLA_E(8+(q), 31, 26, e) \
	FMLA_E(12+(q), 31, 27, e) \
	FMLA_E(16+(q), 31, 28, e) \
	FMLA_E(20+(q), 31, 29, e) \
	BIC_LO16(30) \
	FMLA_E(0+(q), 30, 24, o) \
	FMLA_E(4+(q), 30, 25, o) \
	FMLA_E(8+(q), 30, 26, o) \
	FMLA_E(12+(q), 30, 27, o) \
	FMLA_E(16+(q), 30, 28, o) \
	FMLA_E(20+(q), 30, 29, o)

// BPAIR is one pair of k (lanes e, o of V24-V29) for all 16 columns.
#define BPAIR(e, o) BPAIRQ(0, e, o) BPAIRQ(1, e, o) BPAIRQ(2, e, o) BPAIRQ(3, e, o)

// DGROUP adds, with OP (SDOT_E or BFDOT_E), the k group g (bytes 4g…4g+3 of V24-V29: 4 k of
// signed bytes, or one pair of k in bfloat16) of the six rows times the 16 columns of the next
// 64 bytes of b (4 columns a register).
#define DGROUP(OP, g) \
	VLD1.P 32(R6), [V30.B16, V31.B16] \
	OP(0, 30, 24, g) \
	OP(1, 31, 24, g) \
	OP(4, 30, 25, g) \
	OP(5, 31, 25, g) \
	OP(8, 30, 26, g) \
	OP(9, 31, 26, g) \
	OP(12, 30, 27, g) \
	OP(13, 31, 27, g) \
	OP(16, 30, 28, g) \
	OP(17, 31, 28, g) \
	OP(20, 30, 29, g) \
	OP(21, 31, 29, g) \
	VLD1.P 32(R6), [V30.B16, V31.B16] \
	OP(2, 30, 24, g) \
	OP(3, 31, 24, g) \
	OP(6, 30, 25, g) \
	OP(7, 31, 25, g) \
	OP(10, 30, 26, g) \
	OP(11, 31, 26, g) \
	OP(14, 30, 27, g) \
	OP(15, 31, 27, g) \
	OP(18, 30, 28, g) \
	OP(19, 31, 28, g) \
	OP(22, 30, 29, g) \
	OP(23, 31, 29, g)

// ROWS6 sets R1-R5 to the rows after R0, R14 bytes apart.
#define ROWS6 \
	ADD R14, R0, R1 \
	ADD R14, R1, R2 \
	ADD R14, R2, R3 \
	ADD R14, R3, R4 \
	ADD R14, R4, R5

// ZERO24 clears the accumulators V0-V23.
#define ZERO24 \
	VEOR V0.B16, V0.B16, V0.B16 \
	VEOR V1.B16, V1.B16, V1.B16 \
	VEOR V2.B16, V2.B16, V2.B16 \
	VEOR V3.B16, V3.B16, V3.B16 \
	VEOR V4.B16, V4.B16, V4.B16 \
	VEOR V5.B16, V5.B16, V5.B16 \
	VEOR V6.B16, V6.B16, V6.B16 \
	VEOR V7.B16, V7.B16, V7.B16 \
	VEOR V8.B16, V8.B16, V8.B16 \
	VEOR V9.B16, V9.B16, V9.B16 \
	VEOR V10.B16, V10.B16, V10.B16 \
	VEOR V11.B16, V11.B16, V11.B16 \
	VEOR V12.B16, V12.B16, V12.B16 \
	VEOR V13.B16, V13.B16, V13.B16 \
	VEOR V14.B16, V14.B16, V14.B16 \
	VEOR V15.B16, V15.B16, V15.B16 \
	VEOR V16.B16, V16.B16, V16.B16 \
	VEOR V17.B16, V17.B16, V17.B16 \
	VEOR V18.B16, V18.B16, V18.B16 \
	VEOR V19.B16, V19.B16, V19.B16 \
	VEOR V20.B16, V20.B16, V20.B16 \
	VEOR V21.B16, V21.B16, V21.B16 \
	VEOR V22.B16, V22.B16, V22.B16 \
	VEOR V23.B16, V23.B16, V23.B16

// INIT24 sets the accumulators V0-V23 to the tile at R9 (acc ≠ 0) or to zero.
#define INIT24(zero, done) \
	CBZ    R10, zero \
	MOVD   R9, R11 \
	VLD1.P 64(R11), [V0.S4, V1.S4, V2.S4, V3.S4] \
	VLD1.P 64(R11), [V4.S4, V5.S4, V6.S4, V7.S4] \
	VLD1.P 64(R11), [V8.S4, V9.S4, V10.S4, V11.S4] \
	VLD1.P 64(R11), [V12.S4, V13.S4, V14.S4, V15.S4] \
	VLD1.P 64(R11), [V16.S4, V17.S4, V18.S4, V19.S4] \
	VLD1   (R11), [V20.S4, V21.S4, V22.S4, V23.S4] \
	B      done \
zero: \
	ZERO24 \
done:

// STORE24 writes the accumulators to the tile at R9.
#define STORE24 \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R9) \
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R9) \
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], 64(R9) \
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], 64(R9) \
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], 64(R9) \
	VST1   [V20.S4, V21.S4, V22.S4, V23.S4], (R9)

// KSTART loads the arguments common to the kernels.
#define KSTART \
	MOVD a+0(FP), R0 \
	MOVD astride+8(FP), R14 \
	MOVD b+16(FP), R6 \
	MOVD c+32(FP), R9 \
	MOVD acc+40(FP), R10

// func lowpBF16NEON6x16(a *float32, astride int, b *uint16, kp int, c *float32, acc int)
// The tile of 6 rows × 16 columns over kp pairs of k: c[i][j] (+)= Σ_kk a_i[kk]·bf16(b[kk][j]),
// accumulated in float32 in increasing k (b[kk][j] at b[32(kk/2) + 2j + kk%2]).
// Requires: ASIMD (every ARMv8-A CPU)
TEXT ·lowpBF16NEON6x16(SB), NOSPLIT, $0-48
	KSTART
	MOVD kp+24(FP), R7
	ROWS6
	AND  $1, R7, R8              // R8 = kp % 2
	LSR  $1, R7                  // R7 = kp / 2
	INIT24(bzero, binit)
	CBZ  R7, btail

bloop:
	VLD1.P 16(R0), [V24.S4]
	VLD1.P 16(R1), [V25.S4]
	VLD1.P 16(R2), [V26.S4]
	VLD1.P 16(R3), [V27.S4]
	VLD1.P 16(R4), [V28.S4]
	VLD1.P 16(R5), [V29.S4]
	BPAIR(0, 1)
	BPAIR(2, 3)
	SUBS $1, R7
	BNE  bloop

btail:
	CBZ     R8, bstore
	FMOVD.P 8(R0), F24           // lanes 0, 1: the last pair
	FMOVD.P 8(R1), F25
	FMOVD.P 8(R2), F26
	FMOVD.P 8(R3), F27
	FMOVD.P 8(R4), F28
	FMOVD.P 8(R5), F29
	BPAIR(0, 1)

bstore:
	STORE24
	RET

// func lowpBF16BFDOT6x16(a *uint16, astride int, b *uint16, kp int, c *float32, acc int)
// The tile of 6 rows × 16 columns over kp pairs of k, as lowpBF16NEON6x16 but with a's rows in
// bfloat16 and BFDOT (FEAT_BF16): each BFDOT adds one pair of k for 4 columns of one row, the
// two products and their sum rounded to float32, then the accumulation, all rounded to odd with
// denormals flushed to zero (FPCR.EBF = 0: Arm ARM C7.2.16). In increasing pairs of k.
// Requires: ASIMD, BF16
TEXT ·lowpBF16BFDOT6x16(SB), NOSPLIT, $0-48
	KSTART
	MOVD kp+24(FP), R7
	ROWS6
	AND  $3, R7, R8              // R8 = kp % 4
	LSR  $2, R7                  // R7 = kp / 4
	INIT24(dzero, dinit)
	CBZ  R7, dtail

dloop:
	VLD1.P 16(R0), [V24.H8]
	VLD1.P 16(R1), [V25.H8]
	VLD1.P 16(R2), [V26.H8]
	VLD1.P 16(R3), [V27.H8]
	VLD1.P 16(R4), [V28.H8]
	VLD1.P 16(R5), [V29.H8]
	DGROUP(BFDOT_E, 0)
	DGROUP(BFDOT_E, 1)
	DGROUP(BFDOT_E, 2)
	DGROUP(BFDOT_E, 3)
	SUBS $1, R7
	BNE  dloop

dtail:
	CBZ R8, dstore

dtailloop:
	FMOVS.P 4(R0), F24           // lane 0: one pair of k
	FMOVS.P 4(R1), F25
	FMOVS.P 4(R2), F26
	FMOVS.P 4(R3), F27
	FMOVS.P 4(R4), F28
	FMOVS.P 4(R5), F29
	DGROUP(BFDOT_E, 0)
	SUBS $1, R8
	BNE  dtailloop

dstore:
	STORE24
	RET

// func lowpInt8SDOT6x16(a *int8, astride int, b *int8, k4 int, c *int32, acc int)
// The tile of 6 rows × 16 columns over k4 groups of 4 k: c[i][j] (+)= Σ_kk a_i[kk]·b[kk][j]
// in int32 (b[kk][j] at b[64(kk/4) + 4j + kk%4]).
// Requires: ASIMD, DotProd
TEXT ·lowpInt8SDOT6x16(SB), NOSPLIT, $0-48
	KSTART
	MOVD k4+24(FP), R7
	ROWS6
	AND  $3, R7, R8              // R8 = k4 % 4
	LSR  $2, R7                  // R7 = k4 / 4
	INIT24(szero, sinit)
	CBZ  R7, stail

sloop:
	VLD1.P 16(R0), [V24.B16]
	VLD1.P 16(R1), [V25.B16]
	VLD1.P 16(R2), [V26.B16]
	VLD1.P 16(R3), [V27.B16]
	VLD1.P 16(R4), [V28.B16]
	VLD1.P 16(R5), [V29.B16]
	DGROUP(SDOT_E, 0)
	DGROUP(SDOT_E, 1)
	DGROUP(SDOT_E, 2)
	DGROUP(SDOT_E, 3)
	SUBS $1, R7
	BNE  sloop

stail:
	CBZ R8, sstore

stailloop:
	FMOVS.P 4(R0), F24           // lane 0: one group of 4 k
	FMOVS.P 4(R1), F25
	FMOVS.P 4(R2), F26
	FMOVS.P 4(R3), F27
	FMOVS.P 4(R4), F28
	FMOVS.P 4(R5), F29
	DGROUP(SDOT_E, 0)
	SUBS $1, R8
	BNE  stailloop

sstore:
	STORE24
	RET

// MQ multiplies columns 4q…4q+3 of b (V(20+q)) by row i's a (V(16+i)) and adds the products
// pairwise into V(8i+2q), V(8i+2q+1).
#define MQ(q, i) \
	SMULL_8B(24, 20+(q), 16+(i)) \
	SMULL2_16B(25, 20+(q), 16+(i)) \
	SADALP_4S(8*(i)+2*(q), 24) \
	SADALP_4S(8*(i)+2*(q)+1, 25)

// MROW stores row i's 16 sums (adding the tile's when acc ≠ 0) at R9 and advances it.
#define MROW(i, skip) \
	ADDP_4S(26, 8*(i), 8*(i)+1) \
	ADDP_4S(27, 8*(i)+2, 8*(i)+3) \
	ADDP_4S(28, 8*(i)+4, 8*(i)+5) \
	ADDP_4S(29, 8*(i)+6, 8*(i)+7) \
	CBZ  R10, skip \
	VLD1 (R9), [V16.S4, V17.S4, V18.S4, V19.S4] \
	ADD_4S(26, 26, 16) \
	ADD_4S(27, 27, 17) \
	ADD_4S(28, 28, 18) \
	ADD_4S(29, 29, 19) \
skip: \
	VST1.P [V26.S4, V27.S4, V28.S4, V29.S4], 64(R9)

// func lowpInt8SMULL2x16(a *int8, astride int, b *int8, k4 int, c *int32, acc int)
// lowpInt8SDOT6x16 for 2 rows with SMULL and SADALP (no DotProd needed): products of signed
// bytes in int16 (|a·b| ≤ 128·127), added in pairs into int32.
// Requires: ASIMD (every ARMv8-A CPU)
TEXT ·lowpInt8SMULL2x16(SB), NOSPLIT, $0-48
	KSTART
	MOVD k4+24(FP), R7
	ADD  R14, R0, R1
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
	CBZ  R7, mstore

mloop:
	VLD1R.P 4(R0), [V16.S4]
	VLD1R.P 4(R1), [V17.S4]
	VLD1.P  64(R6), [V20.B16, V21.B16, V22.B16, V23.B16]
	MQ(0, 0)
	MQ(1, 0)
	MQ(2, 0)
	MQ(3, 0)
	MQ(0, 1)
	MQ(1, 1)
	MQ(2, 1)
	MQ(3, 1)
	SUBS $1, R7
	BNE  mloop

mstore:
	MROW(0, mskip0)
	MROW(1, mskip1)
	RET

// MMQ adds columns 2c…2c+3 × 8 k for the six rows: x holds 4 columns × the even group of
// 4 k (4 bytes a column), y the same columns × the odd group (y = x for a lone last group:
// the second half of A's 8 k is zero). ZIP1 puts columns 2c, 2c+1 × 8 k in V31, ZIP2
// columns 2c+2, 2c+3 in x; each SMMLA adds a row pair (V24-V26) × a column pair.
#define MMQ(x, y, c) \
	ZIP1_4S(31, x, y) \
	ZIP2_4S(x, x, y) \
	SMMLA_4S(c, 24, 31) \
	SMMLA_4S(8+(c), 25, 31) \
	SMMLA_4S(16+(c), 26, 31) \
	SMMLA_4S((c)+1, 24, x) \
	SMMLA_4S(9+(c), 25, x) \
	SMMLA_4S(17+(c), 26, x)

// MMLOAD sets the accumulators of row pair p (V(8p)…V(8p+7)) from rows 2p, 2p+1 of the tile
// at R11 (advancing it): V24-V27 row 2p, V28-V31 row 2p+1, 4 columns each; the accumulator of
// columns 2c, 2c+1 takes the low (c even: ZIP1) or high (c odd: ZIP2) 64 bits of both rows'
// registers holding those columns.
#define MMLOAD(p) \
	VLD1.P 64(R11), [V24.S4, V25.S4, V26.S4, V27.S4] \
	VLD1.P 64(R11), [V28.S4, V29.S4, V30.S4, V31.S4] \
	ZIP1_2D(8*(p), 24, 28) \
	ZIP2_2D(8*(p)+1, 24, 28) \
	ZIP1_2D(8*(p)+2, 25, 29) \
	ZIP2_2D(8*(p)+3, 25, 29) \
	ZIP1_2D(8*(p)+4, 26, 30) \
	ZIP2_2D(8*(p)+5, 26, 30) \
	ZIP1_2D(8*(p)+6, 27, 31) \
	ZIP2_2D(8*(p)+7, 27, 31)

// MMSTORE writes rows 2p, 2p+1 of the tile at R9 (advancing it) from row pair p's
// accumulators: MMLOAD's inverse (V24-V27 row 2p, V28-V31 row 2p+1).
#define MMSTORE(p) \
	ZIP1_2D(24, 8*(p), 8*(p)+1) \
	ZIP1_2D(25, 8*(p)+2, 8*(p)+3) \
	ZIP1_2D(26, 8*(p)+4, 8*(p)+5) \
	ZIP1_2D(27, 8*(p)+6, 8*(p)+7) \
	ZIP2_2D(28, 8*(p), 8*(p)+1) \
	ZIP2_2D(29, 8*(p)+2, 8*(p)+3) \
	ZIP2_2D(30, 8*(p)+4, 8*(p)+5) \
	ZIP2_2D(31, 8*(p)+6, 8*(p)+7) \
	VST1.P [V24.S4, V25.S4, V26.S4, V27.S4], 64(R9) \
	VST1.P [V28.S4, V29.S4, V30.S4, V31.S4], 64(R9)

// func lowpInt8SMMLA6x16(a *int8, b *int8, k4 int, c *int32, acc int)
// The tile of 6 rows × 16 columns over k4 groups of 4 k with SMMLA (FEAT_I8MM): c[i][j] (+)=
// Σ_kk a_i[kk]·b[kk][j] in int32, as lowpInt8SDOT6x16, but a holds the six rows (signed bytes)
// interleaved by pairs, 48 bytes per 8 k: a[48(kk/8) + 16(i/2) + 8(i%2) + kk%8], zero past k4
// up to a multiple of 8. b is PackInt8's panel: the groups 2h, 2h+1 of each 8 k are zipped
// into 8 k a column on the fly (8 ZIPs per 24 SMMLAs).
// Requires: ASIMD, I8MM
TEXT ·lowpInt8SMMLA6x16(SB), NOSPLIT, $0-40
	MOVD a+0(FP), R0
	MOVD b+8(FP), R6
	MOVD k4+16(FP), R8
	MOVD c+24(FP), R9
	MOVD acc+32(FP), R10
	ADD  $64, R6, R7
	MOVD $96, R12
	AND  $1, R8, R13             // R13 = k4 % 2: a lone last group
	LSR  $1, R8                  // R8 = k4 / 2
	CBZ  R10, izero
	MOVD R9, R11
	MMLOAD(0)
	MMLOAD(1)
	MMLOAD(2)
	B    iinit

izero:
	ZERO24

iinit:
	CBZ R8, itail

iloop:
	VLD1.P 48(R0), [V24.B16, V25.B16, V26.B16]
	VLD1.P 32(R6), [V27.B16, V28.B16]          // columns 0-7 × the even group
	VLD1.P 32(R7), [V29.B16, V30.B16]          // columns 0-7 × the odd group
	MMQ(27, 29, 0)
	MMQ(28, 30, 2)
	VLD1.P (R6)(R12), [V27.B16, V28.B16]       // columns 8-15; R6 to the next 8 k
	VLD1.P (R7)(R12), [V29.B16, V30.B16]
	MMQ(27, 29, 4)
	MMQ(28, 30, 6)
	SUBS $1, R8
	BNE  iloop

itail:
	CBZ    R13, istore
	VLD1.P 48(R0), [V24.B16, V25.B16, V26.B16]
	VLD1.P 32(R6), [V27.B16, V28.B16]
	MMQ(27, 27, 0)
	MMQ(28, 28, 2)
	VLD1   (R6), [V27.B16, V28.B16]
	MMQ(27, 27, 4)
	MMQ(28, 28, 6)

istore:
	MMSTORE(0)
	MMSTORE(1)
	MMSTORE(2)
	RET
