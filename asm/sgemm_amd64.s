//go:build !purego

#include "textflag.h"

// The matrix-product micro-kernels for amd64. Each call computes one strip of register tiles:
// MR rows of packed A (row r at r*AROW floats, see aRowStride in sgemm_amd64.go) times a run
// of 16-wide panels of B, over one block of k. Go does the rest (sgemm_amd64.go): packing A,
// cache blocking, splitting the work so that one call stays well under a millisecond.
//
// Register map of sgemm12x32AVX512 (12 rows × 2 panels per tile):
//   AX        a: packed A at the current k; row r at r*AROWB(AX)
//   BX        b: panel p at the current k; panel p+1 at (BX)(CX*1)
//   CX        panel stride in bytes (16·K floats)
//   DX        k steps left in the loop; rows left in the store loop
//   SI        c: the tile's top-left element
//   DI        ldc in bytes
//   R8        panels left, the tile's included
//   R9        rows to store (1..12)
//   R10       bias at the tile's first column, or 0
//   R11       flags: bit 0 = add the product to c instead of storing it; bit 1 = prefetch
//             the next pair of panels of B while reading this one
//   R13       (prefetching) the next pair's b
//   R12       b at the first k of the tile's first panel
//   R13       c row in the store loop; scratch
//   Z0-Z23    accumulators: row r in Z(2r) (panel p) and Z(2r+1) (panel p+1)
//   Z24, Z25  one row of B (panels p, p+1); the bias in the store phase
//   Z26-Z31   a[r][k] broadcast; c in the store phase
//   K1, K2    column masks of panels p and p+1 (all ones but in the last panel)

// AROWB is the byte stride between packed rows of A: 528 floats (aRowStride), which is not a
// multiple of 4 KiB apart so that the twelve rows fall in different L1 sets.
#define AROWB 2112

// ROW2 adds a[r][k]·b[k][0:32] into row r's two accumulators.
#define ROW2(r, aoff, za, lo, hi) \
	VBROADCASTSS (aoff+r*AROWB)(AX), za; \
	VFMADD231PS  Z24, za, lo; \
	VFMADD231PS  Z25, za, hi

// KSTEP2 is one k step of the 12×32 tile: load b[k] of both panels, 24 FMAs.
#define KSTEP2(aoff, boff) \
	VMOVUPS boff(BX), Z24; \
	VMOVUPS boff(BX)(CX*1), Z25; \
	ROW2(0, aoff, Z26, Z0, Z1); \
	ROW2(1, aoff, Z27, Z2, Z3); \
	ROW2(2, aoff, Z28, Z4, Z5); \
	ROW2(3, aoff, Z29, Z6, Z7); \
	ROW2(4, aoff, Z30, Z8, Z9); \
	ROW2(5, aoff, Z31, Z10, Z11); \
	ROW2(6, aoff, Z26, Z12, Z13); \
	ROW2(7, aoff, Z27, Z14, Z15); \
	ROW2(8, aoff, Z28, Z16, Z17); \
	ROW2(9, aoff, Z29, Z18, Z19); \
	ROW2(10, aoff, Z30, Z20, Z21); \
	ROW2(11, aoff, Z31, Z22, Z23)

// ROW1 and KSTEP1 are the same for a tile of one panel (the last one when the count is odd),
// accumulating in Z0, Z2, ..., Z22.
#define ROW1(r, aoff, za, acc) \
	VBROADCASTSS (aoff+r*AROWB)(AX), za; \
	VFMADD231PS  Z24, za, acc

#define KSTEP1(aoff, boff) \
	VMOVUPS boff(BX), Z24; \
	ROW1(0, aoff, Z26, Z0); \
	ROW1(1, aoff, Z27, Z2); \
	ROW1(2, aoff, Z28, Z4); \
	ROW1(3, aoff, Z29, Z6); \
	ROW1(4, aoff, Z30, Z8); \
	ROW1(5, aoff, Z31, Z10); \
	ROW1(6, aoff, Z26, Z12); \
	ROW1(7, aoff, Z27, Z14); \
	ROW1(8, aoff, Z28, Z16); \
	ROW1(9, aoff, Z29, Z18); \
	ROW1(10, aoff, Z30, Z20); \
	ROW1(11, aoff, Z31, Z22)

