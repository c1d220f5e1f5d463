//go:build !purego

#include "textflag.h"
#include "zmm_amd64.h"
#include "lowp_amd64.h"

// The low-precision micro-kernels for AVX-512 (AVX2's are in lowp_avx2_amd64.s, AMX's in
// lowp_amx_amd64.s) and the AVX-512 packing routines.
// As in the float32 kernels, each call computes one strip of register tiles: MR rows of packed A
// (row r at r*LAROWB bytes, see lowpARow in lowp_amd64.go) times a run of 16-wide panels of B,
// over one block of k; Go packs A (rounding or quantizing it), blocks for the caches and splits
// the work into calls of a few µs. The AVX-512 kernels take the panels in pairs; a lone last
// panel is paired with itself (CX = 0) and its twin's columns masked off.
//
// Register map of the 12×32 AVX-512 kernels (lowpBF16Widen12x32, lowpBF16DP12x32,
// lowpInt8VNNI12x32):
//   AX        a: packed A at the current k; row r at r*LAROWB(AX); int8: rowScale when storing
//   BX        b: panel p at the current k; panel p+1 at (BX)(CX*1); int8: rowZP when storing
//   CX        panel stride in bytes; 0 for a lone last panel
//   DX        k steps left in the loop; rows left in the store loop
//   SI        c: the tile's top-left element
//   DI        ldc in bytes
//   R8        panels left, the tile's included
//   R9        rows to store (1..12)
//   R10       bf16: bias at the tile's first column, or 0;  int8: the lowpInt8Epi
//   R11       flags: bit 0 = add the result to c; bit 1 = prefetch the next pair of panels
//   R12       b at the first k of the tile's first panel
//   R13       c row in the store loop; (prefetching) the next pair's b; scratch
//   R14       int8: byte offset of the tile's first column in the column arrays
//   Z0-Z23    accumulators: row r in Z(2r) (panel p) and Z(2r+1) (panel p+1)
//   Z24, Z25  B at the current k (panels p, p+1); the bias (bf16) or column sums (int8) when
//             storing
//   Z26-Z31   A broadcast; widen: Z30 = 0xffff0000 in each lane; when storing: c (bf16);
//             int8: Z26, Z27 column scales, Z28, Z29 bias, Z30, Z31 row scale and zero point,
//             products, c
//   K1, K2    column masks of panels p and p+1

// The bf16 widening kernel: A is float32 (already rounded to bfloat16); B holds pairs of
// bfloat16 (k even in the low half of each 32-bit lane, k odd in the high half), so b<<16 is
// the even row in float32 and b&0xffff0000 the odd one.

// WROW adds a[r][k]·b[k][0:32] into row r's two accumulators.
#define WROW(r, aoff, za, lo, hi) \
	VBROADCASTSS (aoff+r*LAROWB)(AX), za; \
	VFMADD231PS  Z24, za, lo; \
	VFMADD231PS  Z25, za, hi

#define WROWS(aoff) \
	WROW(0, aoff, Z26, Z0, Z1); \
	WROW(1, aoff, Z27, Z2, Z3); \
	WROW(2, aoff, Z28, Z4, Z5); \
	WROW(3, aoff, Z29, Z6, Z7); \
	WROW(4, aoff, Z31, Z8, Z9); \
	WROW(5, aoff, Z26, Z10, Z11); \
	WROW(6, aoff, Z27, Z12, Z13); \
	WROW(7, aoff, Z28, Z14, Z15); \
	WROW(8, aoff, Z29, Z16, Z17); \
	WROW(9, aoff, Z31, Z18, Z19); \
	WROW(10, aoff, Z26, Z20, Z21); \
	WROW(11, aoff, Z27, Z22, Z23)

// WSTEP is one pair of k (A at aoff bytes: k, aoff+4: k+1; B at boff): 48 FMAs.
#define WSTEP(aoff, boff) \
	VPSLLD $16, boff(BX), Z24; \
	VPSLLD $16, boff(BX)(CX*1), Z25; \
	WROWS(aoff); \
	VPANDD boff(BX), Z30, Z24; \
	VPANDD boff(BX)(CX*1), Z30, Z25; \
	WROWS(aoff+4)

// The bf16 VDPBF16PS kernel: A is packed as pairs of bfloat16 (one 32-bit lane per k pair).
// DROW: acc += a[r][k:k+2]·b[k:k+2][0:32], the pair summed by VDPBF16PS.
#define DROW(r, aoff, za, zan, lo, hi) \
	VPBROADCASTD (aoff+r*LAROWB)(AX), za; \
	VDPBF16PS_Z(lo, zan, 24); \
	VDPBF16PS_Z(hi, zan, 25)

