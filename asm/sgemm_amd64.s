//go:build !purego

#include "textflag.h"
#include "prefetch_amd64.h"

// The AVX2 matrix-product micro-kernel (the AVX-512 one is in sgemm_avx512_amd64.s). Each call
// computes one strip of register tiles: 6 rows of A (row r at r·lda floats) times a run of
// 16-wide panels of B, over one block of k. Go does the rest (sgemm_amd64.go): cache blocking,
// packing the rows of a last short tile, splitting the work so that one call stays well under
// a millisecond.
//
// Register map of sgemm6x16AVX2 (6 rows × 1 panel per tile):
//   AX        a: row 0 at the current k (rows 1-3 at AX + lda·{1,2,3})
//   R9        a: row 4 at the current k (row 5 at R9 + lda)
//   R10, R11  lda and 3·lda in bytes
//   BX        b: the tile's panel at the current k
//   CX        panel stride in bytes (4·pstride)
//   DX        k steps left in the loop; rows left in the store loop
//   SI        c: the tile's top-left element
//   DI        ldc in bytes
//   R8        panels left, the tile's included
//   R12       b at the first k of the tile's panel
//   R13       c row in the store phase; scratch
//   R14, R15  the next line to fetch into L2 and the end of those lines
//   Y0-Y11    accumulators: row r in Y(2r) (columns 0-7) and Y(2r+1) (columns 8-15)
//   Y12, Y13  one row of B; the bias, then c, in the store phase
//   Y14, Y15  a[r][k] broadcast; the column masks in the last panel's store phase
// The bias pointer lives in its argument slot and moves on by one panel each time it is used.

// ROWY adds a[r][k]·b[k][0:16] into row r's two accumulators.
#define ROWY(addr, ya, lo, hi) \
	VBROADCASTSS addr, ya; \
	VFMADD231PS  Y12, ya, lo; \
	VFMADD231PS  Y13, ya, hi

// KSTEPY is one k step of the 6×16 tile: load b[k], 12 FMAs.
#define KSTEPY(aoff, boff) \
	VMOVUPS boff(BX), Y12; \
	VMOVUPS (boff+32)(BX), Y13; \
	ROWY(aoff(AX), Y14, Y0, Y1); \
	ROWY(aoff(AX)(R10*1), Y15, Y2, Y3); \
	ROWY(aoff(AX)(R10*2), Y14, Y4, Y5); \
	ROWY(aoff(AX)(R11*1), Y15, Y6, Y7); \
	ROWY(aoff(R9), Y14, Y8, Y9); \
	ROWY(aoff(R9)(R10*1), Y15, Y10, Y11)

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

// func sgemm6x16AVX2(a *float32, lda int, b *float32, c *float32, kc int, panels int, pstride int, ldc int, rows int, lastCols int, bias *float32, flags int, pf *float32, pfLines int, pfRuns int, pfGap int, pfStride int)
// Requires: AVX, AVX2, FMA
TEXT ·sgemm6x16AVX2(SB), NOSPLIT, $0-136
	MOVQ lda+8(FP), R10
	SHLQ $2, R10                 // R10 = lda bytes
	LEAQ (R10)(R10*2), R11       // R11 = 3·lda bytes
	MOVQ b+16(FP), R12
	MOVQ c+24(FP), SI
	MOVQ panels+40(FP), R8
	MOVQ pstride+48(FP), CX
	SHLQ $2, CX                  // CX = pstride bytes
	MOVQ ldc+56(FP), DI
	SHLQ $2, DI                  // DI = ldc bytes
	MOVQ pf+96(FP), R14
	MOVQ pfLines+104(FP), R15
	SHLQ $6, R15
	ADDQ R14, R15                // R15 = the end of the lines to fetch into L2

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
	LEAQ (AX)(R10*4), R9
	MOVQ R12, BX
	MOVQ kc+32(FP), DX
	SHRQ $2, DX                  // DX = kc/4
	JZ   tail

loop:
	KSTEPY(0, 0)
	KSTEPY(4, 64)
	KSTEPY(8, 128)
	KSTEPY(12, 192)
	ADDQ $16, AX
	ADDQ $16, R9
	ADDQ $256, BX
	PREFETCHL2                   // one line of the next block of B into L2
	DECQ DX
	JNZ  loop

tail:
	MOVQ kc+32(FP), DX
	ANDQ $3, DX
	JZ   store

tailloop:
	KSTEPY(0, 0)
	ADDQ $4, AX
	ADDQ $4, R9
	ADDQ $64, BX
	DECQ DX
	JNZ  tailloop

store:
	MOVQ SI, R13
	MOVQ rows+64(FP), DX
	CMPQ R8, $1
	JNE  full
	CMPQ lastCols+72(FP), $16
	JNE  partial

full:
	MOVQ  bias+80(FP), BX
	TESTQ BX, BX
	JZ    fullbiasdone
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	ADDBIASY
	ADDQ  $64, BX
	MOVQ  BX, bias+80(FP)

fullbiasdone:
	TESTQ $1, flags+88(FP)
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
	SUBQ    lastCols+72(FP), R13
	LEAQ    colMask<>(SB), BX
	VMOVUPS (BX)(R13*4), Y14     // Y14, Y15 = lanes < lastCols
	VMOVUPS 32(BX)(R13*4), Y15
	MOVQ    SI, R13
	MOVQ    bias+80(FP), BX
	TESTQ   BX, BX
	JZ      partialbiasdone
	VMASKMOVPS (BX), Y14, Y12
	VMASKMOVPS 32(BX), Y15, Y13
	ADDBIASY

partialbiasdone:
	TESTQ $1, flags+88(FP)
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
