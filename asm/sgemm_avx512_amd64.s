//go:build !purego

#include "textflag.h"
#include "zmm_amd64.h"
#include "prefetch_amd64.h"

// The AVX-512 matrix-product micro-kernel: one strip of 8×48 register tiles (8 rows of A times
// three 16-wide panels of B) over one block of k. A is read where it lies, row r at r·lda
// floats, so most products need no copy of it; the driver (sgemm_amd64.go) packs only a last
// tile of fewer than 8 rows.
//
// Why 8×48 rather than 12×32: each k step loads 3 rows of B and broadcasts 8 elements of A for
// 24 FMAs (11 loads), against 2 and 12 (14 loads) for 12×32. On Sapphire Rapids-class cores
// the loads, not the FMAs, held 12×32 back: streaming B from L2 on both cores, the bare loops
// ran at 407 against 385 GFLOP/s (the FMA peak was 453).
//
// Register map:
//   AX        a: row 0 at the current k (rows 1-3 at AX + lda·{1,2,3})
//   R9        a: row 4 at the current k (rows 5-7 likewise)
//   R10, R11  lda and 3·lda in bytes
//   BX        b: panel p at the current k; p+1 at (BX)(CX*1), p+2 at (BX)(CX*2)
//   CX        panel stride in bytes (4·pstride)
//   DX        k steps left in the loop; rows left in the store loop
//   SI        c: the tile's top-left element
//   DI        ldc in bytes
//   R8        panels left, the tile's included
//   R12       b at the first k of the tile's first panel
//   R13       the next tile's b while prefetching; c row or bias in the store phase
//   R14, R15  the next line to fetch into L2 and the end of those lines
//   Z0-Z23    accumulators: row r in Z(3r), Z(3r+1), Z(3r+2) (panels p, p+1, p+2); tiles of
//             two panels use Z0-Z15 (row r in Z(2r), Z(2r+1)), of one panel Z0-Z7
//   Z24-Z26   one row of B; the bias in the store phase
//   Z27-Z31   a[r][k] broadcast; c in the store phase
//   (tiles of nine rows: row 8 in Z24-Z26, B in Z27-Z29, broadcasts in Z30-Z31; of nine
//   rows and two panels: row 8 in Z16, Z17)
//   K1-K3     column masks of the tile's panels (all ones but in the last panel)
// The bias pointer lives in its argument slot and moves on by one tile each time it is used.

// AROW(r, off) is the address of a[r][k + off/4].
#define AROW0(off) off(AX)
#define AROW1(off) off(AX)(R10*1)
#define AROW2(off) off(AX)(R10*2)
#define AROW3(off) off(AX)(R11*1)
#define AROW4(off) off(R9)
#define AROW5(off) off(R9)(R10*1)
#define AROW6(off) off(R9)(R10*2)
#define AROW7(off) off(R9)(R11*1)

// ROW3 adds a[r][k]·b[k][0:48] into row r's three accumulators.
#define ROW3(addr, za, x, y, z) \
	VBROADCASTSS addr, za; \
	VFMADD231PS  Z24, za, x; \
	VFMADD231PS  Z25, za, y; \
	VFMADD231PS  Z26, za, z

// KSTEP3 is one k step of the 8×48 tile: three rows of B, eight broadcasts, 24 FMAs.
#define KSTEP3(aoff, boff) \
	VMOVUPS boff(BX), Z24; \
	VMOVUPS boff(BX)(CX*1), Z25; \
	VMOVUPS boff(BX)(CX*2), Z26; \
	ROW3(AROW0(aoff), Z27, Z0, Z1, Z2); \
	ROW3(AROW1(aoff), Z28, Z3, Z4, Z5); \
	ROW3(AROW2(aoff), Z29, Z6, Z7, Z8); \
	ROW3(AROW3(aoff), Z30, Z9, Z10, Z11); \
	ROW3(AROW4(aoff), Z31, Z12, Z13, Z14); \
	ROW3(AROW5(aoff), Z27, Z15, Z16, Z17); \
	ROW3(AROW6(aoff), Z28, Z18, Z19, Z20); \
	ROW3(AROW7(aoff), Z29, Z21, Z22, Z23)

