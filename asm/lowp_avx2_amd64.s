//go:build !purego

#include "textflag.h"
#include "lowp_amd64.h"

// The AVX2 kernels: 6×16 tiles over whole panels (the driver runs a partial last panel into a
// scratch tile), one panel at a time.
//
// Register map of lowpBF16Widen6x16AVX2, lowpInt8AVXVNNI6x16 and lowpInt8MADDWD6x16:
//   AX        a: packed A at the current k (row r at r*LAROWB(AX)); rowScale when storing int8
//   BX        b: the tile's panel at the current k; rowZP when storing int8
//   CX        panel stride in bytes
//   DX        k steps left in the loop; rows left in the store loop
//   SI        c: the tile's top-left element
//   DI        ldc in bytes
//   R8        panels left, the tile's included
//   R9        rows to store (1..6); int8: the column sums when storing
//   R10       bf16: bias at the tile's first column, or 0;  int8: the lowpInt8Epi
//   R11       flags (bit 0 = add the result to c); int8: the bias when storing
//   R12       b at the first k of the tile's panel
//   R13       c row in the store loop; scratch
//   R14       int8: byte offset of the tile's first column in the column arrays
//   Y0-Y11    accumulators: row r in Y(2r) (columns 0-7) and Y(2r+1) (8-15); MADDWD: columns
//             0-3 and 4-7 of the half panel, each as two partial sums per column
//   Y12, Y13  B at the current k; the column scales when storing
//   Y14, Y15  A broadcast; widen: Y15 = 0xffff0000 in each lane; MADDWD: Y15 a product

// WROWY adds a[r][k]·b[k][0:16] into row r's accumulators.
#define WROWY(r, aoff, lo, hi) \
	VBROADCASTSS (aoff+r*LAROWB)(AX), Y14; \
	VFMADD231PS  Y12, Y14, lo; \
	VFMADD231PS  Y13, Y14, hi

#define WROWSY(aoff) \
	WROWY(0, aoff, Y0, Y1); WROWY(1, aoff, Y2, Y3); WROWY(2, aoff, Y4, Y5); \
	WROWY(3, aoff, Y6, Y7); WROWY(4, aoff, Y8, Y9); WROWY(5, aoff, Y10, Y11)

// WSTEPY is one pair of k of the 6×16 widening tile: 24 FMAs.
#define WSTEPY(aoff, boff) \
	VMOVDQU boff(BX), Y12; \
	VMOVDQU (boff+32)(BX), Y13; \
	VPSLLD  $16, Y12, Y12; \
	VPSLLD  $16, Y13, Y13; \
	WROWSY(aoff); \
	VPAND   boff(BX), Y15, Y12; \
	VPAND   (boff+32)(BX), Y15, Y13; \
	WROWSY(aoff+4)

// VROWY: row r's accumulators += Σ_{4 k} u8(a[r][k:k+4])·s8(b[k:k+4][0:16]) (AVX-VNNI).
#define VROWY(r, aoff, ya, yan, lo, hi) \
	VPBROADCASTD (aoff+r*LAROWB)(AX), ya; \
	VPDPBUSD_VEX(lo, yan, 12); \
	VPDPBUSD_VEX(hi, yan, 13)

#define VSTEPY(aoff, boff) \
	VMOVDQU boff(BX), Y12; \
	VMOVDQU (boff+32)(BX), Y13; \
	VROWY(0, aoff, Y14, 14, 0, 1); VROWY(1, aoff, Y15, 15, 2, 3); VROWY(2, aoff, Y14, 14, 4, 5); \
	VROWY(3, aoff, Y15, 15, 6, 7); VROWY(4, aoff, Y14, 14, 8, 9); VROWY(5, aoff, Y15, 15, 10, 11)

// MROWY: row r's accumulators += pairs of a[r][k:k+4] (int16) · b[k:k+4][columns] (bytes
// widened to int16): VPMADDWD sums k, k+1 and k+2, k+3 into two lanes per column.
#define MROWY(r, aoff, lo, hi) \
	VPBROADCASTQ (aoff+r*LAROWB)(AX), Y14; \
	VPMADDWD     Y12, Y14, Y15; \
	VPADDD       Y15, lo, lo; \
	VPMADDWD     Y13, Y14, Y15; \
	VPADDD       Y15, hi, hi

