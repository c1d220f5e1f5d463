package imageio

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A JPEG decoder that reproduces libjpeg-turbo 2.1 as Pillow drives it: Huffman-coded
// baseline, extended-sequential and progressive frames, 8-bit samples, the accurate integer
// inverse DCT ("islow", jidctint.c, in jpegidct.go), block smoothing of incompletely coded
// progressive images (jpegsmooth.go), and libjpeg's ways with damaged data (a marker in the
// middle of entropy-coded data ends it: the rest of the MCU reads as zero bits and the
// following MCUs up to the next restart marker are left empty; restart markers out of order
// are resynchronised as jdmarker.c does). Go's image/jpeg decodes the same files, but its
// inverse DCT rounds differently, which moves a few percent of the samples by a level or
// two; this one gives libjpeg's samples exactly.
//
// Written from ITU-T T.81 and the libjpeg-turbo sources' descriptions; not a copy of them.

const (
	jpegMaxDimension = 65500 // libjpeg's JPEG_MAX_DIMENSION
	// jpegMaxScans bounds the work a small hostile file can cause: every scan walks all the
	// blocks of its components, even when it carries no data. libjpeg has no such limit
	// (TurboJPEG's is 500); real files have at most a few dozen scans.
	jpegMaxScans = 1000
)

// zigzag[k] is the natural (row-major) index of the k-th coefficient in zigzag order. Like
// libjpeg's jpeg_natural_order it has 16 extra entries so that corrupt data that runs past
// the end of a block lands on coefficient 63 instead of out of bounds.
var zigzag = [64 + 16]uint8{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
}

// jpegColorSpace is how libjpeg reads the components (jdapimin.c default_decompress_parms).
type jpegColorSpace int

const (
	jcsGrey jpegColorSpace = iota
	jcsYCbCr
	jcsRGB
	jcsCMYK
	jcsYCCK
)

type huffTable struct {
	// lookahead[b] for the next 8 bits b: code length<<8 | symbol, or 0 if the code is
	// longer than 8 bits.
	lookahead [256]uint16
	maxcode   [17]int32 // largest code of each length, -1 if none
	valoffset [17]int32 // symbol index = code + valoffset[length]
	vals      []byte
}

type jpegComponent struct {
	id           int
	h, v         int // sampling factors
	tq           int // quantisation table selector
	quant        *[64]uint16
	dsW, dsH     int // libjpeg's downsampled_width/height: the samples that cover the image
	wBlocks      int // blocks across that cover dsW (non-interleaved scans visit only these)
	hBlocks      int
	stride       int     // blocks across in coef (a whole number of MCUs)
	coef         []int16 // 64 per block, natural order
	pred         int32   // DC prediction
	dc, ac       *huffTable
	dcSel, acSel int
	coefBits     [64]int          // progressive: the Al of the last scan for each coefficient, -1 none
	prevCoefBits [smoothCoefs]int // coefBits before the last scan that touched each
}

type jpegDecoder struct {
	data []byte
	pos  int  // next byte to read
	eof  bool // the data ended before EOI
	// unread is a marker code that has been read but not acted on (libjpeg's
	// unread_marker), 0 if none.
	unread byte

	// entropy-coded data
	acc          uint64
	nbits        int
	insufficient bool // ran into a marker: the rest of the restart interval is empty

	quant      [4]*[64]uint16
	dcTables   [4]*huffTable
	acTables   [4]*huffTable
	restart    int
	jfif       bool
	adobe      bool
	adobeXform byte

	sof           byte
	progressive   bool
	width, height int
	comps         []jpegComponent
	hmax, vmax    int
	mcusX, mcusY  int
	scans         int
	space         jpegColorSpace
	eobrun        int
	// lastGoodIMCURow is the iMCU row of the last MCU decoded before data ran out, in any
	// scan (libjpeg's master->last_good_iMCU_row); block smoothing uses it.
	lastGoodIMCURow int
}

var errJPEGTruncated = errors.New("the JPEG data ends before its end-of-image marker (the file is truncated; Pillow refuses it too)")