// KSTEP3R4 and KSTEP3R2 are KSTEP3 for the first four rows and the first two: a last tile of
// few rows (the 257th token of a ViT) costs half or a quarter of a whole one.
#define KSTEP3R4(aoff, boff) \
	VMOVUPS boff(BX), Z24; \
	VMOVUPS boff(BX)(CX*1), Z25; \
	VMOVUPS boff(BX)(CX*2), Z26; \
	ROW3(AROW0(aoff), Z27, Z0, Z1, Z2); \
	ROW3(AROW1(aoff), Z28, Z3, Z4, Z5); \
	ROW3(AROW2(aoff), Z29, Z6, Z7, Z8); \
	ROW3(AROW3(aoff), Z30, Z9, Z10, Z11)

#define KSTEP3R2(aoff, boff) \
	VMOVUPS boff(BX), Z24; \
	VMOVUPS boff(BX)(CX*1), Z25; \
	VMOVUPS boff(BX)(CX*2), Z26; \
	ROW3(AROW0(aoff), Z27, Z0, Z1, Z2); \
	ROW3(AROW1(aoff), Z28, Z3, Z4, Z5)

// AROW8 is row 8 of a tile of nine rows (see KSTEP9).
#define AROW8(off) off(R9)(R10*4)

// ROW3N is ROW3 with the row of B in Z27-Z29.
#define ROW3N(addr, za, x, y, z) \
	VBROADCASTSS addr, za; \
	VFMADD231PS  Z27, za, x; \
	VFMADD231PS  Z28, za, y; \
	VFMADD231PS  Z29, za, z

// KSTEP9 is KSTEP3 for a tile of nine rows, the ninth in Z24-Z26: a product of 8t + 1 rows
// (the 257 tokens of a ViT at batch 1) runs its last nine rows as one tile rather than a
// tile of eight and one of a single row, which read the whole block of B from L2 for a row
// (timing each kernel call, scratch: 0.39 of an 8-row tile's time). Nine rows take 27 of the
// 32 registers, B three, and the broadcasts the last two.
#define KSTEP9(aoff, boff) \
	VMOVUPS boff(BX), Z27; \
	VMOVUPS boff(BX)(CX*1), Z28; \
	VMOVUPS boff(BX)(CX*2), Z29; \
	ROW3N(AROW0(aoff), Z30, Z0, Z1, Z2); \
	ROW3N(AROW1(aoff), Z31, Z3, Z4, Z5); \
	ROW3N(AROW2(aoff), Z30, Z6, Z7, Z8); \
	ROW3N(AROW3(aoff), Z31, Z9, Z10, Z11); \
	ROW3N(AROW4(aoff), Z30, Z12, Z13, Z14); \
	ROW3N(AROW5(aoff), Z31, Z15, Z16, Z17); \
	ROW3N(AROW6(aoff), Z30, Z18, Z19, Z20); \
	ROW3N(AROW7(aoff), Z31, Z21, Z22, Z23); \
	ROW3N(AROW8(aoff), Z30, Z24, Z25, Z26)

// ROW2, KSTEP2: the same for a tile of two panels.
#define ROW2(addr, za, x, y) \
	VBROADCASTSS addr, za; \
	VFMADD231PS  Z24, za, x; \
	VFMADD231PS  Z25, za, y

#define KSTEP2(aoff, boff) \
	VMOVUPS boff(BX), Z24; \
	VMOVUPS boff(BX)(CX*1), Z25; \
	ROW2(AROW0(aoff), Z27, Z0, Z1); \
	ROW2(AROW1(aoff), Z28, Z2, Z3); \
	ROW2(AROW2(aoff), Z29, Z4, Z5); \
	ROW2(AROW3(aoff), Z30, Z6, Z7); \
	ROW2(AROW4(aoff), Z31, Z8, Z9); \
	ROW2(AROW5(aoff), Z27, Z10, Z11); \
	ROW2(AROW6(aoff), Z28, Z12, Z13); \
	ROW2(AROW7(aoff), Z29, Z14, Z15)

// KSTEP2R9 is KSTEP2 for a tile of nine rows, the ninth in Z16, Z17.
#define KSTEP2R9(aoff, boff) \
	KSTEP2(aoff, boff); \
	ROW2(AROW8(aoff), Z30, Z16, Z17)

