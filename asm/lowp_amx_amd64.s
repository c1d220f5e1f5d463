//go:build !purego

#include "textflag.h"
#include "lowp_amd64.h"

// The AMX micro-kernels: each call computes one strip of 32×32 tiles (2×2 AMX tiles of 16×16)
// over one block of k, from 32 packed rows of A (astride bytes apart, k a multiple of 32 for
// bf16 and 64 for int8) and a run of panels of B, whose 16-column × 2 (bf16) or × 4 (int8)
// rows of 64 bytes are exactly AMX's B tile rows. The tiles are stored to a 32×32 scratch tile
// and the epilogue (bias, the int8 scales, c += or c =, the last panel's column mask) is done
// with AVX-512 from there, one row at a time. The tile configuration (16 rows × 64 bytes for
// all eight tiles) is loaded on entry and the tiles released on return: AMX state never
// outlives a call.
//
// Register map of lowpBF16AMX32x32 and lowpInt8AMX32x32:
//   AX        A rows 0-15 at the current k; the scratch tile's row in the store loop
//   R10       A rows 16-31 at the current k; the column offset in bytes in the store phase
//   BX        B panel p at the current k; bias (bf16) or the lowpInt8Epi (int8) when storing
//   R9        B panel p+1 at the current k; int8: rowScale in the store loop
//   CX        panel stride in bytes; 0 for a lone last panel
//   DX        k steps left; rows left in the store loop
//   SI        c: the tile's top-left element
//   DI        ldc in bytes (the tile configuration's address on entry)
//   R8        panels left, the tile's included
//   R11       flags: bit 0 = add the result to c
//   R12       b at the first k of the tile's first panel
//   R13       astride (the A tiles' row stride); c row in the store loop
//   R14       64 (the B tiles' row stride); 128 (the scratch tile's); int8: rowZP when storing
//   TMM0-3    C: rows 0-15 × panel p, rows 0-15 × p+1, rows 16-31 × p, rows 16-31 × p+1
//   TMM4, 5   A rows 0-15, 16-31 (32 k of bf16, 64 of int8)
//   TMM6, 7   B panels p, p+1 (the same k)
//   Z0, Z1    a row of the result when storing; Z2, Z3 c
//   Z24-Z29   bf16: bias; int8: column sums, scales, bias;  Z30, Z31 int8 temporaries
//   K1, K2    column masks of panels p and p+1

// AMXSTART loads the configuration and the arguments, and sets the column masks.
#define AMXSTART \
	MOVQ  cfg+104(FP), DI; \
	LDTILECFG_DI; \
	MOVQ  b+8(FP), R12; \
	MOVQ  c+16(FP), SI; \
	MOVQ  panels+32(FP), R8; \
	MOVQ  pstride+40(FP), CX; \
	MOVQ  ldc+48(FP), DI; \
	SHLQ  $2, DI; \
	MOVQ  flags+80(FP), R11; \
	MOVQ  $0xffff, R13; \
	KMOVW R13, K1; \
	KMOVW R13, K2

// AMXPAIR is PAIRSETUP of lowp_amd64.s: a lone last panel is paired with itself (CX = 0) and
// masked off (K2 = 0); the last pair masks panel p+1 with lastMask; done when none is left.
#define AMXPAIR(done, tile2, tile) \
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

// AMXK runs the k loop with the dot-product instruction TDP and stores the four C tiles to the
// scratch tile (AX = its first row after). (Prefetching the tile's rows of c here, as the
// vector kernels do, was 5% slower.)
#define AMXK(TDP, kloop) \
	TILEZERO(0); \
	TILEZERO(1); \
	TILEZERO(2); \
	TILEZERO(3); \
	MOVQ a+0(FP), AX; \
	MOVQ astride+88(FP), R13; \
	MOVQ R13, R10; \
	SHLQ $4, R10; \
	ADDQ AX, R10; \
	MOVQ R12, BX; \
	LEAQ (R12)(CX*1), R9; \
	MOVQ $64, R14; \
	MOVQ ksteps+24(FP), DX; \
kloop: \
	TILELOADD(4, 0, 13); \
	TILELOADD(5, 10, 13); \
	TILELOADD(6, 3, 14); \
	TILELOADD(7, 9, 14); \
	TDP(0, 4, 6); \
	TDP(1, 4, 7); \
	TDP(2, 5, 6); \
	TDP(3, 5, 7); \
	ADDQ $64, AX; \
	ADDQ $64, R10; \
	ADDQ $1024, BX; \
	ADDQ $1024, R9; \
	DECQ DX; \
	JNZ  kloop; \
	MOVQ tile+96(FP), AX; \
	MOVQ $128, R14; \
	TILESTORED(0, 14, 0, 0); \
	TILESTORED(0, 14, 64, 1); \
	TILESTORED(0, 14, 2048, 2); \
	TILESTORED(0, 14, 2112, 3)

// AMXNEXT moves to the next pair of panels.
#define AMXNEXT(pair) \
	ADDQ $128, SI; \
	LEAQ (R12)(CX*2), R12; \
	SUBQ $2, R8; \
	JMP  pair

// func lowpBF16AMX32x32(a *byte, b *uint16, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int, astride int, tile *float32, cfg *byte)
// Requires: AMX-TILE, AMX-BF16, AVX512F
TEXT ·lowpBF16AMX32x32(SB), NOSPLIT, $0-112
	AMXSTART

