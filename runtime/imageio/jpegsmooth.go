package imageio

// Block smoothing (libjpeg-turbo 2.1 jdcoefct.c, smoothing_ok and decompress_smooth_data),
// which libjpeg applies by default (do_block_smoothing) to a progressive image whose scans
// left some of the first nine AC coefficients less than exact: a coefficient that is still
// zero and not known to be exact is estimated from the DC values of the 5x5 blocks around
// it (T.81 Annex K.8, on a wider window); if no AC coefficient was sent at all, the DC
// value is interpolated too. Complete progressive files, the usual kind, are not smoothed.
// The estimates only feed the inverse DCT; the coefficients stay as decoded.

// smoothCoefs is the number of coefficients (in zigzag order) smoothing looks at.
const smoothCoefs = 10

// smoothPos[k] is the natural position of zigzag coefficient k, for k < smoothCoefs.
var smoothPos = [smoothCoefs]int{0, 1, 8, 16, 9, 2, 3, 10, 17, 24}

// smoothingLatches decides, as smoothing_ok does, whether to smooth, and returns for each
// component the coefficient bits known after all scans and before the last scan that
// touched each coefficient.
func (d *jpegDecoder) smoothingLatches() (cur, prev [][smoothCoefs]int, ok bool) {
	if !d.progressive {
		return nil, nil, false
	}
	useful := false
	cur = make([][smoothCoefs]int, len(d.comps))
	prev = make([][smoothCoefs]int, len(d.comps))
	for ci := range d.comps {
		c := &d.comps[ci]
		if c.quant == nil {
			return nil, nil, false
		}
		for _, pos := range smoothPos { // the quantisers it divides by
			if c.quant[pos] == 0 {
				return nil, nil, false
			}
		}
		if c.coefBits[0] < 0 { // no DC at all yet
			return nil, nil, false
		}
		cur[ci][0] = c.coefBits[0]
		for k := 1; k < smoothCoefs; k++ {
			prev[ci][k] = -1
			if d.scans > 1 {
				prev[ci][k] = c.prevCoefBits[k]
			}
			cur[ci][k] = c.coefBits[k]
			if c.coefBits[k] != 0 {
				useful = true
			}
		}
	}
	return cur, prev, useful
}

// smoothedSamples is samples() with block smoothing.
func (d *jpegDecoder) smoothedSamples(ci int, cur, prev *[smoothCoefs]int) (plane []byte, stride int) {
	c := &d.comps[ci]
	q := c.quant
	stride = 8 * c.wBlocks
	plane = make([]byte, stride*8*c.hBlocks)
	lastIMCU := d.mcusY - 1
	lastCol := c.wBlocks - 1
	dcAt := func(row, col int) int { return int(c.coef[64*(row*c.stride+col)]) }
	q00 := int64(q[0])
	var ws [64]int16
	for r := range c.hBlocks {
		imcu, br := r/c.v, r%c.v
		blockRows := c.v
		if imcu == lastIMCU {
			if blockRows = c.hBlocks % c.v; blockRows == 0 {
				blockRows = c.v
			}
		}
		bits := cur
		if imcu > d.lastGoodIMCURow {
			bits = prev
		}
		changeDC := true
		for k := 1; k < smoothCoefs; k++ {
			changeDC = changeDC && bits[k] == -1
		}
		// The neighbouring block rows, clamped at the edges as libjpeg clamps them (which,
		// for two rows up and down, depends on the iMCU row, not only on the image edge).
		rPrev, rNext := r, r
		if br > 0 || imcu > 0 {
			rPrev = r - 1
		}
		rPrev2 := rPrev
		if br > 1 || imcu > 1 {
			rPrev2 = r - 2
		}
		if br < blockRows-1 || imcu < lastIMCU {
			rNext = r + 1
		}
		rNext2 := rNext
		if br < blockRows-2 || imcu+1 < lastIMCU {
			rNext2 = r + 2
		}
		rows := [5]int{rPrev2, rPrev, r, rNext, rNext2}
		// dc[i][j]: DC of row rows[i], column col-2+j, kept in a sliding window whose
		// edges repeat as libjpeg's registers DC01..DC25 do.
		var dc [5][5]int
		for i, row := range rows {
			v := dcAt(row, 0)
			dc[i] = [5]int{v, v, v, v, v}
		}
		for col := range c.wBlocks {
			if col == 0 && col < lastCol {
				for i, row := range rows {
					dc[i][3] = dcAt(row, col+1)
				}
			}
			if col+1 < lastCol {
				for i, row := range rows {
					dc[i][4] = dcAt(row, col+2)
				}
			}
			copy(ws[:], c.coef[64*(r*c.stride+col):][:64])
			smoothBlock(&ws, &dc, bits, changeDC, q, q00)
			idctIslow(ws[:], q, plane[8*(r*stride+col):], stride)
			for i := range dc {
				copy(dc[i][:4], dc[i][1:])
			}
		}
	}
	return plane, stride
}