// decodeJPEGCoefficients decodes data (starting with SOI) into the quantised DCT
// coefficients of each component; with headerOnly it stops after the frame header.
func decodeJPEGCoefficients(data []byte, headerOnly bool) (*jpegDecoder, error) {
	d := &jpegDecoder{data: data, pos: 2}
	for {
		if headerOnly && d.sof != 0 {
			return d, nil
		}
		if d.unread == 0 && !d.nextMarker() {
			return nil, errJPEGTruncated
		}
		m := d.unread
		d.unread = 0
		var err error
		switch {
		case m == 0xD8:
			err = errors.New("a second start-of-image marker")
		case m == 0xC0 || m == 0xC1 || m == 0xC2:
			err = d.readSOF(m)
		case m == 0xC4:
			err = d.readDHT()
		case m == 0xDB:
			err = d.readDQT()
		case m == 0xDD:
			err = d.readDRI()
		case m == 0xDA:
			err = d.readScan()
		case m == 0xD9:
			if d.scans == 0 {
				return nil, errors.New("the JPEG has no image data (end-of-image before any scan)")
			}
			return d, nil
		case m >= 0xC3 && m <= 0xCF && m != 0xC8 && m != 0xCC:
			err = unsupportedSOF(m)
		case m >= 0xE0 && m <= 0xEF, m == 0xFE, m == 0xCC, m == 0xDC:
			err = d.readOther(m) // APPn, COM, DAC (arithmetic only), DNL: skipped
		case m >= 0xD0 && m <= 0xD7, m == 0x01:
			// RSTn outside a scan, TEM: no parameters, ignored as libjpeg does
		default:
			err = fmt.Errorf("unknown JPEG marker 0xFF%02X", m)
		}
		if err != nil {
			return nil, err
		}
		if d.eof {
			return nil, errJPEGTruncated
		}
	}
}

func unsupportedSOF(m byte) error {
	n := int(m - 0xC0)
	switch {
	case n == 9 || n == 10:
		return fmt.Errorf("arithmetic-coded JPEG (SOF%d) is not supported, though Pillow reads it; jpegtran can rewrite the file with Huffman coding, losslessly", n)
	case n == 3 || n == 7 || n == 11 || n == 15:
		return fmt.Errorf("lossless JPEG (SOF%d) is not supported (Pillow does not read it either)", n)
	}
	return fmt.Errorf("JPEG coding process SOF%d (hierarchical or differential) is not supported (Pillow does not read it either)", n)
}