// MSTEPY is 4 k of 8 columns (the half panel at BX): 12 VPMADDWD.
#define MSTEPY(aoff, boff) \
	VPMOVSXBW boff(BX), Y12; \
	VPMOVSXBW (boff+16)(BX), Y13; \
	MROWY(0, aoff, Y0, Y1); MROWY(1, aoff, Y2, Y3); MROWY(2, aoff, Y4, Y5); \
	MROWY(3, aoff, Y6, Y7); MROWY(4, aoff, Y8, Y9); MROWY(5, aoff, Y10, Y11)

// YLOOP runs a k loop over ksteps: 4 steps an iteration (A advancing astep4 bytes, B 256),
// then one at a time.
#define YLOOP(STEP, as, astep4, astep1, l4, lt, lt1, ldone) \
	MOVQ ksteps+24(FP), DX; \
	SHRQ $2, DX; \
	JZ   lt; \
l4: \
	STEP(0, 0); \
	STEP(as, 64); \
	STEP(2*as, 128); \
	STEP(3*as, 192); \
	ADDQ $astep4, AX; \
	ADDQ $256, BX; \
	DECQ DX; \
	JNZ  l4; \
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

// ZERO12 clears the accumulators.
#define ZERO12 \
	VPXOR Y0, Y0, Y0; VPXOR Y1, Y1, Y1; VPXOR Y2, Y2, Y2; VPXOR Y3, Y3, Y3; \
	VPXOR Y4, Y4, Y4; VPXOR Y5, Y5, Y5; VPXOR Y6, Y6, Y6; VPXOR Y7, Y7, Y7; \
	VPXOR Y8, Y8, Y8; VPXOR Y9, Y9, Y9; VPXOR Y10, Y10, Y10; VPXOR Y11, Y11, Y11

