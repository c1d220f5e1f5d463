//go:build !purego

#include "textflag.h"

// transpose16AVX512 transposes blocks of 16×16 floats: for b < blocks, r < 16, c < 16,
//
//	dst[256b + 16c + r] = src[r·ld + 16b + c]
//
// that is, 16 rows of 16·blocks floats (row stride ld) into 16·blocks rows of 16: attention's
// keys, 16 tokens of a head at a time, into the panels the matrix kernels read (see Transpose16).
// Each block is four rounds of 16 shuffles in registers (32 bits, 64 bits, then 128-bit
// lanes twice), between 16 loads and 16 stores.
//
// Register map: SI src (the block's first row), DI dst, DX ld in bytes, R8 3·ld, CX blocks
// left, R9 src row 4 (rows 5-7 at R9 + ld·{1,2,3}), R10 row 8, R11 row 12;
// Z0-Z15 the rows, then the columns; Z16-Z31 the rounds in between.

// UNPACK4 interleaves rows a, b and c, d (32-bit, then 64-bit) into the four registers o0-o3:
// o0 holds columns 0, 4, 8, 12 of the four rows (one per 128-bit lane), o1 columns 1, 5, 9, 13,
// o2 columns 2, 6, 10, 14, o3 columns 3, 7, 11, 15.
#define UNPACK4(a, b, c, d, t0, t1, t2, t3, o0, o1, o2, o3) \
	VUNPCKLPS b, a, t0; \
	VUNPCKHPS b, a, t1; \
	VUNPCKLPS d, c, t2; \
	VUNPCKHPS d, c, t3; \
	VUNPCKLPD t2, t0, o0; \
	VUNPCKHPD t2, t0, o1; \
	VUNPCKLPD t3, t1, o2; \
	VUNPCKHPD t3, t1, o3

// LANES gathers the 128-bit lanes of the four groups of rows (g0-g3, each holding columns
// j, j+4, j+8, j+12 of rows 4i..4i+3) into columns j, j+4, j+8 and j+12 (o0-o3). In the
// order written, o0 may not be any t, and o2 and o1 not t1 or t3.
#define LANES(g0, g1, g2, g3, t0, t1, t2, t3, o0, o1, o2, o3) \
	VSHUFF32X4 $0x88, g1, g0, t0; \
	VSHUFF32X4 $0xdd, g1, g0, t1; \
	VSHUFF32X4 $0x88, g3, g2, t2; \
	VSHUFF32X4 $0xdd, g3, g2, t3; \
	VSHUFF32X4 $0x88, t2, t0, o0; \
	VSHUFF32X4 $0xdd, t2, t0, o2; \
	VSHUFF32X4 $0x88, t3, t1, o1; \
	VSHUFF32X4 $0xdd, t3, t1, o3

// func transpose16AVX512(dst *float32, src *float32, ld int, blocks int)
// Requires: AVX512F
TEXT ·transpose16AVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), DX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R8
	MOVQ blocks+24(FP), CX
	TESTQ CX, CX
	JZ   done

block:
	LEAQ    (SI)(DX*4), R9
	LEAQ    (R9)(DX*4), R10
	LEAQ    (R10)(DX*4), R11
	VMOVUPS (SI), Z0
	VMOVUPS (SI)(DX*1), Z1
	VMOVUPS (SI)(DX*2), Z2
	VMOVUPS (SI)(R8*1), Z3
	VMOVUPS (R9), Z4
	VMOVUPS (R9)(DX*1), Z5
	VMOVUPS (R9)(DX*2), Z6
	VMOVUPS (R9)(R8*1), Z7
	VMOVUPS (R10), Z8
	VMOVUPS (R10)(DX*1), Z9
	VMOVUPS (R10)(DX*2), Z10
	VMOVUPS (R10)(R8*1), Z11
	VMOVUPS (R11), Z12
	VMOVUPS (R11)(DX*1), Z13
	VMOVUPS (R11)(DX*2), Z14
	VMOVUPS (R11)(R8*1), Z15
	// Rows 4i..4i+3 → Z16+4i.. (columns j, j+4, j+8, j+12 in Z16+4i+j).
	UNPACK4(Z0, Z1, Z2, Z3, Z28, Z29, Z30, Z31, Z16, Z17, Z18, Z19)
	UNPACK4(Z4, Z5, Z6, Z7, Z28, Z29, Z30, Z31, Z20, Z21, Z22, Z23)
	UNPACK4(Z8, Z9, Z10, Z11, Z28, Z29, Z30, Z31, Z24, Z25, Z26, Z27)
	UNPACK4(Z12, Z13, Z14, Z15, Z0, Z1, Z2, Z3, Z28, Z29, Z30, Z31)
	// Column j in Z(j): j = 0, 4, 8, 12 from Z16, Z20, Z24, Z28; then 1, 5, 9, 13; ...
	LANES(Z16, Z20, Z24, Z28, Z1, Z2, Z3, Z5, Z0, Z4, Z8, Z12)
	LANES(Z17, Z21, Z25, Z29, Z2, Z3, Z6, Z7, Z1, Z5, Z9, Z13)
	LANES(Z18, Z22, Z26, Z30, Z3, Z7, Z11, Z15, Z2, Z6, Z10, Z14)
	LANES(Z19, Z23, Z27, Z31, Z16, Z17, Z18, Z20, Z3, Z7, Z11, Z15)
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	ADDQ    $64, SI
	ADDQ    $1024, DI
	DECQ    CX
	JNZ     block

done:
	VZEROUPPER
	RET