#define DSTEP(aoff, boff) \
	VMOVDQU32 boff(BX), Z24; \
	VMOVDQU32 boff(BX)(CX*1), Z25; \
	DROW(0, aoff, Z26, 26, 0, 1); \
	DROW(1, aoff, Z27, 27, 2, 3); \
	DROW(2, aoff, Z28, 28, 4, 5); \
	DROW(3, aoff, Z29, 29, 6, 7); \
	DROW(4, aoff, Z30, 30, 8, 9); \
	DROW(5, aoff, Z31, 31, 10, 11); \
	DROW(6, aoff, Z26, 26, 12, 13); \
	DROW(7, aoff, Z27, 27, 14, 15); \
	DROW(8, aoff, Z28, 28, 16, 17); \
	DROW(9, aoff, Z29, 29, 18, 19); \
	DROW(10, aoff, Z30, 30, 20, 21); \
	DROW(11, aoff, Z31, 31, 22, 23)

// The int8 VNNI kernel: A is packed as unsigned bytes (one 32-bit lane per 4 k), B as signed
// bytes, 16 columns × 4 k per 64 bytes. VROW: acc += Σ_{4 k} u8(a[r][k:k+4])·s8(b[k:k+4][0:32]).
#define VROW(r, aoff, za, lo, hi) \
	VPBROADCASTD (aoff+r*LAROWB)(AX), za; \
	VPDPBUSD     Z24, za, lo; \
	VPDPBUSD     Z25, za, hi

#define VSTEP(aoff, boff) \
	VMOVDQU32 boff(BX), Z24; \
	VMOVDQU32 boff(BX)(CX*1), Z25; \
	VROW(0, aoff, Z26, Z0, Z1); \
	VROW(1, aoff, Z27, Z2, Z3); \
	VROW(2, aoff, Z28, Z4, Z5); \
	VROW(3, aoff, Z29, Z6, Z7); \
	VROW(4, aoff, Z30, Z8, Z9); \
	VROW(5, aoff, Z31, Z10, Z11); \
	VROW(6, aoff, Z26, Z12, Z13); \
	VROW(7, aoff, Z27, Z14, Z15); \
	VROW(8, aoff, Z28, Z16, Z17); \
	VROW(9, aoff, Z29, Z18, Z19); \
	VROW(10, aoff, Z30, Z20, Z21); \
	VROW(11, aoff, Z31, Z22, Z23)

// PREFETCHC fetches the tile's rows of c (two lines each) while the k loop runs.
#define PREFETCHC \
	MOVQ SI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13); ADDQ DI, R13; \
	PREFETCHT0 (R13); PREFETCHT0 64(R13)

// PREFETCHB4 fetches the next pair's 256 bytes of B at the current k (R13 = its b).
#define PREFETCHB4 \
	PREFETCHT0 (R13); PREFETCHT0 (R13)(CX*1); \
	PREFETCHT0 64(R13); PREFETCHT0 64(R13)(CX*1); \
	PREFETCHT0 128(R13); PREFETCHT0 128(R13)(CX*1); \
	PREFETCHT0 192(R13); PREFETCHT0 192(R13)(CX*1)

// KLOOP runs a kernel's k loop over DX = ksteps (the argument): 4 steps an iteration (A advancing astep4
// bytes, B 256 bytes), then one at a time; with flags bit 1 it also prefetches the next pair
// of panels (the first tile to read this block of B brings it into cache; the hardware
// prefetchers stop at each 4 KiB page of a panel).
#define KLOOP(STEP, as, astep4, astep1, l4, lf, lf4, lt, lt1, ldone) \
	SHRQ  $2, DX; \
	JZ    lt; \
	TESTQ $2, R11; \
	JNZ   lf; \
l4: \
	STEP(0, 0); \
	STEP(as, 64); \
	STEP(2*as, 128); \
	STEP(3*as, 192); \
	ADDQ $astep4, AX; \
	ADDQ $256, BX; \
	DECQ DX; \
	JNZ  l4; \
	JMP  lt; \
lf: \
	LEAQ (BX)(CX*2), R13; \
lf4: \
	STEP(0, 0); \
	STEP(as, 64); \
	STEP(2*as, 128); \
	STEP(3*as, 192); \
	PREFETCHB4; \
	ADDQ $astep4, AX; \
	ADDQ $256, BX; \
	ADDQ $256, R13; \
	DECQ DX; \
	JNZ  lf4; \