// nextMarker skips to the next marker as libjpeg's next_marker does: anything before an
// 0xFF is discarded (libjpeg warns of "extraneous bytes"), fill bytes 0xFF are skipped, and
// 0xFF 0x00 is data, not a marker.
func (d *jpegDecoder) nextMarker() bool {
	for {
		for d.pos < len(d.data) && d.data[d.pos] != 0xFF {
			d.pos++
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xFF {
			d.pos++
		}
		if d.pos >= len(d.data) {
			d.eof = true
			return false
		}
		c := d.data[d.pos]
		d.pos++
		if c != 0 {
			d.unread = c
			return true
		}
	}
}

// segment returns the body of the marker segment at d.pos and moves past it.
func (d *jpegDecoder) segment(m byte) ([]byte, error) {
	if d.pos+2 > len(d.data) {
		d.eof = true
		return nil, errJPEGTruncated
	}
	n := int(binary.BigEndian.Uint16(d.data[d.pos:]))
	if n < 2 {
		return nil, fmt.Errorf("JPEG marker 0xFF%02X has length %d", m, n)
	}
	if d.pos+n > len(d.data) {
		d.eof = true
		return nil, errJPEGTruncated
	}
	body := d.data[d.pos+2 : d.pos+n]
	d.pos += n
	return body, nil
}

func (d *jpegDecoder) readOther(m byte) error {
	body, err := d.segment(m)
	if err != nil {
		return err
	}
	switch {
	// jdmarker.c examine_app0/examine_app14: at least 14 and 12 bytes of data.
	case m == 0xE0 && len(body) >= 14 && string(body[:5]) == "JFIF\x00":
		d.jfif = true
	case m == 0xEE && len(body) >= 12 && string(body[:5]) == "Adobe":
		d.adobe, d.adobeXform = true, body[11]
	}
	return nil
}

func (d *jpegDecoder) readSOF(m byte) error {
	if d.sof != 0 {
		return errors.New("a second JPEG frame header (SOF)")
	}
	body, err := d.segment(m)
	if err != nil {
		return err
	}
	if len(body) < 6 {
		return fmt.Errorf("JPEG frame header (SOF) of %d bytes", len(body))
	}
	d.sof, d.progressive = m, m == 0xC2
	precision := int(body[0])
	d.height = int(binary.BigEndian.Uint16(body[1:]))
	d.width = int(binary.BigEndian.Uint16(body[3:]))
	n := int(body[5])
	switch {
	case d.height == 0 || d.width == 0 || n == 0:
		return fmt.Errorf("JPEG frame of %dx%d pixels and %d components: empty (a height defined later by DNL is not supported)", d.width, d.height, n)
	case len(body) != 6+3*n:
		return fmt.Errorf("JPEG frame header (SOF) of %d bytes for %d components", len(body), n)
	case d.width > jpegMaxDimension || d.height > jpegMaxDimension:
		return fmt.Errorf("JPEG of %dx%d pixels: more than libjpeg's limit of %d", d.width, d.height, jpegMaxDimension)
	case precision != 8:
		return fmt.Errorf("%d-bit JPEG samples are not supported (Pillow refuses them too)", precision)
	case n != 1 && n != 3 && n != 4:
		return fmt.Errorf("JPEG with %d components: Pillow reads 1 (grey), 3 (colour) or 4 (CMYK) only", n)
	}
	d.comps = make([]jpegComponent, n)
	d.hmax, d.vmax = 1, 1
	for i := range d.comps {
		c := &d.comps[i]
		b := body[6+3*i:]
		c.id, c.h, c.v, c.tq = int(b[0]), int(b[1]>>4), int(b[1]&15), int(b[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return fmt.Errorf("JPEG component %d has sampling factors %dx%d, outside 1..4", i, c.h, c.v)
		}
		if c.tq > 3 {
			return fmt.Errorf("JPEG component %d uses quantisation table %d, past 3", i, c.tq)
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
		for j := range c.coefBits {
			c.coefBits[j] = -1
		}
	}
	d.mcusX = ceilDiv(d.width, 8*d.hmax)
	d.mcusY = ceilDiv(d.height, 8*d.vmax)
	for i := range d.comps {
		c := &d.comps[i]
		if d.hmax%c.h != 0 || d.vmax%c.v != 0 {
			return fmt.Errorf("JPEG component %d is sampled %dx%d against %dx%d: not an integral ratio, which libjpeg does not support either", i, c.h, c.v, d.hmax, d.vmax)
		}
		c.dsW, c.dsH = ceilDiv(d.width*c.h, d.hmax), ceilDiv(d.height*c.v, d.vmax)
		c.wBlocks, c.hBlocks = ceilDiv(c.dsW, 8), ceilDiv(c.dsH, 8)
		c.stride = d.mcusX * c.h
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (d *jpegDecoder) readDQT() error {
	body, err := d.segment(0xDB)
	if err != nil {
		return err
	}
	for len(body) > 0 {
		pq, tq := int(body[0]>>4), int(body[0]&15)
		if tq > 3 {
			return fmt.Errorf("JPEG quantisation table %d, past 3", tq)
		}
		size := 64 << min(pq, 1)
		if len(body) < 1+size {
			return errors.New("JPEG quantisation table segment (DQT) of a wrong length")
		}
		t := new([64]uint16)
		for k := range 64 {
			if pq != 0 {
				t[zigzag[k]] = binary.BigEndian.Uint16(body[1+2*k:])
			} else {
				t[zigzag[k]] = uint16(body[1+k])
			}
		}
		d.quant[tq] = t
		body = body[1+size:]
	}
	return nil
}

func (d *jpegDecoder) readDRI() error {
	body, err := d.segment(0xDD)
	if err != nil {
		return err
	}
	if len(body) != 2 {
		return fmt.Errorf("JPEG restart interval segment (DRI) of %d bytes", len(body))
	}
	d.restart = int(binary.BigEndian.Uint16(body))
	return nil
}

func (d *jpegDecoder) readDHT() error {
	body, err := d.segment(0xC4)
	if err != nil {
		return err
	}
	for len(body) > 0 {
		if len(body) < 17 {
			return errors.New("JPEG Huffman table segment (DHT) of a wrong length")
		}
		class, id := body[0]>>4, int(body[0]&15)
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(body[l])
			total += counts[l]
		}
		if total > 256 || 17+total > len(body) {
			return errors.New("JPEG Huffman table segment (DHT) of a wrong length")
		}
		if id > 3 || class > 1 {
			return fmt.Errorf("JPEG Huffman table class %d id %d: want class 0 or 1, id 0..3", class, id)
		}
		t, err := newHuffTable(counts, body[17:17+total])
		if err != nil {
			return err
		}
		if class == 0 {
			d.dcTables[id] = t
		} else {
			d.acTables[id] = t
		}
		body = body[17+total:]
	}
	return nil
}

// newHuffTable builds the canonical code (T.81 Annex C) and checks it as libjpeg's
// jpeg_make_d_derived_tbl does: no code may be all ones.
func newHuffTable(counts [17]int, vals []byte) (*huffTable, error) {
	t := &huffTable{vals: append([]byte(nil), vals...)}
	code, k, last := int32(0), 0, 0
	for l := 1; l <= 16; l++ {
		if counts[l] > 0 {
			last = l
		}
	}
	for l := 1; l <= 16; l++ {
		t.valoffset[l] = int32(k) - code
		t.maxcode[l] = -1
		for range counts[l] {
			if l <= 8 {
				for ext := range 1 << (8 - l) {
					t.lookahead[int(code)<<(8-l)|ext] = uint16(l)<<8 | uint16(vals[k])
				}
			}
			t.maxcode[l] = code
			code++
			k++
		}
		if l <= last && code >= 1<<l {
			return nil, errors.New("bad JPEG Huffman table: its codes overflow their lengths")
		}
		code <<= 1
	}
	return t, nil
}

// ---- entropy-coded data ----

// fillBits tries to have n (<= 32) bits of real data in the bit buffer; it stops at a marker
// or the end of the data, recording which.
func (d *jpegDecoder) fillBits(n int) bool {
	for d.nbits < n {
		if d.unread != 0 || d.eof {
			return false
		}
		if d.pos >= len(d.data) {
			d.eof = true
			return false
		}
		c := d.data[d.pos]
		d.pos++
		if c == 0xFF {
			for d.pos < len(d.data) && d.data[d.pos] == 0xFF {
				d.pos++
			}
			if d.pos >= len(d.data) {
				d.eof = true
				return false
			}
			next := d.data[d.pos]
			d.pos++
			if next != 0 {
				d.unread = next
				return false
			}
		}
		d.acc = d.acc<<8 | uint64(c)
		d.nbits += 8
	}
	return true
}

// getBits reads n (<= 16) bits. Past a marker libjpeg supplies zeros and notes that the data
// ran out.
func (d *jpegDecoder) getBits(n int) int32 {
	if n == 0 {
		return 0
	}
	if !d.fillBits(n) {
		d.acc <<= uint(n - d.nbits)
		d.nbits = n
		d.insufficient = true
	}
	d.nbits -= n
	return int32(d.acc>>uint(d.nbits)) & (1<<n - 1)
}

// decodeHuff reads one Huffman-coded symbol. A bit pattern that is no code (after 16 bits)
// reads as 0 after one more bit, as in libjpeg's jpeg_huff_decode.
func (d *jpegDecoder) decodeHuff(t *huffTable) int {
	if d.fillBits(8) {
		if e := t.lookahead[(d.acc>>uint(d.nbits-8))&0xFF]; e != 0 {
			d.nbits -= int(e >> 8)
			return int(e & 0xFF)
		}
	}
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | d.getBits(1)
		if code <= t.maxcode[l] {
			return int(t.vals[code+t.valoffset[l]])
		}
	}
	d.getBits(1)
	return 0
}

// extend turns the s-bit magnitude category value r into a signed coefficient (F.2.2.1).
func extend(r int32, s int) int32 {
	if s == 0 {
		return 0
	}
	if r < 1<<(s-1) {
		return r - (1 << s) + 1
	}
	return r
}

// ---- scans ----

func (d *jpegDecoder) readScan() error {
	if d.sof == 0 {
		return errors.New("a JPEG scan (SOS) before the frame header (SOF)")
	}
	body, err := d.segment(0xDA)
	if err != nil {
		return err
	}
	if len(body) < 1 {
		return errors.New("empty JPEG scan header (SOS)")
	}
	n := int(body[0])
	if n < 1 || n > 4 || len(body) != 4+2*n {
		return fmt.Errorf("JPEG scan header (SOS) of %d bytes for %d components", len(body), n)
	}
	// Components by id, as libjpeg's get_sos matches them (a repeated id takes the next
	// component with that id among the first four).
	var inScan [4]bool
	scan := make([]*jpegComponent, n)
	for i := range n {
		id, sel := int(body[1+2*i]), body[2+2*i]
		found := -1
		for ci := 0; ci < len(d.comps) && ci < 4; ci++ {
			if d.comps[ci].id == id && !inScan[ci] {
				found = ci
				break
			}
		}
		if found < 0 {
			return fmt.Errorf("JPEG scan names component id %d, which the frame does not have (or names it twice)", id)
		}
		inScan[found] = true
		scan[i] = &d.comps[found]
		scan[i].dcSel, scan[i].acSel = int(sel>>4), int(sel&15)
	}
	ss, se := int(body[1+2*n]), int(body[2+2*n])
	ah, al := int(body[3+2*n]>>4), int(body[3+2*n]&15)

	if d.scans == jpegMaxScans {
		return fmt.Errorf("more than %d scans in one JPEG: a hostile file? (encoders write at most a few dozen)", jpegMaxScans)
	}
	if d.scans == 0 {
		d.startImage()
		for i := range d.comps {
			c := &d.comps[i]
			c.coef = make([]int16, 64*c.stride*d.mcusY*c.v)
		}
	}
	d.scans++
	for _, c := range scan {
		if c.quant == nil { // libjpeg latches a table at the component's first scan
			if d.quant[c.tq] == nil {
				return fmt.Errorf("JPEG quantisation table %d is used but not defined", c.tq)
			}
			q := *d.quant[c.tq]
			c.quant = &q
		}
	}
	if d.progressive {
		if err := d.checkProgression(scan, ss, se, ah, al); err != nil {
			return err
		}
	}
	if err := d.selectTables(scan, ss, ah); err != nil {
		return err
	}
	return d.decodeScanData(scan, ss, se, ah, al)
}

// startImage does what libjpeg does on reaching the first scan: decide the colour space and,
// for sequential files, supply the standard Huffman tables for any of slots 0 and 1 the file
// leaves empty (Motion-JPEG frames omit them).
func (d *jpegDecoder) startImage() {
	switch len(d.comps) {
	case 1:
		d.space = jcsGrey
	case 3:
		switch {
		case d.jfif:
			d.space = jcsYCbCr
		case d.adobe:
			d.space = jcsYCbCr
			if d.adobeXform == 0 {
				d.space = jcsRGB
			}
		case d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B':
			d.space = jcsRGB
		default:
			d.space = jcsYCbCr
		}
	case 4:
		d.space = jcsCMYK
		if d.adobe && d.adobeXform != 0 {
			d.space = jcsYCCK
		}
	}
	if !d.progressive {
		for i, std := range []*huffTable{stdDCLuminance, stdDCChrominance} {
			if d.dcTables[i] == nil {
				d.dcTables[i] = std
			}
		}
		for i, std := range []*huffTable{stdACLuminance, stdACChrominance} {
			if d.acTables[i] == nil {
				d.acTables[i] = std
			}
		}
	}
}

// checkProgression validates a progressive scan's parameters as jdphuff.c does (fatal
// errors only; libjpeg merely warns about scans out of order) and records which bits of
// which coefficients are now known.
func (d *jpegDecoder) checkProgression(scan []*jpegComponent, ss, se, ah, al int) error {
	bad := false
	if ss == 0 {
		bad = se != 0
	} else {
		bad = ss > se || se > 63 || len(scan) != 1
	}
	if (ah != 0 && al != ah-1) || al > 13 {
		bad = true
	}
	if bad {
		return fmt.Errorf("bad JPEG progressive scan parameters Ss=%d Se=%d Ah=%d Al=%d", ss, se, ah, al)
	}
	for _, c := range scan {
		for k := min(ss, 1); k <= max(se, 9); k++ {
			if k < smoothCoefs {
				c.prevCoefBits[k] = 0
				if d.scans > 1 {
					c.prevCoefBits[k] = c.coefBits[k]
				}
			}
		}
		for k := ss; k <= se; k++ {
			c.coefBits[k] = al
		}
	}
	return nil
}

func (d *jpegDecoder) selectTables(scan []*jpegComponent, ss, ah int) error {
	for _, c := range scan {
		c.dc, c.ac = nil, nil
		needDC := !d.progressive || (ss == 0 && ah == 0)
		needAC := !d.progressive || ss != 0
		if needDC {
			if c.dcSel > 3 || d.dcTables[c.dcSel] == nil {
				return fmt.Errorf("JPEG DC Huffman table %d is used but not defined", c.dcSel)
			}
			c.dc = d.dcTables[c.dcSel]
			for _, s := range c.dc.vals { // jpeg_make_d_derived_tbl
				if s > 15 {
					return fmt.Errorf("bad JPEG DC Huffman table %d: symbol %d, more than 15", c.dcSel, s)
				}
			}
		}
		if needAC {
			if c.acSel > 3 || d.acTables[c.acSel] == nil {
				return fmt.Errorf("JPEG AC Huffman table %d is used but not defined", c.acSel)
			}
			c.ac = d.acTables[c.acSel]
		}
	}
	return nil
}

func (d *jpegDecoder) decodeScanData(scan []*jpegComponent, ss, se, ah, al int) error {
	d.acc, d.nbits, d.insufficient, d.eobrun = 0, 0, false, 0
	for _, c := range scan {
		c.pred = 0
	}
	var mcus, perRow int
	if len(scan) == 1 {
		c := scan[0]
		mcus, perRow = c.wBlocks*c.hBlocks, c.wBlocks
	} else {
		mcus, perRow = d.mcusX*d.mcusY, d.mcusX
		blocks := 0
		for _, c := range scan {
			blocks += c.h * c.v
		}
		if blocks > 10 { // libjpeg's D_MAX_BLOCKS_IN_MCU
			return fmt.Errorf("JPEG scan with %d blocks per MCU, more than 10", blocks)
		}
	}
	restartsToGo, nextRestart := d.restart, 0
	for m := range mcus {
		if !d.insufficient { // before the restart marker, as libjpeg's consume_data does it
			if len(scan) == 1 {
				d.lastGoodIMCURow = m / perRow / scan[0].v
			} else {
				d.lastGoodIMCURow = m / perRow
			}
		}
		if d.restart > 0 {
			if restartsToGo == 0 {
				d.processRestart(nextRestart)
				nextRestart = (nextRestart + 1) & 7
				restartsToGo = d.restart
				for _, c := range scan {
					c.pred = 0
				}
				d.eobrun = 0
			}
			restartsToGo--
		}
		if d.eof {
			return errJPEGTruncated
		}
		if d.insufficient {
			continue
		}
		mx, my := m%perRow, m/perRow
		if len(scan) == 1 {
			c := scan[0]
			if err := d.decodeBlock(c, c.coef[64*(my*c.stride+mx):][:64], ss, se, ah, al); err != nil {
				return err
			}
			continue
		}
		for _, c := range scan {
			for by := range c.v {
				for bx := range c.h {
					i := (my*c.v+by)*c.stride + mx*c.h + bx
					if err := d.decodeBlock(c, c.coef[64*i:][:64], ss, se, ah, al); err != nil {
						return err
					}
				}
			}
		}
	}
	if d.eof {
		return errJPEGTruncated
	}
	d.acc, d.nbits = 0, 0 // leftover bits are discarded; markers are looked for from here
	return nil
}

// processRestart expects restart marker RSTn (n = want) and, if the markers are out of step,
// resynchronises as libjpeg's jpeg_resync_to_restart does.
func (d *jpegDecoder) processRestart(want int) {
	d.acc, d.nbits = 0, 0
	if d.unread == 0 && !d.nextMarker() {
		return
	}
	rst := func(n int) byte { return byte(0xD0 + n&7) }
	if d.unread == rst(want) {
		d.unread = 0
	} else {
		for {
			m := d.unread
			action := 1 // discard the marker and go on
			switch {
			case m < 0xC0:
				action = 2 // not a valid marker: look further
			case m < 0xD0 || m > 0xD7:
				action = 3 // a non-restart marker: leave it, the interval is empty
			case m == rst(want+1) || m == rst(want+2):
				action = 3
			case m == rst(want-1) || m == rst(want-2):
				action = 2
			}
			if action == 1 {
				d.unread = 0
				break
			}
			if action == 3 {
				break
			}
			if !d.nextMarker() {
				return
			}
		}
	}
	if d.unread == 0 {
		d.insufficient = false
	}
}

func (d *jpegDecoder) decodeBlock(c *jpegComponent, blk []int16, ss, se, ah, al int) error {
	switch {
	case !d.progressive:
		d.decodeSequential(c, blk)
	case ss == 0 && ah == 0:
		return d.decodeDCFirst(c, blk, al)
	case ss == 0:
		if d.getBits(1) != 0 {
			blk[0] |= int16(1 << al)
		}
	case ah == 0:
		d.decodeACFirst(c, blk, ss, se, al)
	default:
		d.decodeACRefine(c, blk, ss, se, al)
	}
	return nil
}

func (d *jpegDecoder) decodeSequential(c *jpegComponent, blk []int16) {
	s := d.decodeHuff(c.dc)
	c.pred += extend(d.getBits(s), s) // wraps like libjpeg's int
	blk[0] = int16(c.pred)
	for k := 1; k < 64; k++ {
		rs := d.decodeHuff(c.ac)
		r, s := rs>>4, rs&15
		if s != 0 {
			k += r
			blk[zigzag[min(k, 79)]] = int16(extend(d.getBits(s), s))
		} else {
			if r != 15 {
				break
			}
			k += 15
		}
	}
}

func (d *jpegDecoder) decodeDCFirst(c *jpegComponent, blk []int16, al int) error {
	s := d.decodeHuff(c.dc)
	diff := extend(d.getBits(s), s)
	sum := int64(c.pred) + int64(diff)
	if sum != int64(int32(sum)) {
		return errors.New("corrupt progressive JPEG: a DC coefficient overflows")
	}
	c.pred = int32(sum)
	blk[0] = int16(c.pred << al)
	return nil
}

func (d *jpegDecoder) decodeACFirst(c *jpegComponent, blk []int16, ss, se, al int) {
	if d.eobrun > 0 {
		d.eobrun--
		return
	}
	for k := ss; k <= se; k++ {
		rs := d.decodeHuff(c.ac)
		r, s := rs>>4, rs&15
		if s != 0 {
			k += r
			blk[zigzag[min(k, 79)]] = int16(extend(d.getBits(s), s) << al)
		} else {
			if r != 15 {
				d.eobrun = 1 << r
				if r != 0 {
					d.eobrun += int(d.getBits(r))
				}
				d.eobrun--
				break
			}
			k += 15
		}
	}
}

// decodeACRefine is successive approximation of AC coefficients (G.1.2.3): new coefficients
// of magnitude 1<<al, and a correction bit for each one already nonzero that the run passes.
func (d *jpegDecoder) decodeACRefine(c *jpegComponent, blk []int16, ss, se, al int) {
	p1, m1 := int16(1)<<al, int16(-1)<<al
	refine := func(k int) {
		coef := &blk[zigzag[min(k, 79)]]
		if *coef != 0 && d.getBits(1) != 0 && *coef&p1 == 0 {
			if *coef >= 0 {
				*coef += p1
			} else {
				*coef += m1
			}
		}
	}
	k := ss
	if d.eobrun == 0 {
		for ; k <= se; k++ {
			rs := d.decodeHuff(c.ac)
			r, s := rs>>4, rs&15
			var v int16
			if s != 0 { // libjpeg warns if s != 1 and reads it as 1
				v = m1
				if d.getBits(1) != 0 {
					v = p1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r != 0 {
					d.eobrun += int(d.getBits(r))
				}
				break
			}
			// Skip r zero coefficients, refining the nonzero ones on the way.
			for ; k <= se; k++ {
				coef := &blk[zigzag[k]]
				if *coef != 0 {
					refine(k)
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if v != 0 {
				blk[zigzag[min(k, 79)]] = v
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= se; k++ {
			refine(k)
		}
		d.eobrun--
	}
}