bpair:
	AMXPAIR(bdone, btile2, btile)
	AMXK(TDPBF16PS, bkloop)
	VPXORD Z24, Z24, Z24         // Z24, Z25 = bias[0:32] (zero without bias)
	VPXORD Z25, Z25, Z25
	MOVQ   bias+72(FP), BX
	TESTQ  BX, BX
	JZ     bbiasdone
	MOVQ   SI, R10
	SUBQ   c+16(FP), R10         // R10 = the tile's column offset in bytes
	VMOVUPS.Z (BX)(R10*1), K1, Z24
	VMOVUPS.Z 64(BX)(R10*1), K2, Z25

bbiasdone:
	MOVQ  SI, R13
	MOVQ  rows+56(FP), DX
	TESTQ $1, R11
	JNZ   bacc

bstore:
	VADDPS  (AX), Z24, Z0        // c = acc + bias
	VADDPS  64(AX), Z25, Z1
	VMOVUPS Z0, K1, (R13)
	VMOVUPS Z1, K2, 64(R13)
	ADDQ    $128, AX
	ADDQ    DI, R13
	DECQ    DX
	JNZ     bstore
	JMP     bnext

bacc:
	VADDPS    (AX), Z24, Z0      // c += acc + bias
	VADDPS    64(AX), Z25, Z1
	VMOVUPS.Z (R13), K1, Z2
	VMOVUPS.Z 64(R13), K2, Z3
	VADDPS    Z2, Z0, Z0
	VADDPS    Z3, Z1, Z1
	VMOVUPS   Z0, K1, (R13)
	VMOVUPS   Z1, K2, 64(R13)
	ADDQ      $128, AX
	ADDQ      DI, R13
	DECQ      DX
	JNZ       bacc

bnext:
	AMXNEXT(bpair)

bdone:
	TILERELEASE
	VZEROUPPER
	RET

// ISCALE turns a row of int32 sums (Z0, Z1) into floats: (float32(acc - zp·colSum)·s)·colScale
// + bias, with zp at (R14), s at (R9), Z24-Z29 the column sums, scales and bias.
#define ISCALE \
	VPBROADCASTD (R14), Z30; \
	VPMULLD      Z24, Z30, Z31; \
	VPSUBD       Z31, Z0, Z0; \
	VPMULLD      Z25, Z30, Z31; \
	VPSUBD       Z31, Z1, Z1; \
	VCVTDQ2PS    Z0, Z0; \
	VCVTDQ2PS    Z1, Z1; \
	VBROADCASTSS (R9), Z30; \
	VMULPS       Z30, Z0, Z0; \
	VMULPS       Z30, Z1, Z1; \
	VFMADD213PS  Z28, Z26, Z0; \
	VFMADD213PS  Z29, Z27, Z1

// func lowpInt8AMX32x32(a *byte, b *int8, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastMask int, ep *lowpInt8Epi, flags int, astride int, tile *float32, cfg *byte)
// Requires: AMX-TILE, AMX-INT8, AVX512F
TEXT ·lowpInt8AMX32x32(SB), NOSPLIT, $0-112
	AMXSTART

ipair:
	AMXPAIR(idone, itile2, itile)
	AMXK(TDPBUSD, ikloop)
	MOVQ ep+72(FP), BX
	MOVQ SI, R10
	SUBQ c+16(FP), R10           // R10 = the tile's column offset in bytes
	MOVQ EPI_SUM(BX), R9
	VMOVDQU32.Z (R9)(R10*1), K1, Z24
	VMOVDQU32.Z 64(R9)(R10*1), K2, Z25
	MOVQ EPI_SCALE(BX), R9
	VMOVUPS.Z (R9)(R10*1), K1, Z26
	VMOVUPS.Z 64(R9)(R10*1), K2, Z27
	MOVQ EPI_BIAS(BX), R9
	VMOVUPS.Z (R9)(R10*1), K1, Z28
	VMOVUPS.Z 64(R9)(R10*1), K2, Z29
	MOVQ EPI_ROWSCALE(BX), R9
	MOVQ EPI_ROWZP(BX), R14
	MOVQ SI, R13
	MOVQ rows+56(FP), DX
	TESTQ $1, R11
	JNZ  iacc

istore:
	VMOVDQU32 (AX), Z0
	VMOVDQU32 64(AX), Z1
	ISCALE
	VMOVUPS Z0, K1, (R13)
	VMOVUPS Z1, K2, 64(R13)
	ADDQ    $128, AX
	ADDQ    $4, R9
	ADDQ    $4, R14
	ADDQ    DI, R13
	DECQ    DX
	JNZ     istore
	JMP     inext

iacc:
	VMOVDQU32 (AX), Z0
	VMOVDQU32 64(AX), Z1
	ISCALE
	VMOVUPS.Z (R13), K1, Z2
	VMOVUPS.Z 64(R13), K2, Z3
	VADDPS    Z2, Z0, Z0
	VADDPS    Z3, Z1, Z1
	VMOVUPS   Z0, K1, (R13)
	VMOVUPS   Z1, K2, 64(R13)
	ADDQ      $128, AX
	ADDQ      $4, R9
	ADDQ      $4, R14
	ADDQ      DI, R13
	DECQ      DX
	JNZ       iacc

inext:
	AMXNEXT(ipair)

idone:
	TILERELEASE
	VZEROUPPER
	RET