lt: \
	MOVQ ksteps+24(FP), DX; \
	ANDQ $3, DX; \
	JZ   ldone; \
lt1: \
	STEP(0, 0); \
	ADDQ $astep1, AX; \
	ADDQ $64, BX; \
	DECQ DX; \
	JNZ  lt1; \
ldone:

// PAIRSETUP starts the tile of panels p, p+1 (R8 panels left): a lone last panel is paired
// with itself (CX = 0) and the twin masked off (K2 = 0); the last pair masks panel p+1's
// columns with lastMask. It jumps to done when no panel is left.
#define PAIRSETUP(done, tile2, tile) \
	CMPQ R8, $1; \
	JLT  done; \
	JNE  tile2; \
	MOVQ lastMask+64(FP), R13; \
	KMOVW R13, K1; \
	KXORW K2, K2, K2; \
	XORQ CX, CX; \
	JMP  tile; \
tile2: \
	CMPQ R8, $2; \
	JNE  tile; \
	MOVQ lastMask+64(FP), R13; \
	KMOVW R13, K2; \
tile:

// FSTORE2 writes row r of a float tile: c = acc + bias (Z24, Z25), then the next row (DX rows
// left); FACC2 is the same for c += acc + bias.
#define FSTORE2(lo, hi, done) \
	VADDPS  Z24, lo, lo; \
	VADDPS  Z25, hi, hi; \
	VMOVUPS lo, K1, (R13); \
	VMOVUPS hi, K2, 64(R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define FACC2(lo, hi, done) \
	VADDPS    Z24, lo, lo; \
	VADDPS    Z25, hi, hi; \
	VMOVUPS.Z (R13), K1, Z26; \
	VMOVUPS.Z 64(R13), K2, Z27; \
	VADDPS    Z26, lo, lo; \
	VADDPS    Z27, hi, hi; \
	VMOVUPS   lo, K1, (R13); \
	VMOVUPS   hi, K2, 64(R13); \
	ADDQ      DI, R13; \
	DECQ      DX; \
	JZ        done

// FEPILOGUE stores a float tile (bias at R10, advanced by 32 columns) and jumps to next.
#define FEPILOGUE(next, lbias, lacc) \
	VPXORD Z24, Z24, Z24; \
	VPXORD Z25, Z25, Z25; \
	TESTQ  R10, R10; \
	JZ     lbias; \
	VMOVUPS.Z (R10), K1, Z24; \
	VMOVUPS.Z 64(R10), K2, Z25; \
	ADDQ   $128, R10; \
lbias: \
	MOVQ  SI, R13; \
	MOVQ  R9, DX; \
	TESTQ $1, R11; \
	JNZ   lacc; \
	FSTORE2(Z0, Z1, next); FSTORE2(Z2, Z3, next); FSTORE2(Z4, Z5, next); \
	FSTORE2(Z6, Z7, next); FSTORE2(Z8, Z9, next); FSTORE2(Z10, Z11, next); \
	FSTORE2(Z12, Z13, next); FSTORE2(Z14, Z15, next); FSTORE2(Z16, Z17, next); \
	FSTORE2(Z18, Z19, next); FSTORE2(Z20, Z21, next); FSTORE2(Z22, Z23, next); \
	JMP   next; \
lacc: \
	FACC2(Z0, Z1, next); FACC2(Z2, Z3, next); FACC2(Z4, Z5, next); \
	FACC2(Z6, Z7, next); FACC2(Z8, Z9, next); FACC2(Z10, Z11, next); \
	FACC2(Z12, Z13, next); FACC2(Z14, Z15, next); FACC2(Z16, Z17, next); \
	FACC2(Z18, Z19, next); FACC2(Z20, Z21, next); FACC2(Z22, Z23, next)

// ISCALE2 turns row r's int32 sums into floats: (float32(acc - zp_r·colSum)·s_r)·colScale +
// bias, with Z24, Z25 = colSum, Z26, Z27 = colScale, Z28, Z29 = bias, BX = rowZP, AX = rowScale.
#define ISCALE2(r, lo, hi) \
	VPBROADCASTD (r*4)(BX), Z30; \
	VPMULLD      Z24, Z30, Z31; \
	VPSUBD       Z31, lo, lo; \
	VPMULLD      Z25, Z30, Z31; \
	VPSUBD       Z31, hi, hi; \
	VCVTDQ2PS    lo, lo; \
	VCVTDQ2PS    hi, hi; \
	VBROADCASTSS (r*4)(AX), Z30; \
	VMULPS       Z30, lo, lo; \
	VMULPS       Z30, hi, hi; \
	VFMADD213PS  Z28, Z26, lo; \
	VFMADD213PS  Z29, Z27, hi

#define ISTORE2(r, lo, hi, done) \
	ISCALE2(r, lo, hi); \
	VMOVUPS lo, K1, (R13); \
	VMOVUPS hi, K2, 64(R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define IACC2(r, lo, hi, done) \
	ISCALE2(r, lo, hi); \
	VMOVUPS.Z (R13), K1, Z30; \
	VMOVUPS.Z 64(R13), K2, Z31; \
	VADDPS    Z30, lo, lo; \
	VADDPS    Z31, hi, hi; \
	VMOVUPS   lo, K1, (R13); \
	VMOVUPS   hi, K2, 64(R13); \
	ADDQ      DI, R13; \
	DECQ      DX; \
	JZ        done

// IEPILOGUE stores an int32 tile through ISCALE2 (R10 = the lowpInt8Epi, R14 = the tile's
// column offset in bytes) and jumps to next.
#define IEPILOGUE(next, lacc) \
	MOVQ      EPI_SUM(R10), R13; \
	VMOVDQU32.Z (R13)(R14*1), K1, Z24; \
	VMOVDQU32.Z 64(R13)(R14*1), K2, Z25; \
	MOVQ      EPI_SCALE(R10), R13; \
	VMOVUPS.Z (R13)(R14*1), K1, Z26; \
	VMOVUPS.Z 64(R13)(R14*1), K2, Z27; \
	MOVQ      EPI_BIAS(R10), R13; \
	VMOVUPS.Z (R13)(R14*1), K1, Z28; \
	VMOVUPS.Z 64(R13)(R14*1), K2, Z29; \
	MOVQ      EPI_ROWSCALE(R10), AX; \
	MOVQ      EPI_ROWZP(R10), BX; \
	MOVQ      SI, R13; \
	MOVQ      R9, DX; \
	TESTQ     $1, R11; \
	JNZ       lacc; \
	ISTORE2(0, Z0, Z1, next); ISTORE2(1, Z2, Z3, next); ISTORE2(2, Z4, Z5, next); \
	ISTORE2(3, Z6, Z7, next); ISTORE2(4, Z8, Z9, next); ISTORE2(5, Z10, Z11, next); \
	ISTORE2(6, Z12, Z13, next); ISTORE2(7, Z14, Z15, next); ISTORE2(8, Z16, Z17, next); \
	ISTORE2(9, Z18, Z19, next); ISTORE2(10, Z20, Z21, next); ISTORE2(11, Z22, Z23, next); \
	JMP       next; \
lacc: \
	IACC2(0, Z0, Z1, next); IACC2(1, Z2, Z3, next); IACC2(2, Z4, Z5, next); \
	IACC2(3, Z6, Z7, next); IACC2(4, Z8, Z9, next); IACC2(5, Z10, Z11, next); \
	IACC2(6, Z12, Z13, next); IACC2(7, Z14, Z15, next); IACC2(8, Z16, Z17, next); \
	IACC2(9, Z18, Z19, next); IACC2(10, Z20, Z21, next); IACC2(11, Z22, Z23, next)

// KERNELSTART loads the arguments common to the 12×32 kernels.
#define KERNELSTART \
	MOVQ  b+8(FP), R12; \
	MOVQ  c+16(FP), SI; \
	MOVQ  panels+32(FP), R8; \
	MOVQ  pstride+40(FP), CX; \
	MOVQ  ldc+48(FP), DI; \
	SHLQ  $2, DI; \
	MOVQ  rows+56(FP), R9; \
	MOVQ  flags+80(FP), R11; \
	MOVQ  $0xffff, R13; \
	KMOVW R13, K1; \
	KMOVW R13, K2

// widenMask: 0xffff0000, the high bfloat16 of each pair.
DATA widenMask<>+0(SB)/4, $0xffff0000
GLOBL widenMask<>(SB), RODATA|NOPTR, $4

// func lowpBF16Widen12x32(a *float32, b *uint16, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int)
// Requires: AVX512F
TEXT ·lowpBF16Widen12x32(SB), NOSPLIT, $0-88
	KERNELSTART
	MOVQ bias+72(FP), R10
	VPBROADCASTD widenMask<>(SB), Z30

wpair:
	PAIRSETUP(wdone, wtile2, wtile)
	PREFETCHC
	ZERO24
	MOVQ a+0(FP), AX
	MOVQ R12, BX
	MOVQ ksteps+24(FP), DX
	KLOOP(WSTEP, 8, 32, 8, wl4, wlf, wlf4, wlt, wlt1, wkdone)
	FEPILOGUE(wnext, wbias, wacc)

wnext:
	ADDQ $128, SI                // c += 32 columns
	LEAQ (R12)(CX*2), R12        // b += 2 panels
	SUBQ $2, R8
	JMP  wpair

wdone:
	VZEROUPPER
	RET

// func lowpBF16DP12x32(a *uint32, b *uint16, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int)
// Requires: AVX512F, AVX512_BF16
TEXT ·lowpBF16DP12x32(SB), NOSPLIT, $0-88
	KERNELSTART
	MOVQ bias+72(FP), R10

dpair:
	PAIRSETUP(ddone, dtile2, dtile)
	PREFETCHC
	ZERO24
	MOVQ a+0(FP), AX
	MOVQ R12, BX
	MOVQ ksteps+24(FP), DX
	KLOOP(DSTEP, 4, 16, 4, dl4, dlf, dlf4, dlt, dlt1, dkdone)
	FEPILOGUE(dnext, dbias, dacc)

dnext:
	ADDQ $128, SI
	LEAQ (R12)(CX*2), R12
	SUBQ $2, R8
	JMP  dpair

ddone:
	VZEROUPPER
	RET

// func lowpInt8VNNI12x32(a *uint8, b *int8, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, ep *lowpInt8Epi, flags int)
// Requires: AVX512F, AVX512_VNNI
TEXT ·lowpInt8VNNI12x32(SB), NOSPLIT, $0-88
	KERNELSTART
	MOVQ ep+72(FP), R10
	XORQ R14, R14

vpair:
	PAIRSETUP(vdone, vtile2, vtile)
	PREFETCHC
	ZERO24
	MOVQ a+0(FP), AX
	MOVQ R12, BX
	MOVQ ksteps+24(FP), DX
	KLOOP(VSTEP, 4, 16, 4, vl4, vlf, vlf4, vlt, vlt1, vkdone)
	IEPILOGUE(vnext, vacc)

vnext:
	ADDQ $128, SI
	ADDQ $128, R14               // the column arrays += 32 columns
	LEAQ (R12)(CX*2), R12
	SUBQ $2, R8
	JMP  vpair

vdone:
	VZEROUPPER
	RET

// The packing routines: A rounded to bfloat16 or quantized to 8 bits, 16 (AVX-512) or 8
// (AVX2) floats at a time; Go does the tail. Register map: SI x, DI dst, CX vectors left.

// func lowpRangeAVX512(x *float32, n int) (lo, hi float32)
// lo = min(0, x...), hi = max(0, x...) over n floats, n a multiple of 16.
// Z0-Z3 running minima, Z4-Z7 running maxima.
// Requires: AVX512F
TEXT ·lowpRangeAVX512(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ   CX, DX
	SHRQ   $6, CX                // CX = groups of 64
	ANDQ   $63, DX
	SHRQ   $4, DX                // DX = vectors after them
	TESTQ  CX, CX
	JZ     range1

range4:
	VMOVUPS (SI), Z8
	VMOVUPS 64(SI), Z9
	VMOVUPS 128(SI), Z10
	VMOVUPS 192(SI), Z11
	VMINPS  Z8, Z0, Z0
	VMINPS  Z9, Z1, Z1
	VMINPS  Z10, Z2, Z2
	VMINPS  Z11, Z3, Z3
	VMAXPS  Z8, Z4, Z4
	VMAXPS  Z9, Z5, Z5
	VMAXPS  Z10, Z6, Z6
	VMAXPS  Z11, Z7, Z7
	ADDQ    $256, SI
	DECQ    CX
	JNZ     range4

range1:
	TESTQ DX, DX
	JZ    rangereduce

range1loop:
	VMOVUPS (SI), Z8
	VMINPS  Z8, Z0, Z0
	VMAXPS  Z8, Z4, Z4
	ADDQ    $64, SI
	DECQ    DX
	JNZ     range1loop

rangereduce:
	VMINPS Z1, Z0, Z0
	VMINPS Z3, Z2, Z2
	VMINPS Z2, Z0, Z0
	VMAXPS Z5, Z4, Z4
	VMAXPS Z7, Z6, Z6
	VMAXPS Z6, Z4, Z4
	VEXTRACTF32X8 $1, Z0, Y1
	VMINPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMINPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VMINPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VMINPS        X1, X0, X0
	VEXTRACTF32X8 $1, Z4, Y5
	VMAXPS        Y5, Y4, Y4
	VEXTRACTF128  $1, Y4, X5
	VMAXPS        X5, X4, X4
	VPERMILPS     $0x4e, X4, X5
	VMAXPS        X5, X4, X4
	VPERMILPS     $0xb1, X4, X5
	VMAXPS        X5, X4, X4
	MOVSS         X0, lo+16(FP)
	MOVSS         X4, hi+20(FP)
	VZEROUPPER
	RET

// func lowpQuantU8AVX512(dst *uint8, x *float32, n int, inv float32, zp int32)
// dst[i] = clamp(rne(x[i]·inv) + zp, 0, 255) for n floats, n a multiple of 16.
// Z1 inv, Z2 zp, Z3 zero.
// Requires: AVX512F
TEXT ·lowpQuantU8AVX512(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS inv+24(FP), Z1
	MOVL         zp+28(FP), AX
	VPBROADCASTD AX, Z2
	VPXORD       Z3, Z3, Z3
	SHRQ         $4, CX
	JZ           quantdone

quantloop:
	VMULPS    (SI), Z1, Z0
	VCVTPS2DQ Z0, Z0             // to nearest even (MXCSR's default)
	VPADDD    Z2, Z0, Z0
	VPMAXSD   Z3, Z0, Z0
	VPMOVUSDB Z0, (DI)           // saturated to 255
	ADDQ      $64, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       quantloop

quantdone:
	VZEROUPPER
	RET

// func lowpRoundBF16AVX512(dst *uint16, x *float32, n int)
// dst[i] = bfloat16(x[i]), to nearest even, denormals to zero (VCVTNEPS2BF16), n a multiple
// of 16.
// Requires: AVX512F, AVX512_BF16
TEXT ·lowpRoundBF16AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   bf16done

bf16loop:
	VMOVUPS (SI), Z0
	VCVTNEPS2BF16_Z(1, 0)        // Y1 = bfloat16(Z0)
	VMOVDQU Y1, (DI)
	ADDQ    $64, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     bf16loop
	VZEROUPPER

bf16done:
	RET

// func lowpRoundF32AVX512(dst *float32, x *float32, n int)
// dst[i] = x[i] rounded to bfloat16 as VCVTNEPS2BF16 does, in float32 (bf16RoundA), with
// integer arithmetic: u + 0x7fff + (u>>16 & 1), the low half cleared; zero and subnormal
// inputs give the signed zero; NaN gives the quiet NaN. n a multiple of 16.
// Z10 0x7fff, Z11 1, Z12 0xffff0000, Z13 0x7f800000, Z14 0x7fffffff, Z15 0x00400000,
// Z16 0x80000000; K1 = exponent ≠ 0, K2 = NaN.
// Requires: AVX512F
TEXT ·lowpRoundF32AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   f32done
	MOVL $0x7fff, AX
	VPBROADCASTD AX, Z10
	MOVL $1, AX
	VPBROADCASTD AX, Z11
	MOVL $0xffff0000, AX
	VPBROADCASTD AX, Z12
	MOVL $0x7f800000, AX
	VPBROADCASTD AX, Z13
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z14
	MOVL $0x00400000, AX
	VPBROADCASTD AX, Z15
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z16

f32loop:
	VMOVDQU32 (SI), Z0           // u
	VPSRLD    $16, Z0, Z1
	VPANDD    Z11, Z1, Z1
	VPADDD    Z10, Z1, Z1
	VPADDD    Z0, Z1, Z1
	VPANDD    Z12, Z1, Z1        // Z1 = rounded
	VPANDD    Z16, Z0, Z2        // Z2 = the sign alone (zero, subnormal)
	VPTESTMD  Z13, Z0, K1
	VMOVDQA32 Z1, K1, Z2
	VPANDD    Z14, Z0, Z3
	VPCMPUD   $6, Z13, Z3, K2    // |u| > +Inf: NaN
	VPORD     Z15, Z0, Z4
	VPANDD    Z12, Z4, Z4        // the quiet NaN
	VMOVDQA32 Z4, K2, Z2
	VMOVDQU32 Z2, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       f32loop
	VZEROUPPER

f32done:
	RET