// smoothBlock estimates the block's unknown low-frequency coefficients from the DC values
// dc around it (dc[2][2] is its own). The weights are libjpeg's.
func smoothBlock(ws *[64]int16, dc *[5][5]int, bits *[smoothCoefs]int, changeDC bool, q *[64]uint16, q00 int64) {
	// d(n) is libjpeg's DCnn: rows of five, numbered from 1 at the top left.
	d := func(n int) int64 { return int64(dc[(n-1)/5][(n-1)%5]) }
	estimate := func(k int, num int64) {
		pos := smoothPos[k]
		al := bits[k]
		if al == 0 || ws[pos] != 0 {
			return
		}
		qk := int64(q[pos])
		var pred int64
		if num >= 0 {
			pred = ((qk << 7) + num) / (qk << 8)
		} else {
			pred = ((qk << 7) - num) / (qk << 8)
		}
		if al > 0 && pred >= 1<<al {
			pred = 1<<al - 1
		}
		if num < 0 {
			pred = -pred
		}
		ws[pos] = int16(pred)
	}
	if changeDC {
		estimate(1, q00*(-d(1)-d(2)+d(4)+d(5)-3*d(6)+13*d(7)-13*d(9)+3*d(10)-3*d(11)+38*d(12)-38*d(14)+
			3*d(15)-3*d(16)+13*d(17)-13*d(19)+3*d(20)-d(21)-d(22)+d(24)+d(25)))
		estimate(2, q00*(-d(1)-3*d(2)-3*d(3)-3*d(4)-d(5)-d(6)+13*d(7)+38*d(8)+13*d(9)-d(10)+d(16)-
			13*d(17)-38*d(18)-13*d(19)+d(20)+d(21)+3*d(22)+3*d(23)+3*d(24)+d(25)))
		estimate(3, q00*(d(3)+2*d(7)+7*d(8)+2*d(9)-5*d(12)-14*d(13)-5*d(14)+2*d(17)+7*d(18)+2*d(19)+d(23)))
		estimate(4, q00*(-d(1)+d(5)+9*d(7)-9*d(9)-9*d(17)+9*d(19)+d(21)-d(25)))
		estimate(5, q00*(2*d(7)-5*d(8)+2*d(9)+d(11)+7*d(12)-14*d(13)+7*d(14)+d(15)+2*d(17)-5*d(18)+2*d(19)))
		estimate(6, q00*(d(7)-d(9)+2*d(12)-2*d(14)+d(17)-d(19)))
		estimate(7, q00*(d(7)-3*d(8)+d(9)-d(17)+3*d(18)-d(19)))
		estimate(8, q00*(d(7)-d(9)-3*d(12)+3*d(14)+d(17)-d(19)))
		estimate(9, q00*(d(7)+2*d(8)+d(9)-d(17)-2*d(18)-d(19)))
		// The DC itself, always re-estimated (its bits are at least partly known).
		num := q00 * (-2*d(1) - 6*d(2) - 8*d(3) - 6*d(4) - 2*d(5) - 6*d(6) + 6*d(7) + 42*d(8) + 6*d(9) -
			6*d(10) - 8*d(11) + 42*d(12) + 152*d(13) + 42*d(14) - 8*d(15) - 6*d(16) + 6*d(17) +
			42*d(18) + 6*d(19) - 6*d(20) - 2*d(21) - 6*d(22) - 8*d(23) - 6*d(24) - 2*d(25))
		var pred int64
		if num >= 0 {
			pred = ((q00 << 7) + num) / (q00 << 8)
		} else {
			pred = -(((q00 << 7) - num) / (q00 << 8))
		}
		ws[0] = int16(pred)
		return
	}
	estimate(1, q00*(-7*d(11)+50*d(12)-50*d(14)+7*d(15)))
	estimate(2, q00*(-7*d(3)+50*d(8)-50*d(18)+7*d(23)))
	estimate(3, q00*(-d(3)+13*d(8)-24*d(13)+13*d(18)-d(23)))
	estimate(4, q00*(d(10)+d(16)-10*d(17)+10*d(19)-d(2)-d(20)+d(22)-d(24)+d(4)-d(6)+10*d(7)-10*d(9)))
	estimate(5, q00*(-d(11)+13*d(12)-24*d(13)+13*d(14)-d(15)))
}
