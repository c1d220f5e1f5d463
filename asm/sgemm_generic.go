package asm

// sgemmGeneric is the reference: plain Go, 4 rows × one panel at a time so that each loaded
// panel row is used four times.
func sgemmGeneric(m, n, k int, a []float32, lda int, b []float32, bk int, c []float32, ldc int, bias []float32, epi Epilogue) {
	panels := (n + PanelWidth - 1) / PanelWidth
	var acc [4][PanelWidth]float32
	for p := 0; p < panels; p++ {
		bp := b[p*bk*PanelWidth : p*bk*PanelWidth+k*PanelWidth]
		j0 := p * PanelWidth
		cols := min(PanelWidth, n-j0)
		for i := 0; i < m; i += 4 {
			rows := min(4, m-i)
			acc = [4][PanelWidth]float32{}
			for r := 0; r < rows; r++ {
				ar := a[(i+r)*lda : (i+r)*lda+k]
				row := &acc[r]
				for kk, av := range ar {
					br := (*[PanelWidth]float32)(bp[kk*PanelWidth : kk*PanelWidth+PanelWidth])
					row[0] += av * br[0]
					row[1] += av * br[1]
					row[2] += av * br[2]
					row[3] += av * br[3]
					row[4] += av * br[4]
					row[5] += av * br[5]
					row[6] += av * br[6]
					row[7] += av * br[7]
					row[8] += av * br[8]
					row[9] += av * br[9]
					row[10] += av * br[10]
					row[11] += av * br[11]
					row[12] += av * br[12]
					row[13] += av * br[13]
					row[14] += av * br[14]
					row[15] += av * br[15]
				}
			}
			for r := 0; r < rows; r++ {
				cr := c[(i+r)*ldc+j0 : (i+r)*ldc+j0+cols]
				finish(cr, acc[r][:cols], bias, j0, epi)
			}
		}
	}
}

// finish applies the epilogue to one row segment of results.
func finish(c, sum, bias []float32, j0 int, epi Epilogue) {
	if bias != nil {
		bs := bias[j0 : j0+len(sum)]
		for j := range sum {
			sum[j] += bs[j]
		}
	}
	switch epi {
	case Store:
		copy(c, sum)
	case Accumulate:
		for j, v := range sum {
			c[j] += v
		}
	case GELU:
		for j, v := range sum {
			c[j] = Gelu(v)
		}
	}
}
