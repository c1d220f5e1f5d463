// Encodings of the instructions Go's assembler does not know, as BYTE directives computed from
// register numbers (Z0-Z31 = 0-31, Y0-Y15 = 0-15, TMM0-TMM7 = 0-7; general registers AX=0,
// CX=1, DX=2, BX=3, SI=6, DI=7, R8-R15 = 8-15). Register-register forms only, except the AMX
// loads and stores. Each was checked byte for byte against GNU as 2.40 for every register
// combination the kernels use (see TestLowpEncodings in lowp_amd64_test.go for how), and the
// kernels' tests check what they compute.
//
// Operands are in Intel order: destination first.

// EVEX_RRR is an EVEX-encoded register-register instruction of map 0F38: pp (0 none, 1 66,
// 2 F3, 3 F2), vector length L (1 = 256, 2 = 512 bits), W0, no masking.
//   P0: R X B R' 0 0 1 0    (R, X, B, R' inverted: X and B extend the r/m register)
//   P1: W vvvv 1 pp         (vvvv inverted: the first source)
//   P2: z L'L b V' aaa      (V' inverted: bit 4 of the first source)
#define EVEX_RRR(op, pp, L, d, s1, s2) \
	BYTE $0x62; \
	BYTE $(((((31-(d))>>3)&1)<<7) | ((((31-(s2))>>4)&1)<<6) | ((((31-(s2))>>3)&1)<<5) | ((((31-(d))>>4)&1)<<4) | 2); \
	BYTE $((((31-(s1))&15)<<3) | 4 | (pp)); \
	BYTE $(((L)<<5) | ((((31-(s1))>>4)&1)<<3)); \
	BYTE $(op); \
	BYTE $(0xC0 | (((d)&7)<<3) | ((s2)&7))

// VDPBF16PS_Z(d, s1, s2): zmm_d.fp32[i] += s1.bf16[2i+1]·s2.bf16[2i+1] + s1.bf16[2i]·s2.bf16[2i]
// (EVEX.512.F3.0F38.W0 52 /r; AVX512_BF16).
#define VDPBF16PS_Z(d, s1, s2) EVEX_RRR(0x52, 2, 2, d, s1, s2)

// VCVTNEPS2BF16_Z(d, s): ymm_d = zmm_s rounded to bfloat16, to nearest even, denormals to zero
// (EVEX.512.F3.0F38.W0 72 /r; AVX512_BF16).
#define VCVTNEPS2BF16_Z(d, s) EVEX_RRR(0x72, 2, 2, d, 0, s)

// VPDPBUSD_VEX(d, s1, s2): ymm_d.int32[i] += Σ_{b<4} u8(s1.byte[4i+b])·s8(s2.byte[4i+b]), the
// VEX (AVX-VNNI) form, which runs on CPUs without AVX-512 (VEX.256.66.0F38.W0 50 /r).
#define VPDPBUSD_VEX(d, s1, s2) \
	BYTE $0xC4; \
	BYTE $(((((15-(d))>>3)&1)<<7) | 0x40 | ((((15-(s2))>>3)&1)<<5) | 2); \
	BYTE $((((15-(s1))&15)<<3) | 4 | 1); \
	BYTE $0x50; \
	BYTE $(0xC0 | (((d)&7)<<3) | ((s2)&7))

// AMX (VEX.128.*.0F38.W0). Memory operands are [base + index·1] (tile loads and stores: the
// index is the row stride) with base never SP, BP, R12 or R13 and index never SP.

// LDTILECFG_DI loads the tile configuration at (DI); TILERELEASE returns the tiles to their
// initial state (so that the OS need not save them).
#define LDTILECFG_DI BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0x07
#define TILERELEASE BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0xC0

// TILEZERO(t): tmm_t = 0.
#define TILEZERO(t) BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $(0xC0 | ((t)<<3))

// TILELOADD(t, base, index): tmm_t row r = the 64 bytes at base + r·index (F2 4B /r).
#define TILELOADD(t, base, index) \
	BYTE $0xC4; \
	BYTE $(0x80 | ((((15-(index))>>3)&1)<<6) | ((((15-(base))>>3)&1)<<5) | 2); \
	BYTE $0x7B; \
	BYTE $0x4B; \
	BYTE $(((t)<<3) | 4); \
	BYTE $((((index)&7)<<3) | ((base)&7))

// TILESTORED(base, index, disp, t): the 64 bytes at base + disp + r·index = tmm_t row r
// (F3 4B /r, 32-bit displacement).
#define TILESTORED(base, index, disp, t) \
	BYTE $0xC4; \
	BYTE $(0x80 | ((((15-(index))>>3)&1)<<6) | ((((15-(base))>>3)&1)<<5) | 2); \
	BYTE $0x7A; \
	BYTE $0x4B; \
	BYTE $(0x80 | ((t)<<3) | 4); \
	BYTE $((((index)&7)<<3) | ((base)&7)); \
	LONG $(disp)

// TDPBF16PS(d, a, b): tmm_d (M×N fp32) += tmm_a (M×K bf16 pairs) · tmm_b (K/2 rows of N pairs)
// (F3 5C /r, vvvv = b).
#define TDPBF16PS(d, a, b) BYTE $0xC4; BYTE $0xE2; BYTE $(((15-(b))<<3) | 2); BYTE $0x5C; BYTE $(0xC0 | ((d)<<3) | (a))

// TDPBUSD(d, a, b): tmm_d (M×N int32) += tmm_a (M×K u8) · tmm_b (K/4 rows of N × 4 s8)
// (66 5E /r, vvvv = b).
#define TDPBUSD(d, a, b) BYTE $0xC4; BYTE $0xE2; BYTE $(((15-(b))<<3) | 1); BYTE $0x5E; BYTE $(0xC0 | ((d)<<3) | (a))

// LAROWB is the byte stride between packed rows of A of the vector kernels (lowpARow in
// lowp_amd64.go): 2112, not a multiple of 4 KiB, so that the rows of a tile fall in different
// L1 sets.
#define LAROWB 2112

// Offsets in lowpInt8Epi (lowp_amd64.go).
#define EPI_BIAS 0
#define EPI_SCALE 8
#define EPI_SUM 16
#define EPI_ROWSCALE 24
#define EPI_ROWZP 32
