package imageio

// libjpeg's accurate integer inverse DCT (jidctint.c, jpeg_idct_islow: the Loeffler,
// Ligtenberg and Moschytz algorithm with 13-bit constants), with dequantisation folded in.
// The result must be libjpeg's to the bit, so the order of operations and every rounding
// follow it.
//
// Two details follow what runs under Pillow on x86-64 and arm64, libjpeg-turbo's SIMD code,
// rather than its C code; they only matter for coefficients no encoder produces:
// out-of-range results are clamped (the C code wraps them around through a 1024-entry
// table), and the quantisation values are 16-bit signed, as libjpeg-turbo stores them.

const (
	idctConstBits = 13
	idctPass1Bits = 2

	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// descale is x / 2**n rounded half up, libjpeg's DESCALE.
func descale(x int32, n uint) int32 { return (x + 1<<(n-1)) >> n }

// idctIslow transforms the 64 coefficients blk (natural order) with quantisation table q
// into 8 rows of 8 samples at dst, rows stride apart.
func idctIslow(blk []int16, q *[64]uint16, dst []byte, stride int) {
	var ws [64]int32
	deq := func(i int) int32 { return int32(blk[i]) * int32(int16(q[i])) }

	// Pass 1: columns, results scaled up by sqrt(8) and 2**idctPass1Bits.
	for col := range 8 {
		if blk[8+col] == 0 && blk[16+col] == 0 && blk[24+col] == 0 && blk[32+col] == 0 &&
			blk[40+col] == 0 && blk[48+col] == 0 && blk[56+col] == 0 {
			dc := deq(col) << idctPass1Bits
			for row := range 8 {
				ws[8*row+col] = dc
			}
			continue
		}
		// Even part.
		z2, z3 := deq(16+col), deq(48+col)
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		z2, z3 = deq(col), deq(32+col)
		tmp0 := (z2 + z3) << idctConstBits
		tmp1 := (z2 - z3) << idctConstBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		// Odd part.
		t0, t1, t2, t3 := oddPart(deq(56+col), deq(40+col), deq(24+col), deq(8+col))
		const n = idctConstBits - idctPass1Bits
		ws[0*8+col] = descale(tmp10+t3, n)
		ws[7*8+col] = descale(tmp10-t3, n)
		ws[1*8+col] = descale(tmp11+t2, n)
		ws[6*8+col] = descale(tmp11-t2, n)
		ws[2*8+col] = descale(tmp12+t1, n)
		ws[5*8+col] = descale(tmp12-t1, n)
		ws[3*8+col] = descale(tmp13+t0, n)
		ws[4*8+col] = descale(tmp13-t0, n)
	}

	// Pass 2: rows, descaled by 8 and by the pass-1 scaling, then shifted to 0..255.
	const n = idctConstBits + idctPass1Bits + 3
	for row := range 8 {
		w := ws[8*row:][:8]
		out := dst[row*stride:][:8]
		// (libjpeg short-cuts rows whose AC terms are zero; the full computation gives the
		// same result, so there is no need to.)
		z2, z3 := w[2], w[6]
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := (w[0] + w[4]) << idctConstBits
		tmp1 := (w[0] - w[4]) << idctConstBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2
		t0, t1, t2, t3 := oddPart(w[7], w[5], w[3], w[1])
		out[0] = idctSample(descale(tmp10+t3, n))
		out[7] = idctSample(descale(tmp10-t3, n))
		out[1] = idctSample(descale(tmp11+t2, n))
		out[6] = idctSample(descale(tmp11-t2, n))
		out[2] = idctSample(descale(tmp12+t1, n))
		out[5] = idctSample(descale(tmp12-t1, n))
		out[3] = idctSample(descale(tmp13+t0, n))
		out[4] = idctSample(descale(tmp13-t0, n))
	}
}

// oddPart is the odd half of the 8-point IDCT for inputs y7, y5, y3, y1.
func oddPart(y7, y5, y3, y1 int32) (t0, t1, t2, t3 int32) {
	z1, z2 := y7+y1, y5+y3
	z3, z4 := y7+y3, y5+y1
	z5 := (z3 + z4) * fix1_175875602
	t0 = y7 * fix0_298631336
	t1 = y5 * fix2_053119869
	t2 = y3 * fix3_072711026
	t3 = y1 * fix1_501321110
	z1 *= -fix0_899976223
	z2 *= -fix2_562915447
	z3 = z3*-fix1_961570560 + z5
	z4 = z4*-fix0_390180644 + z5
	t0 += z1 + z3
	t1 += z2 + z4
	t2 += z2 + z3
	t3 += z1 + z4
	return t0, t1, t2, t3
}

// idctSample shifts a centred sample to 0..255 and clamps it.
func idctSample(x int32) byte { return clamp255(x + 128) }
