package asm

// gemmBF16Generic is the reference GemmBF16: plain Go, the rows of a rounded to bfloat16 four
// at a time, then 4 rows × one panel at a time, summed in float32 in increasing k. Each
// product of two bfloat16 values is exact in float32, so a fused multiply-add gives the same.
func gemmBF16Generic(m, n, k int, a []float32, lda int, b []uint16, c []float32, ldc int, bias []float32, epi Epilogue) {
	ke := kEvenOf(k)
	panels := panelsOf(n)
	ar := make([]float32, 4*ke) // 4 rows of a in bfloat16 (as float32), zero padded to kEven
	var acc [4][PanelWidth]float32
	for i := 0; i < m; i += 4 {
		rows := min(4, m-i)
		for r := 0; r < rows; r++ {
			dst := ar[r*ke : r*ke+ke]
			for kk, v := range a[(i+r)*lda : (i+r)*lda+k] {
				dst[kk] = bf16ToFloat(bf16RoundA(v))
			}
			clear(dst[k:])
		}
		for p := 0; p < panels; p++ {
			bp := b[p*ke*PanelWidth : (p+1)*ke*PanelWidth]
			acc = [4][PanelWidth]float32{}
			for r := 0; r < rows; r++ {
				row := &acc[r]
				x := ar[r*ke : r*ke+ke]
				for q := 0; q < ke/2; q++ {
					x0, x1 := x[2*q], x[2*q+1]
					bq := (*[2 * PanelWidth]uint16)(bp[q*2*PanelWidth:])
					for j := range row {
						row[j] += x0 * bf16ToFloat(bq[2*j])
						row[j] += x1 * bf16ToFloat(bq[2*j+1])
					}
				}
			}
			j0 := p * PanelWidth
			cols := min(PanelWidth, n-j0)
			for r := 0; r < rows; r++ {
				finish(c[(i+r)*ldc+j0:(i+r)*ldc+j0+cols], acc[r][:cols], bias, j0, epi)
			}
		}
	}
}

// gemmInt8Generic is the reference GemmInt8: plain Go, four rows of a quantized at a time
// (quantParams over the whole row, then quantize), the int32 sums of 4 rows × one panel, and
// y = (float32(Σu·q - z·Σq)·s)·scale + bias.
func gemmInt8Generic(m, n, k int, a []float32, lda int, b []int8, scales []float32, sums []int32, c []float32, ldc int, bias []float32, epi Epilogue) {
	k4 := k4Of(k)
	panels := panelsOf(n)
	u := make([]uint8, 4*k4) // 4 rows of quantized a, zero padded to k4
	var (
		s   [4]float32
		z   [4]int32
		acc [4][PanelWidth]int32
		out [PanelWidth]float32
	)
	for i := 0; i < m; i += 4 {
		rows := min(4, m-i)
		for r := 0; r < rows; r++ {
			x := a[(i+r)*lda : (i+r)*lda+k]
			var inv float32
			s[r], inv, z[r] = quantParams(rangeGeneric(x))
			dst := u[r*k4 : r*k4+k4]
			for kk, v := range x {
				dst[kk] = quantize(v, inv, z[r])
			}
			clear(dst[k:])
		}
		for p := 0; p < panels; p++ {
			bp := b[p*k4*PanelWidth : (p+1)*k4*PanelWidth]
			acc = [4][PanelWidth]int32{}
			for r := 0; r < rows; r++ {
				row := &acc[r]
				x := u[r*k4 : r*k4+k4]
				for g := 0; g < k4/4; g++ {
					x0, x1, x2, x3 := int32(x[4*g]), int32(x[4*g+1]), int32(x[4*g+2]), int32(x[4*g+3])
					bg := (*[4 * PanelWidth]int8)(bp[g*4*PanelWidth:])
					for j := range row {
						row[j] += x0*int32(bg[4*j]) + x1*int32(bg[4*j+1]) + x2*int32(bg[4*j+2]) + x3*int32(bg[4*j+3])
					}
				}
			}
			j0 := p * PanelWidth
			cols := min(PanelWidth, n-j0)
			for r := 0; r < rows; r++ {
				for j := 0; j < cols; j++ {
					out[j] = float32(acc[r][j]-z[r]*sums[j0+j]) * s[r] * scales[j0+j]
				}
				finish(c[(i+r)*ldc+j0:(i+r)*ldc+j0+cols], out[:cols], bias, j0, epi)
			}
		}
	}
}

// The packing routines in Go: the assembly ones' reference, and their tails.

func roundF32Generic(dst, x []float32) {
	for i, v := range x {
		dst[i] = bf16ToFloat(bf16RoundA(v))
	}
}

func roundBF16Generic(dst []uint16, x []float32) {
	for i, v := range x {
		dst[i] = bf16RoundA(v)
	}
}

func quantU8Generic(dst []uint8, x []float32, inv float32, zp int32) {
	for i, v := range x {
		dst[i] = quantize(v, inv, zp)
	}
}

func quantI16Generic(dst []int16, x []float32, inv float32, zp int32) {
	for i, v := range x {
		dst[i] = int16(quantize(v, inv, zp))
	}
}
