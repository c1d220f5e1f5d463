// Encodings of the NEON instructions Go's assembler does not know, as WORD directives
// computed from register numbers (V0-V31 = 0-31). Each was checked against GNU as 2.40
// (aarch64-linux-gnu-as -march=armv8.2-a+dotprod) for every register combination (see
// TestLowpEncodings in lowp_amd64_test.go, which runs where the cross tools are); the kernels'
// tests check what they compute.

// FMLA_E(d, n, m, i): FMLA Vd.4S, Vn.4S, Vm.S[i]   (Vd += Vn·Vm[i])
#define FMLA_E(d, n, m, i) WORD $(0x4f801000 | (((i)&1)<<21) | (((i)>>1)<<11) | ((m)<<16) | ((n)<<5) | (d))

// SDOT_E(d, n, m, i): SDOT Vd.4S, Vn.16B, Vm.4B[i]   (FEAT_DotProd: lane j of Vd += Σ_{b<4}
// s8(Vn.B[4j+b])·s8(Vm.B[4i+b]))
#define SDOT_E(d, n, m, i) WORD $(0x4f80e000 | (((i)&1)<<21) | (((i)>>1)<<11) | ((m)<<16) | ((n)<<5) | (d))

// BIC_LO16(d): BIC Vd.4S, #0xff; BIC Vd.4S, #0xff, LSL #8   (clear the low 16 bits of each lane)
#define BIC_LO16(d) WORD $(0x6f0717e0 | (d)); WORD $(0x6f0737e0 | (d))

// SHL16_4S(d, n): SHL Vd.4S, Vn.4S, #16
#define SHL16_4S(d, n) WORD $(0x4f305400 | ((n)<<5) | (d))

// SMULL_8B(d, n, m): SMULL Vd.8H, Vn.8B, Vm.8B; SMULL2_16B: SMULL2 Vd.8H, Vn.16B, Vm.16B
// (the products of the low / high 8 signed bytes, as int16)
#define SMULL_8B(d, n, m) WORD $(0x0e20c000 | ((m)<<16) | ((n)<<5) | (d))
#define SMULL2_16B(d, n, m) WORD $(0x4e20c000 | ((m)<<16) | ((n)<<5) | (d))

// SADALP_4S(d, n): SADALP Vd.4S, Vn.8H   (Vd[j] += Vn[2j] + Vn[2j+1], int16 to int32)
#define SADALP_4S(d, n) WORD $(0x4e606800 | ((n)<<5) | (d))

// ADDP_4S(d, n, m): ADDP Vd.4S, Vn.4S, Vm.4S   (pairwise sums: n0+n1, n2+n3, m0+m1, m2+m3)
#define ADDP_4S(d, n, m) WORD $(0x4ea0bc00 | ((m)<<16) | ((n)<<5) | (d))

// ADD_4S(d, n, m): ADD Vd.4S, Vn.4S, Vm.4S   (int32)
#define ADD_4S(d, n, m) WORD $(0x4ea08400 | ((m)<<16) | ((n)<<5) | (d))

// The Armv8.6 instructions of the bfdot and i8mm kernels, checked against GNU as 2.40
// (-march=armv8.6-a) for every register combination by TestLowpEncodingsV86 in
// lowp_arm64_test.go.

// BFDOT_E(d, n, m, i): BFDOT Vd.4S, Vn.8H, Vm.2H[i]   (FEAT_BF16: lane j of Vd += Vn.H[2j]·Vm.H[2i]
// + Vn.H[2j+1]·Vm.H[2i+1] in bfloat16 × bfloat16 → float32; with FPCR.EBF = 0, as Go runs, each
// product, their sum and the accumulation are rounded to odd, denormal inputs and results
// flushed to zero: Arm ARM C7.2.16)
#define BFDOT_E(d, n, m, i) WORD $(0x4f40f000 | (((i)&1)<<21) | (((i)>>1)<<11) | ((m)<<16) | ((n)<<5) | (d))

// SMMLA_4S(d, n, m): SMMLA Vd.4S, Vn.16B, Vm.16B   (FEAT_I8MM: the 2×2 int32 matrix Vd, row-major,
// += the 2×8 signed bytes Vn (row r: bytes 8r…8r+7) times the transpose of the 2×8 signed bytes
// Vm (column c: bytes 8c…8c+7): Vd.S[2r+c] += Σ_{b<8} s8(Vn.B[8r+b])·s8(Vm.B[8c+b]))
#define SMMLA_4S(d, n, m) WORD $(0x4e80a400 | ((m)<<16) | ((n)<<5) | (d))

// ZIP1_4S(d, n, m): ZIP1 Vd.4S, Vn.4S, Vm.4S   (n0, m0, n1, m1); ZIP2_4S: (n2, m2, n3, m3)
#define ZIP1_4S(d, n, m) WORD $(0x4e803800 | ((m)<<16) | ((n)<<5) | (d))
#define ZIP2_4S(d, n, m) WORD $(0x4e807800 | ((m)<<16) | ((n)<<5) | (d))

// ZIP1_2D(d, n, m): ZIP1 Vd.2D, Vn.2D, Vm.2D   (n0, m0 as 64-bit halves); ZIP2_2D: (n1, m1)
#define ZIP1_2D(d, n, m) WORD $(0x4ec03800 | ((m)<<16) | ((n)<<5) | (d))
#define ZIP2_2D(d, n, m) WORD $(0x4ec07800 | ((m)<<16) | ((n)<<5) | (d))