// FSTOREY and FACCY write row r of a float tile (c = acc, c += acc), then the next row.
#define FSTOREY(lo, hi, done) \
	VMOVUPS lo, (R13); \
	VMOVUPS hi, 32(R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define FACCY(lo, hi, done) \
	VADDPS (R13), lo, lo; \
	VADDPS 32(R13), hi, hi; \
	FSTOREY(lo, hi, done)

// ISCALEY turns row r's int32 sums (8 columns in acc; the column arrays at coff bytes) into
// floats as ISCALE2 does: Y12 (Y13) the column scales, R9 the sums, R11 the bias.
#define ISCALEY(r, acc, coff, ys) \
	VPBROADCASTD (r*4)(BX), Y14; \
	VPMULLD      coff(R9), Y14, Y15; \
	VPSUBD       Y15, acc, acc; \
	VCVTDQ2PS    acc, acc; \
	VBROADCASTSS (r*4)(AX), Y14; \
	VMULPS       Y14, acc, acc; \
	VFMADD213PS  coff(R11), ys, acc

#define ISTOREY(r, lo, hi, done) \
	ISCALEY(r, lo, 0, Y12); \
	ISCALEY(r, hi, 32, Y13); \
	FSTOREY(lo, hi, done)

#define IACCY(r, lo, hi, done) \
	ISCALEY(r, lo, 0, Y12); \
	ISCALEY(r, hi, 32, Y13); \
	FACCY(lo, hi, done)

// ISTORE8 and IACC8 are the same for the 8 columns of a half panel in acc.
#define ISTORE8(r, acc, done) \
	ISCALEY(r, acc, 0, Y12); \
	VMOVUPS acc, (R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

#define IACC8(r, acc, done) \
	ISCALEY(r, acc, 0, Y12); \
	VADDPS  (R13), acc, acc; \
	VMOVUPS acc, (R13); \
	ADDQ    DI, R13; \
	DECQ    DX; \
	JZ      done

// IPOINTERSY sets the store phase's registers for the columns at byte offset R14+hoff: AX
// rowScale, BX rowZP, R9 the column sums, R11 the bias, Y12 (Y13) the column scales, DX = rows.
#define IPOINTERSY(hoff) \
	MOVQ    EPI_SCALE(R10), R13; \
	VMOVUPS hoff(R13)(R14*1), Y12; \
	VMOVUPS (hoff+32)(R13)(R14*1), Y13; \
	MOVQ    EPI_SUM(R10), R9; \
	LEAQ    hoff(R9)(R14*1), R9; \
	MOVQ    EPI_BIAS(R10), R11; \
	LEAQ    hoff(R11)(R14*1), R11; \
	MOVQ    EPI_ROWSCALE(R10), AX; \
	MOVQ    EPI_ROWZP(R10), BX; \
	MOVQ    rows+56(FP), DX

// YSTART loads the arguments common to the AVX2 kernels.
#define YSTART \
	MOVQ b+8(FP), R12; \
	MOVQ c+16(FP), SI; \
	MOVQ panels+32(FP), R8; \
	MOVQ pstride+40(FP), CX; \
	MOVQ ldc+48(FP), DI; \
	SHLQ $2, DI

// QUANTY quantizes the 8 floats at (SI) to Y0 (int32 in [0, 255]): Y1 inv, Y2 zp, Y3 0,
// Y4 255.
#define QUANTY \
	VMULPS    (SI), Y1, Y0; \
	VCVTPS2DQ Y0, Y0; \
	VPADDD    Y2, Y0, Y0; \
	VPMAXSD   Y3, Y0, Y0; \
	VPMINSD   Y4, Y0, Y0; \
	VEXTRACTI128 $1, Y0, X5; \
	VPACKUSDW X5, X0, X0         // X0 = the 8 values as words

#define QUANTYSTART \
	MOVQ         dst+0(FP), DI; \
	MOVQ         x+8(FP), SI; \
	MOVQ         n+16(FP), CX; \
	VBROADCASTSS inv+24(FP), Y1; \
	MOVL         zp+28(FP), AX; \
	VMOVD        AX, X2; \
	VPBROADCASTD X2, Y2; \
	VPXOR        Y3, Y3, Y3; \
	MOVL         $255, AX; \
	VMOVD        AX, X4; \
	VPBROADCASTD X4, Y4; \
	SHRQ         $3, CX

// MCOMBINE adds each column's two partial sums: lanes of lo = (c0 c0' c1 c1' | c2 c2' c3 c3'),
// hi the same for c4-c7; after, lo = c0..c7.
#define MCOMBINE(lo, hi) \
	VPHADDD hi, lo, lo; \
	VPERMQ  $0xd8, lo, lo

// MHALF computes the 6×8 tile of the half panel at byte offset hoff (B, c and the column
// arrays) and stores it.
#define MHALF(hoff, l4, lt, lt1, ldone, lacc, lnext) \
	ZERO12; \
	MOVQ a+0(FP), AX; \
	LEAQ hoff(R12), BX; \
	YLOOP(MSTEPY, 8, 32, 8, l4, lt, lt1, ldone); \
	MCOMBINE(Y0, Y1); MCOMBINE(Y2, Y3); MCOMBINE(Y4, Y5); \
	MCOMBINE(Y6, Y7); MCOMBINE(Y8, Y9); MCOMBINE(Y10, Y11); \
	IPOINTERSY(hoff); \
	MOVQ  flags+80(FP), R13; \
	TESTQ $1, R13; \
	LEAQ  hoff(SI), R13; \
	JNZ   lacc; \
	ISTORE8(0, Y0, lnext); ISTORE8(1, Y2, lnext); ISTORE8(2, Y4, lnext); \
	ISTORE8(3, Y6, lnext); ISTORE8(4, Y8, lnext); ISTORE8(5, Y10, lnext); \
	JMP   lnext; \
lacc: \
	IACC8(0, Y0, lnext); IACC8(1, Y2, lnext); IACC8(2, Y4, lnext); \
	IACC8(3, Y6, lnext); IACC8(4, Y8, lnext); IACC8(5, Y10, lnext); \
lnext:

// widenMaskY: 0xffff0000, the high bfloat16 of each pair.
DATA widenMaskY<>+0(SB)/4, $0xffff0000
GLOBL widenMaskY<>(SB), RODATA|NOPTR, $4

// func lowpBF16Widen6x16AVX2(a *byte, b *uint16, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastCols int, bias *float32, flags int)
// Requires: AVX, AVX2, FMA
TEXT ·lowpBF16Widen6x16AVX2(SB), NOSPLIT, $0-88
	YSTART
	MOVQ rows+56(FP), R9
	MOVQ bias+72(FP), R10
	MOVQ flags+80(FP), R11
	VPBROADCASTD widenMaskY<>(SB), Y15

ywpanel:
	TESTQ R8, R8
	JZ    ywdone
	ZERO12
	MOVQ  a+0(FP), AX
	MOVQ  R12, BX
	YLOOP(WSTEPY, 8, 32, 8, ywl4, ywlt, ywlt1, ywkdone)
	TESTQ R10, R10
	JZ    ywbiasdone
	VADDPS (R10), Y0, Y0; VADDPS 32(R10), Y1, Y1; VADDPS (R10), Y2, Y2; VADDPS 32(R10), Y3, Y3
	VADDPS (R10), Y4, Y4; VADDPS 32(R10), Y5, Y5; VADDPS (R10), Y6, Y6; VADDPS 32(R10), Y7, Y7
	VADDPS (R10), Y8, Y8; VADDPS 32(R10), Y9, Y9; VADDPS (R10), Y10, Y10; VADDPS 32(R10), Y11, Y11
	ADDQ  $64, R10

ywbiasdone:
	MOVQ  SI, R13
	MOVQ  R9, DX
	TESTQ $1, R11
	JNZ   ywacc
	FSTOREY(Y0, Y1, ywnext); FSTOREY(Y2, Y3, ywnext); FSTOREY(Y4, Y5, ywnext)
	FSTOREY(Y6, Y7, ywnext); FSTOREY(Y8, Y9, ywnext); FSTOREY(Y10, Y11, ywnext)
	JMP   ywnext

ywacc:
	FACCY(Y0, Y1, ywnext); FACCY(Y2, Y3, ywnext); FACCY(Y4, Y5, ywnext)
	FACCY(Y6, Y7, ywnext); FACCY(Y8, Y9, ywnext); FACCY(Y10, Y11, ywnext)

ywnext:
	ADDQ $64, SI                 // c += 16 columns
	ADDQ CX, R12                 // b += 1 panel
	DECQ R8
	JMP  ywpanel

ywdone:
	VZEROUPPER
	RET

// func lowpInt8AVXVNNI6x16(a *byte, b *int8, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastCols int, ep *lowpInt8Epi, flags int)
// Requires: AVX, AVX2, FMA, AVX-VNNI
TEXT ·lowpInt8AVXVNNI6x16(SB), NOSPLIT, $0-88
	YSTART
	MOVQ ep+72(FP), R10
	XORQ R14, R14

yvpanel:
	TESTQ R8, R8
	JZ    yvdone
	ZERO12
	MOVQ  a+0(FP), AX
	MOVQ  R12, BX
	YLOOP(VSTEPY, 4, 16, 4, yvl4, yvlt, yvlt1, yvkdone)
	IPOINTERSY(0)
	MOVQ  flags+80(FP), R13
	TESTQ $1, R13
	LEAQ  (SI), R13
	JNZ   yvacc
	ISTOREY(0, Y0, Y1, yvnext); ISTOREY(1, Y2, Y3, yvnext); ISTOREY(2, Y4, Y5, yvnext)
	ISTOREY(3, Y6, Y7, yvnext); ISTOREY(4, Y8, Y9, yvnext); ISTOREY(5, Y10, Y11, yvnext)
	JMP   yvnext

yvacc:
	IACCY(0, Y0, Y1, yvnext); IACCY(1, Y2, Y3, yvnext); IACCY(2, Y4, Y5, yvnext)
	IACCY(3, Y6, Y7, yvnext); IACCY(4, Y8, Y9, yvnext); IACCY(5, Y10, Y11, yvnext)

yvnext:
	ADDQ $64, SI
	ADDQ $64, R14                // the column arrays += 16 columns
	ADDQ CX, R12
	DECQ R8
	JMP  yvpanel

yvdone:
	VZEROUPPER
	RET

// func lowpInt8MADDWD6x16(a *byte, b *int8, c *float32, ksteps int, panels int, pstride int, ldc int, rows int, lastCols int, ep *lowpInt8Epi, flags int)
// Requires: AVX, AVX2, FMA
TEXT ·lowpInt8MADDWD6x16(SB), NOSPLIT, $0-88
	YSTART
	MOVQ ep+72(FP), R10
	XORQ R14, R14

ympanel:
	TESTQ R8, R8
	JZ    ymdone
	MHALF(0, yml4a, ymlta, ymlt1a, ymkdonea, ymacca, ymnexta)
	MHALF(32, yml4b, ymltb, ymlt1b, ymkdoneb, ymaccb, ymnextb)
	ADDQ $64, SI
	ADDQ $64, R14
	ADDQ CX, R12
	DECQ R8
	JMP  ympanel

ymdone:
	VZEROUPPER
	RET

// func lowpRangeAVX2(x *float32, n int) (lo, hi float32)
// lowpRangeAVX512 with AVX: n a multiple of 8; Y0-Y3 minima, Y4-Y7 maxima.
// Requires: AVX
TEXT ·lowpRangeAVX2(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   CX, DX
	SHRQ   $5, CX                // CX = groups of 32
	ANDQ   $31, DX
	SHRQ   $3, DX                // DX = vectors after them
	TESTQ  CX, CX
	JZ     yrange1

yrange4:
	VMOVUPS (SI), Y8
	VMOVUPS 32(SI), Y9
	VMOVUPS 64(SI), Y10
	VMOVUPS 96(SI), Y11
	VMINPS  Y8, Y0, Y0
	VMINPS  Y9, Y1, Y1
	VMINPS  Y10, Y2, Y2
	VMINPS  Y11, Y3, Y3
	VMAXPS  Y8, Y4, Y4
	VMAXPS  Y9, Y5, Y5
	VMAXPS  Y10, Y6, Y6
	VMAXPS  Y11, Y7, Y7
	ADDQ    $128, SI
	DECQ    CX
	JNZ     yrange4

yrange1:
	TESTQ DX, DX
	JZ    yrangereduce

yrange1loop:
	VMOVUPS (SI), Y8
	VMINPS  Y8, Y0, Y0
	VMAXPS  Y8, Y4, Y4
	ADDQ    $32, SI
	DECQ    DX
	JNZ     yrange1loop

yrangereduce:
	VMINPS       Y1, Y0, Y0
	VMINPS       Y3, Y2, Y2
	VMINPS       Y2, Y0, Y0
	VMAXPS       Y5, Y4, Y4
	VMAXPS       Y7, Y6, Y6
	VMAXPS       Y6, Y4, Y4
	VEXTRACTF128 $1, Y0, X1
	VMINPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMINPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMINPS       X1, X0, X0
	VEXTRACTF128 $1, Y4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0x4e, X4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0xb1, X4, X5
	VMAXPS       X5, X4, X4
	MOVSS        X0, lo+16(FP)
	MOVSS        X4, hi+20(FP)
	VZEROUPPER
	RET

// func lowpQuantU8AVX2(dst *uint8, x *float32, n int, inv float32, zp int32)
// lowpQuantU8AVX512 with AVX2: n a multiple of 8.
// Requires: AVX, AVX2
TEXT ·lowpQuantU8AVX2(SB), NOSPLIT, $0-32
	QUANTYSTART
	JZ yquantdone

yquantloop:
	QUANTY
	VPACKUSWB X0, X0, X0
	MOVQ      X0, (DI)
	ADDQ      $32, SI
	ADDQ      $8, DI
	DECQ      CX
	JNZ       yquantloop

yquantdone:
	VZEROUPPER
	RET

// func lowpQuantI16AVX2(dst *int16, x *float32, n int, inv float32, zp int32)
// lowpQuantU8AVX2 writing the bytes widened to int16.
// Requires: AVX, AVX2
TEXT ·lowpQuantI16AVX2(SB), NOSPLIT, $0-32
	QUANTYSTART
	JZ yquant16done

yquant16loop:
	QUANTY
	VMOVDQU X0, (DI)
	ADDQ    $32, SI
	ADDQ    $16, DI
	DECQ    CX
	JNZ     yquant16loop

yquant16done:
	VZEROUPPER
	RET

// func lowpRoundF32AVX2(dst *float32, x *float32, n int)
// lowpRoundF32AVX512 with AVX2, n a multiple of 8: Y10 0x7fff, Y11 1, Y12 0xffff0000,
// Y13 0x7f800000, Y14 0x7fffffff, Y15 0x00400000, Y9 0x80000000, Y8 0.
// Requires: AVX, AVX2
TEXT ·lowpRoundF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   yf32done
	MOVL $0x7fff, AX
	VMOVD AX, X10
	VPBROADCASTD X10, Y10
	MOVL $1, AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11
	MOVL $0xffff0000, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12
	MOVL $0x7f800000, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	MOVL $0x7fffffff, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	MOVL $0x00400000, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x80000000, AX
	VMOVD AX, X9
	VPBROADCASTD X9, Y9
	VPXOR Y8, Y8, Y8

yf32loop:
	VMOVDQU   (SI), Y0           // u
	VPSRLD    $16, Y0, Y1
	VPAND     Y11, Y1, Y1
	VPADDD    Y10, Y1, Y1
	VPADDD    Y0, Y1, Y1
	VPAND     Y12, Y1, Y1        // Y1 = rounded
	VPAND     Y9, Y0, Y2         // Y2 = the sign alone
	VPAND     Y13, Y0, Y3
	VPCMPEQD  Y8, Y3, Y3         // Y3 = exponent 0 (zero, subnormal)
	VPBLENDVB Y3, Y2, Y1, Y1
	VPAND     Y14, Y0, Y3
	VPCMPGTD  Y13, Y3, Y3        // Y3 = |u| > +Inf: NaN
	VPOR      Y15, Y0, Y2
	VPAND     Y12, Y2, Y2        // the quiet NaN
	VPBLENDVB Y3, Y2, Y1, Y1
	VMOVDQU   Y1, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       yf32loop
	VZEROUPPER

yf32done:
	RET