// ROW1, KSTEP1: the same for a tile of one panel.
#define ROW1(addr, za, x) \
	VBROADCASTSS addr, za; \
	VFMADD231PS  Z24, za, x

#define KSTEP1(aoff, boff) \
	VMOVUPS boff(BX), Z24; \
	ROW1(AROW0(aoff), Z27, Z0); \
	ROW1(AROW1(aoff), Z28, Z1); \
	ROW1(AROW2(aoff), Z29, Z2); \
	ROW1(AROW3(aoff), Z30, Z3); \
	ROW1(AROW4(aoff), Z31, Z4); \
	ROW1(AROW5(aoff), Z27, Z5); \
	ROW1(AROW6(aoff), Z28, Z6); \
	ROW1(AROW7(aoff), Z29, Z7)

// PREFETCHC fetches the tile's rows of c (three lines each) while the k loop runs.
#define PREFETCHC1 PREFETCHT0 (R13); PREFETCHT0 64(R13); PREFETCHT0 128(R13); ADDQ DI, R13
#define PREFETCHC \
	MOVQ SI, R13; \
	PREFETCHC1; PREFETCHC1; PREFETCHC1; PREFETCHC1; \
	PREFETCHC1; PREFETCHC1; PREFETCHC1; PREFETCHC1

// START begins a tile: prefetch c, clear the accumulators, point at the first k.
#define START \
	PREFETCHC; \
	ZERO24; \
	MOVQ a+0(FP), AX; \
	LEAQ (AX)(R10*4), R9; \
	MOVQ R12, BX; \
	MOVQ kc+32(FP), DX

// NEXTK4 and NEXTK1 move on by four k steps and by one.
#define NEXTK4 ADDQ $16, AX; ADDQ $16, R9; ADDQ $256, BX
#define NEXTK1 ADDQ $4, AX; ADDQ $4, R9; ADDQ $64, BX

// BIAS loads the bias of the tile's columns into Z24-Z26 (zero without bias) and moves the
// bias pointer on by n bytes.
#define BIAS(n) \
	VPXORD Z24, Z24, Z24; \
	VPXORD Z25, Z25, Z25; \
	VPXORD Z26, Z26, Z26; \
	MOVQ   bias+80(FP), R13; \
	TESTQ  R13, R13; \
	JZ     6(PC); \
	VMOVUPS.Z (R13), K1, Z24; \
	VMOVUPS.Z 64(R13), K2, Z25; \
	VMOVUPS.Z 128(R13), K3, Z26; \
	ADDQ   $n, R13; \
	MOVQ   R13, bias+80(FP)