// ZERO24 clears the accumulators.
#define ZERO24 \
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; VPXORD Z5, Z5, Z5; VPXORD Z6, Z6, Z6; VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; VPXORD Z9, Z9, Z9; VPXORD Z10, Z10, Z10; VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; VPXORD Z13, Z13, Z13; VPXORD Z14, Z14, Z14; VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; VPXORD Z17, Z17, Z17; VPXORD Z18, Z18, Z18; VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; VPXORD Z21, Z21, Z21; VPXORD Z22, Z22, Z22; VPXORD Z23, Z23, Z23

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

// STORE2 writes row r of a two-panel tile: c = acc + bias, then the next row (DX rows left).
#define STORE2(lo, hi, done) \
	VADDPS  Z24, lo, lo; \
	VADDPS  Z25, hi, hi; \
	VMOVUPS lo, K1, (R13); \
	VMOVUPS hi, K2, 64(R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

// ACC2 is STORE2 for c += acc + bias.
#define ACC2(lo, hi, done) \
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

// STORE1 and ACC1 are the same for a one-panel tile.
#define STORE1(acc, done) \
	VADDPS  Z24, acc, acc; \
	VMOVUPS acc, K1, (R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define ACC1(acc, done) \
	VADDPS    Z24, acc, acc; \
	VMOVUPS.Z (R13), K1, Z26; \
	VADDPS    Z26, acc, acc; \
	VMOVUPS   acc, K1, (R13); \
	ADDQ      DI, R13; \
	DECQ      DX; \
	JZ        done

// func sgemm12x32AVX512(a *float32, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, lastMask int, bias *float32, flags int)
// Requires: AVX512F
TEXT ·sgemm12x32AVX512(SB), NOSPLIT, $0-88
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), R12
	MOVQ c+16(FP), SI
	MOVQ panels+32(FP), R8
	MOVQ pstride+40(FP), CX
	SHLQ $2, CX                  // CX = pstride*4 bytes
	MOVQ ldc+48(FP), DI
	SHLQ $2, DI                  // DI = ldc*4 bytes
	MOVQ rows+56(FP), R9
	MOVQ bias+72(FP), R10
	MOVQ flags+80(FP), R11
	MOVQ $0xffff, R13
	KMOVW R13, K1
	KMOVW R13, K2

pair:
	CMPQ R8, $2
	JLT  single
	JNE  pairmask
	MOVQ lastMask+64(FP), R13    // the last pair: mask panel p+1
	KMOVW R13, K2

pairmask:
	PREFETCHC
	ZERO24
	MOVQ a+0(FP), AX
	MOVQ R12, BX
	MOVQ kc+24(FP), DX
	SHRQ $2, DX                  // DX = kc/4
	JZ   pairtail
	TESTQ $2, R11
	JNZ  pairfetch

pairloop:
	KSTEP2(0, 0)
	KSTEP2(4, 64)
	KSTEP2(8, 128)
	KSTEP2(12, 192)
	ADDQ $16, AX
	ADDQ $256, BX
	DECQ DX
	JNZ  pairloop
	JMP  pairtail

pairfetch:
	// The first tile to read this block of B also fetches the next pair of panels into L1
	// (and L2, where the tiles below will find it): the hardware prefetchers stop at each 4 KiB
	// page of a panel, and this block comes from L3 or memory.
	LEAQ (BX)(CX*2), R13         // R13 = the next pair's b

pairfetchloop:
	KSTEP2(0, 0)
	PREFETCHT0 (R13); PREFETCHT0 (R13)(CX*1)
	KSTEP2(4, 64)
	PREFETCHT0 64(R13); PREFETCHT0 64(R13)(CX*1)
	KSTEP2(8, 128)
	PREFETCHT0 128(R13); PREFETCHT0 128(R13)(CX*1)
	KSTEP2(12, 192)
	PREFETCHT0 192(R13); PREFETCHT0 192(R13)(CX*1)
	ADDQ $16, AX
	ADDQ $256, BX
	ADDQ $256, R13
	DECQ DX
	JNZ  pairfetchloop

pairtail:
	MOVQ kc+24(FP), DX
	ANDQ $3, DX
	JZ   pairstore

pairtailloop:
	KSTEP2(0, 0)
	ADDQ $4, AX
	ADDQ $64, BX
	DECQ DX
	JNZ  pairtailloop

pairstore:
	// Z24, Z25 = bias[0:32] (zero without bias)
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	TESTQ  R10, R10
	JZ     pairbiasdone
	VMOVUPS.Z (R10), K1, Z24
	VMOVUPS.Z 64(R10), K2, Z25
	ADDQ   $128, R10

pairbiasdone:
	MOVQ  SI, R13
	MOVQ  R9, DX
	TESTQ $1, R11
	JNZ   pairacc
	STORE2(Z0, Z1, pairnext)
	STORE2(Z2, Z3, pairnext)
	STORE2(Z4, Z5, pairnext)
	STORE2(Z6, Z7, pairnext)
	STORE2(Z8, Z9, pairnext)
	STORE2(Z10, Z11, pairnext)
	STORE2(Z12, Z13, pairnext)
	STORE2(Z14, Z15, pairnext)
	STORE2(Z16, Z17, pairnext)
	STORE2(Z18, Z19, pairnext)
	STORE2(Z20, Z21, pairnext)
	STORE2(Z22, Z23, pairnext)
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
	ACC2(Z18, Z19, pairnext)
	ACC2(Z20, Z21, pairnext)
	ACC2(Z22, Z23, pairnext)

pairnext:
	ADDQ $128, SI                // c += 32 columns
	LEAQ (R12)(CX*2), R12        // b += 2 panels
	SUBQ $2, R8
	JMP  pair

single:
	TESTQ R8, R8
	JZ    done
	MOVQ  lastMask+64(FP), R13   // the last panel, alone
	KMOVW R13, K1
	PREFETCHC
	ZERO24
	MOVQ  a+0(FP), AX
	MOVQ  R12, BX
	MOVQ  kc+24(FP), DX
	SHRQ  $2, DX
	JZ    singletail

singleloop:
	KSTEP1(0, 0)
	KSTEP1(4, 64)
	KSTEP1(8, 128)
	KSTEP1(12, 192)
	ADDQ $16, AX
	ADDQ $256, BX
	DECQ DX
	JNZ  singleloop

singletail:
	MOVQ kc+24(FP), DX
	ANDQ $3, DX
	JZ   singlestore

singletailloop:
	KSTEP1(0, 0)
	ADDQ $4, AX
	ADDQ $64, BX
	DECQ DX
	JNZ  singletailloop

singlestore:
	VPXORD Z24, Z24, Z24
	TESTQ  R10, R10
	JZ     singlebiasdone
	VMOVUPS.Z (R10), K1, Z24

singlebiasdone:
	MOVQ  SI, R13
	MOVQ  R9, DX
	TESTQ $1, R11
	JNZ   singleacc
	STORE1(Z0, done)
	STORE1(Z2, done)
	STORE1(Z4, done)
	STORE1(Z6, done)
	STORE1(Z8, done)
	STORE1(Z10, done)
	STORE1(Z12, done)
	STORE1(Z14, done)
	STORE1(Z16, done)
	STORE1(Z18, done)
	STORE1(Z20, done)
	STORE1(Z22, done)
	JMP   done

singleacc:
	ACC1(Z0, done)
	ACC1(Z2, done)
	ACC1(Z4, done)
	ACC1(Z6, done)
	ACC1(Z8, done)
	ACC1(Z10, done)
	ACC1(Z12, done)
	ACC1(Z14, done)
	ACC1(Z16, done)
	ACC1(Z18, done)
	ACC1(Z20, done)
	ACC1(Z22, done)

done:
	VZEROUPPER
	RET

// Register map of sgemm6x16AVX2 (6 rows × 1 panel per tile), where it differs from the above:
//   BX        b: the tile's panel at the current k
//   R8        panels left, the tile's included
//   Y0-Y11    accumulators: row r in Y(2r) (columns 0-7) and Y(2r+1) (columns 8-15)
//   Y12, Y13  one row of B; the bias, then c, in the store phase
//   Y14, Y15  a[r][k] broadcast; the column masks in the last panel's store phase

// ROWY adds a[r][k]·b[k][0:16] into row r's two accumulators.
#define ROWY(r, aoff, ya, lo, hi) \
	VBROADCASTSS (aoff+r*AROWB)(AX), ya; \
	VFMADD231PS  Y12, ya, lo; \
	VFMADD231PS  Y13, ya, hi

// KSTEPY is one k step of the 6×16 tile: load b[k], 12 FMAs.
#define KSTEPY(aoff, boff) \
	VMOVUPS boff(BX), Y12; \
	VMOVUPS (boff+32)(BX), Y13; \
	ROWY(0, aoff, Y14, Y0, Y1); \
	ROWY(1, aoff, Y15, Y2, Y3); \
	ROWY(2, aoff, Y14, Y4, Y5); \
	ROWY(3, aoff, Y15, Y6, Y7); \
	ROWY(4, aoff, Y14, Y8, Y9); \
	ROWY(5, aoff, Y15, Y10, Y11)

// STOREY writes one row of a full panel: c = acc (+ c when accumulating), then the next row.
#define STOREY(lo, hi, done) \
	VMOVUPS lo, (R13); \
	VMOVUPS hi, 32(R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define ACCY(lo, hi, done) \
	VADDPS  (R13), lo, lo; \
	VADDPS  32(R13), hi, hi; \
	STOREY(lo, hi, done)

// MSTOREY and MACCY are the same for the columns of the last panel that Y14, Y15 select.
#define MSTOREY(lo, hi, done) \
	VMASKMOVPS lo, Y14, (R13); \
	VMASKMOVPS hi, Y15, 32(R13); \
	ADDQ       DI, R13; \
	DECQ       DX; \
	JZ         done

#define MACCY(lo, hi, done) \
	VMASKMOVPS (R13), Y14, Y12; \
	VMASKMOVPS 32(R13), Y15, Y13; \
	VADDPS     Y12, lo, lo; \
	VADDPS     Y13, hi, hi; \
	MSTOREY(lo, hi, done)

// ADDBIASY adds Y12, Y13 to every accumulator.
#define ADDBIASY \
	VADDPS Y12, Y0, Y0; VADDPS Y13, Y1, Y1; VADDPS Y12, Y2, Y2; VADDPS Y13, Y3, Y3; \
	VADDPS Y12, Y4, Y4; VADDPS Y13, Y5, Y5; VADDPS Y12, Y6, Y6; VADDPS Y13, Y7, Y7; \
	VADDPS Y12, Y8, Y8; VADDPS Y13, Y9, Y9; VADDPS Y12, Y10, Y10; VADDPS Y13, Y11, Y11

// colMask: lanes j of the 8 floats at colMask+4·(16-cols) (and +4·(24-cols) for lanes 8..15)
// are all ones exactly when j < cols.
DATA colMask<>+0x00(SB)/8, $0xffffffffffffffff
DATA colMask<>+0x08(SB)/8, $0xffffffffffffffff
DATA colMask<>+0x10(SB)/8, $0xffffffffffffffff
DATA colMask<>+0x18(SB)/8, $0xffffffffffffffff
DATA colMask<>+0x20(SB)/8, $0xffffffffffffffff
DATA colMask<>+0x28(SB)/8, $0xffffffffffffffff
DATA colMask<>+0x30(SB)/8, $0xffffffffffffffff
DATA colMask<>+0x38(SB)/8, $0xffffffffffffffff
DATA colMask<>+0x40(SB)/8, $0
DATA colMask<>+0x48(SB)/8, $0
DATA colMask<>+0x50(SB)/8, $0
DATA colMask<>+0x58(SB)/8, $0
DATA colMask<>+0x60(SB)/8, $0
DATA colMask<>+0x68(SB)/8, $0
DATA colMask<>+0x70(SB)/8, $0
DATA colMask<>+0x78(SB)/8, $0
GLOBL colMask<>(SB), RODATA|NOPTR, $128

// func sgemm6x16AVX2(a *float32, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, lastCols int, bias *float32, flags int)
// Requires: AVX, AVX2, FMA
TEXT ·sgemm6x16AVX2(SB), NOSPLIT, $0-88
	MOVQ a+0(FP), AX
	MOVQ b+8(FP), R12
	MOVQ c+16(FP), SI
	MOVQ panels+32(FP), R8
	MOVQ pstride+40(FP), CX
	SHLQ $2, CX                  // CX = pstride*4 bytes
	MOVQ ldc+48(FP), DI
	SHLQ $2, DI                  // DI = ldc*4 bytes
	MOVQ rows+56(FP), R9
	MOVQ bias+72(FP), R10
	MOVQ flags+80(FP), R11

panel:
	TESTQ R8, R8
	JZ    done
	MOVQ  SI, R13                // prefetch the tile's rows of c
	PREFETCHT0 (R13); ADDQ DI, R13
	PREFETCHT0 (R13); ADDQ DI, R13
	PREFETCHT0 (R13); ADDQ DI, R13
	PREFETCHT0 (R13); ADDQ DI, R13
	PREFETCHT0 (R13); ADDQ DI, R13
	PREFETCHT0 (R13)
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
	MOVQ a+0(FP), AX
	MOVQ R12, BX
	MOVQ kc+24(FP), DX
	SHRQ $2, DX                  // DX = kc/4
	JZ   tail

loop:
	KSTEPY(0, 0)
	KSTEPY(4, 64)
	KSTEPY(8, 128)
	KSTEPY(12, 192)
	ADDQ $16, AX
	ADDQ $256, BX
	DECQ DX
	JNZ  loop

tail:
	MOVQ kc+24(FP), DX
	ANDQ $3, DX
	JZ   store

tailloop:
	KSTEPY(0, 0)
	ADDQ $4, AX
	ADDQ $64, BX
	DECQ DX
	JNZ  tailloop

store:
	MOVQ SI, R13
	MOVQ R9, DX
	CMPQ R8, $1
	JNE  full
	CMPQ lastCols+64(FP), $16
	JNE  partial

full:
	TESTQ R10, R10
	JZ    fullbiasdone
	VMOVUPS (R10), Y12
	VMOVUPS 32(R10), Y13
	ADDBIASY
	ADDQ  $64, R10

fullbiasdone:
	TESTQ $1, R11
	JNZ   fullacc
	STOREY(Y0, Y1, next)
	STOREY(Y2, Y3, next)
	STOREY(Y4, Y5, next)
	STOREY(Y6, Y7, next)
	STOREY(Y8, Y9, next)
	STOREY(Y10, Y11, next)
	JMP   next

fullacc:
	ACCY(Y0, Y1, next)
	ACCY(Y2, Y3, next)
	ACCY(Y4, Y5, next)
	ACCY(Y6, Y7, next)
	ACCY(Y8, Y9, next)
	ACCY(Y10, Y11, next)

next:
	ADDQ $64, SI                 // c += 16 columns
	ADDQ CX, R12                 // b += 1 panel
	DECQ R8
	JMP  panel

partial:
	MOVQ    $16, R13
	SUBQ    lastCols+64(FP), R13
	LEAQ    colMask<>(SB), BX
	VMOVUPS (BX)(R13*4), Y14     // Y14, Y15 = lanes < lastCols
	VMOVUPS 32(BX)(R13*4), Y15
	MOVQ    SI, R13
	TESTQ   R10, R10
	JZ      partialbiasdone
	VMASKMOVPS (R10), Y14, Y12
	VMASKMOVPS 32(R10), Y15, Y13
	ADDBIASY

partialbiasdone:
	TESTQ $1, R11
	JNZ   partialacc
	MSTOREY(Y0, Y1, done)
	MSTOREY(Y2, Y3, done)
	MSTOREY(Y4, Y5, done)
	MSTOREY(Y6, Y7, done)
	MSTOREY(Y8, Y9, done)
	MSTOREY(Y10, Y11, done)
	JMP   done

partialacc:
	MACCY(Y0, Y1, done)
	MACCY(Y2, Y3, done)
	MACCY(Y4, Y5, done)
	MACCY(Y6, Y7, done)
	MACCY(Y8, Y9, done)
	MACCY(Y10, Y11, done)

done:
	VZEROUPPER
	RET