// STORE3 writes one row of a three-panel tile, c = acc + bias, then goes to the next row (DX
// rows left; done when none). ACC3 is the same for c += acc + bias.
#define STORE3(x, y, z, done) \
	VADDPS  Z24, x, x; \
	VADDPS  Z25, y, y; \
	VADDPS  Z26, z, z; \
	VMOVUPS x, K1, (R13); \
	VMOVUPS y, K2, 64(R13); \
	VMOVUPS z, K3, 128(R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define ACC3(x, y, z, done) \
	VMOVUPS.Z (R13), K1, Z27; \
	VMOVUPS.Z 64(R13), K2, Z28; \
	VMOVUPS.Z 128(R13), K3, Z29; \
	VADDPS    Z27, x, x; \
	VADDPS    Z28, y, y; \
	VADDPS    Z29, z, z; \
	STORE3(x, y, z, done)

#define STORE2(x, y, done) \
	VADDPS  Z24, x, x; \
	VADDPS  Z25, y, y; \
	VMOVUPS x, K1, (R13); \
	VMOVUPS y, K2, 64(R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define ACC2(x, y, done) \
	VMOVUPS.Z (R13), K1, Z27; \
	VMOVUPS.Z 64(R13), K2, Z28; \
	VADDPS    Z27, x, x; \
	VADDPS    Z28, y, y; \
	STORE2(x, y, done)

#define STORE1(x, done) \
	VADDPS  Z24, x, x; \
	VMOVUPS x, K1, (R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define ACC1(x, done) \
	VMOVUPS.Z (R13), K1, Z27; \
	VADDPS    Z27, x, x; \
	STORE1(x, done)

// STOREPHASE writes the tile with STORE or ACC (flags bit 0) over rows+64(FP) rows.
#define STORESTART \
	MOVQ  SI, R13; \
	MOVQ  rows+64(FP), DX; \
	TESTQ $1, flags+88(FP)

// func sgemm8x48AVX512(a *float32, lda int, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int, pf *float32, pfLines int, pfRuns int, pfGap int, pfStride int)
// Requires: AVX512F
TEXT ·sgemm8x48AVX512(SB), NOSPLIT, $0-136
	MOVQ  pf+96(FP), R14
	MOVQ  pfLines+104(FP), R15
	SHLQ  $6, R15
	ADDQ  R14, R15               // R15 = the end of the lines to fetch into L2
	MOVQ  lda+8(FP), R10
	SHLQ  $2, R10                // R10 = lda bytes
	LEAQ  (R10)(R10*2), R11      // R11 = 3·lda bytes
	MOVQ  b+16(FP), R12
	MOVQ  c+24(FP), SI
	MOVQ  panels+40(FP), R8
	MOVQ  pstride+48(FP), CX
	SHLQ  $2, CX                 // CX = pstride bytes
	MOVQ  ldc+56(FP), DI
	SHLQ  $2, DI                 // DI = ldc bytes
	MOVQ  $0xffff, R13
	KMOVW R13, K1
	KMOVW R13, K2
	KMOVW R13, K3

triple:
	CMPQ  R8, $4                 // four panels left: two tiles of two rather than 3 + 1
	JEQ   pair
	CMPQ  R8, $3
	JLT   pair
	JNE   triplestart
	MOVQ  lastMask+72(FP), R13   // the last tile: mask its third panel
	KMOVW R13, K3

triplestart:
	START
	CMPQ  rows+64(FP), $9
	JEQ   triple9
	CMPQ  rows+64(FP), $4
	JLE   triplefew
	SHRQ  $2, DX                 // DX = kc/4
	JZ    tripletail
	TESTQ $2, flags+88(FP)
	JNZ   triplefetch

tripleloop:
	KSTEP3(0, 0)
	KSTEP3(4, 64)
	KSTEP3(8, 128)
	KSTEP3(12, 192)
	NEXTK4
	PREFETCHL2
	DECQ  DX
	JNZ   tripleloop
	JMP   tripletail

triplefetch:
	// The first tile to read this block of B fetches its three panels into L1 32 k steps
	// (2 KiB, some 100 ns) ahead of their use: the last tiles of the block before fetched this
	// one into L2 only in part, and the hardware prefetchers stop at each 4 KiB page of a
	// panel. (Before, it fetched the next tile's panels, a whole tile ahead: lines that L1 could
	// not hold until their use. Timing each kernel call of vitb14 passes, scratch: a block's
	// first tile took 0.79 rather than 1.05 µs a panel, against 0.47 for the tiles after it;
	// 1536-4096 bytes ahead all gave 0.78-0.86.)
	LEAQ  2048(BX), R13          // R13 = b, 32 k steps on

triplefetchloop:
	KSTEP3(0, 0)
	PREFETCHT0 (R13); PREFETCHT0 (R13)(CX*1); PREFETCHT0 (R13)(CX*2)
	KSTEP3(4, 64)
	PREFETCHT0 64(R13); PREFETCHT0 64(R13)(CX*1); PREFETCHT0 64(R13)(CX*2)
	KSTEP3(8, 128)
	PREFETCHT0 128(R13); PREFETCHT0 128(R13)(CX*1); PREFETCHT0 128(R13)(CX*2)
	KSTEP3(12, 192)
	PREFETCHT0 192(R13); PREFETCHT0 192(R13)(CX*1); PREFETCHT0 192(R13)(CX*2)
	NEXTK4
	PREFETCHL2
	ADDQ  $256, R13
	DECQ  DX
	JNZ   triplefetchloop

tripletail:
	MOVQ  kc+32(FP), DX
	ANDQ  $3, DX
	JZ    triplestore

tripletailloop:
	KSTEP3(0, 0)
	NEXTK1
	DECQ  DX
	JNZ   tripletailloop
	JMP   triplestore

triplefew:
	// Four rows or fewer: the k loop of four rows or of two (no prefetching: such a tile is
	// the first to read its block of B only in a product of at most four rows).
	CMPQ  rows+64(FP), $2
	JLE   triple2
	SHRQ  $2, DX
	JZ    triple4tail

triple4loop:
	KSTEP3R4(0, 0)
	KSTEP3R4(4, 64)
	KSTEP3R4(8, 128)
	KSTEP3R4(12, 192)
	NEXTK4
	DECQ  DX
	JNZ   triple4loop

triple4tail:
	MOVQ  kc+32(FP), DX
	ANDQ  $3, DX
	JZ    triplestore

triple4tailloop:
	KSTEP3R4(0, 0)
	NEXTK1
	DECQ  DX
	JNZ   triple4tailloop
	JMP   triplestore

triple9:
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	SHRQ   $2, DX
	JZ     triple9tail

triple9loop:
	KSTEP9(0, 0)
	KSTEP9(4, 64)
	KSTEP9(8, 128)
	KSTEP9(12, 192)
	NEXTK4
	PREFETCHL2
	DECQ  DX
	JNZ   triple9loop

triple9tail:
	MOVQ  kc+32(FP), DX
	ANDQ  $3, DX
	JZ    triple9row8

triple9tailloop:
	KSTEP9(0, 0)
	NEXTK1
	DECQ  DX
	JNZ   triple9tailloop

triple9row8:
	// Row 8 first, with the bias in Z27-Z29 (the bias pointer moves on in triplestore), so
	// that rows 0-7 are then stored as an eight-row tile's.
	VPXORD    Z27, Z27, Z27
	VPXORD    Z28, Z28, Z28
	VPXORD    Z29, Z29, Z29
	MOVQ      bias+80(FP), R13
	TESTQ     R13, R13
	JZ        triple9nobias
	VMOVUPS.Z (R13), K1, Z27
	VMOVUPS.Z 64(R13), K2, Z28
	VMOVUPS.Z 128(R13), K3, Z29

triple9nobias:
	LEAQ      (SI)(DI*8), R13    // R13 = c's row 8
	TESTQ     $1, flags+88(FP)
	JZ        triple9store
	VADDPS.Z  (R13), Z24, K1, Z24
	VADDPS.Z  64(R13), Z25, K2, Z25
	VADDPS.Z  128(R13), Z26, K3, Z26

triple9store:
	VADDPS    Z27, Z24, Z24
	VADDPS    Z28, Z25, Z25
	VADDPS    Z29, Z26, Z26
	VMOVUPS   Z24, K1, (R13)
	VMOVUPS   Z25, K2, 64(R13)
	VMOVUPS   Z26, K3, 128(R13)
	JMP       triplestore

triple2:
	SHRQ  $2, DX
	JZ    triple2tail

triple2loop:
	KSTEP3R2(0, 0)
	KSTEP3R2(4, 64)
	KSTEP3R2(8, 128)
	KSTEP3R2(12, 192)
	NEXTK4
	DECQ  DX
	JNZ   triple2loop

triple2tail:
	MOVQ  kc+32(FP), DX
	ANDQ  $3, DX
	JZ    triplestore

triple2tailloop:
	KSTEP3R2(0, 0)
	NEXTK1
	DECQ  DX
	JNZ   triple2tailloop

triplestore:
	BIAS(192)
	STORESTART
	JNZ   tripleacc
	STORE3(Z0, Z1, Z2, triplenext)
	STORE3(Z3, Z4, Z5, triplenext)
	STORE3(Z6, Z7, Z8, triplenext)
	STORE3(Z9, Z10, Z11, triplenext)
	STORE3(Z12, Z13, Z14, triplenext)
	STORE3(Z15, Z16, Z17, triplenext)
	STORE3(Z18, Z19, Z20, triplenext)
	STORE3(Z21, Z22, Z23, triplenext)
	JMP   triplenext

tripleacc:
	ACC3(Z0, Z1, Z2, triplenext)
	ACC3(Z3, Z4, Z5, triplenext)
	ACC3(Z6, Z7, Z8, triplenext)
	ACC3(Z9, Z10, Z11, triplenext)
	ACC3(Z12, Z13, Z14, triplenext)
	ACC3(Z15, Z16, Z17, triplenext)
	ACC3(Z18, Z19, Z20, triplenext)
	ACC3(Z21, Z22, Z23, triplenext)

triplenext:
	ADDQ  $192, SI               // c += 48 columns
	LEAQ  (R12)(CX*2), R12
	ADDQ  CX, R12                // b += 3 panels
	SUBQ  $3, R8
	JMP   triple

pair:
	// Two or four panels left: a tile of two, its second panel masked if it is the last.
	CMPQ  R8, $2
	JLT   single
	JNE   pairstart
	MOVQ  lastMask+72(FP), R13
	KMOVW R13, K2

pairstart:
	START
	CMPQ  rows+64(FP), $9
	JEQ   pair9
	SHRQ  $2, DX
	JZ    pairtail

pairloop:
	KSTEP2(0, 0)
	KSTEP2(4, 64)
	KSTEP2(8, 128)
	KSTEP2(12, 192)
	NEXTK4
	DECQ  DX
	JNZ   pairloop

pairtail:
	MOVQ  kc+32(FP), DX
	ANDQ  $3, DX
	JZ    pairstore

pairtailloop:
	KSTEP2(0, 0)
	NEXTK1
	DECQ  DX
	JNZ   pairtailloop
	JMP   pairstore

pair9:
	SHRQ  $2, DX
	JZ    pair9tail

pair9loop:
	KSTEP2R9(0, 0)
	KSTEP2R9(4, 64)
	KSTEP2R9(8, 128)
	KSTEP2R9(12, 192)
	NEXTK4
	DECQ  DX
	JNZ   pair9loop

pair9tail:
	MOVQ  kc+32(FP), DX
	ANDQ  $3, DX
	JZ    pairstore

pair9tailloop:
	KSTEP2R9(0, 0)
	NEXTK1
	DECQ  DX
	JNZ   pair9tailloop

pairstore:
	BIAS(128)
	STORESTART
	JNZ   pairacc
	STORE2(Z0, Z1, pairnext)
	STORE2(Z2, Z3, pairnext)
	STORE2(Z4, Z5, pairnext)
	STORE2(Z6, Z7, pairnext)
	STORE2(Z8, Z9, pairnext)
	STORE2(Z10, Z11, pairnext)
	STORE2(Z12, Z13, pairnext)
	STORE2(Z14, Z15, pairnext)
	STORE2(Z16, Z17, pairnext)   // row 8 of a tile of nine
	JMP   pairnext

pairacc:
	ACC2(Z0, Z1, pairnext)
	ACC2(Z2, Z3, pairnext)
	ACC2(Z4, Z5, pairnext)
	ACC2(Z6, Z7, pairnext)
	ACC2(Z8, Z9, pairnext)
	ACC2(Z10, Z11, pairnext)
	ACC2(Z12, Z13, pairnext)
	ACC2(Z14, Z15, pairnext)
	ACC2(Z16, Z17, pairnext)

pairnext:
	ADDQ  $128, SI               // c += 32 columns
	LEAQ  (R12)(CX*2), R12       // b += 2 panels
	SUBQ  $2, R8
	JMP   pair

single:
	// One panel left, masked.
	TESTQ R8, R8
	JZ    done
	MOVQ  lastMask+72(FP), R13
	KMOVW R13, K1
	START
	SHRQ  $2, DX
	JZ    singletail

singleloop:
	KSTEP1(0, 0)
	KSTEP1(4, 64)
	KSTEP1(8, 128)
	KSTEP1(12, 192)
	NEXTK4
	DECQ  DX
	JNZ   singleloop

singletail:
	MOVQ  kc+32(FP), DX
	ANDQ  $3, DX
	JZ    singlestore

singletailloop:
	KSTEP1(0, 0)
	NEXTK1
	DECQ  DX
	JNZ   singletailloop

singlestore:
	BIAS(64)
	STORESTART
	JNZ   singleacc
	STORE1(Z0, done)
	STORE1(Z1, done)
	STORE1(Z2, done)
	STORE1(Z3, done)
	STORE1(Z4, done)
	STORE1(Z5, done)
	STORE1(Z6, done)
	STORE1(Z7, done)
	JMP   done

singleacc:
	ACC1(Z0, done)
	ACC1(Z1, done)
	ACC1(Z2, done)
	ACC1(Z3, done)
	ACC1(Z4, done)
	ACC1(Z5, done)
	ACC1(Z6, done)
	ACC1(Z7, done)

done:
	VZEROUPPER
	RET
