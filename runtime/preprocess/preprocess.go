// Package preprocess turns a decoded RGB image into the float32 tensor the models were evaluated
// on, reproducing the authors' test_model.py transform without Python:
//
//	transforms.Compose([
//	    transforms.Resize(input_size + 32, interpolation=InterpolationMode.BICUBIC),
//	    transforms.CenterCrop(input_size),
//	    transforms.ToTensor(),
//	    transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
//	])
//
// The resize is Pillow's antialiased bicubic resampling, integer for integer, so the result is
// the same bytes PIL produces; the rest follows torchvision's float32 arithmetic. The versions
// matched are Debian bookworm's: Pillow 9.4.0 and torchvision 0.14.1 (with torch 1.13.1).
//
// Every function is safe for concurrent use; callers parallelise over images.
package preprocess

import "fmt"

// RGB is an 8-bit interleaved RGB image (PIL mode "RGB"): row-major, 3 bytes a pixel.
type RGB struct {
	W, H int
	Pix  []uint8
}

// NewRGB returns a black w×h image.
func NewRGB(w, h int) *RGB {
	if w < 0 || h < 0 {
		panic(fmt.Sprintf("preprocess: negative image size %d×%d", w, h))
	}
	return &RGB{W: w, H: h, Pix: make([]uint8, 3*w*h)}
}

// check panics unless img is a well-formed, non-empty image: a malformed RGB is a bug in the
// caller (the decoder), not bad input.
func (img *RGB) check() {
	if img == nil || img.W <= 0 || img.H <= 0 || len(img.Pix) < 3*img.W*img.H {
		var w, h, n int
		if img != nil {
			w, h, n = img.W, img.H, len(img.Pix)
		}
		panic(fmt.Sprintf("preprocess: malformed image %d×%d with %d bytes", w, h, n))
	}
}

// ShorterSize is the size torchvision's Resize(size) gives a w×h image (torchvision 0.14
// _compute_resized_output_size): the shorter side becomes size and the longer side
// int(size * long / short), rounded towards zero. A square image becomes size×size.
func ShorterSize(w, h, size int) (nw, nh int) {
	short, long := w, h
	if h < w {
		short, long = h, w
	}
	// Python's true division of two ints is correctly rounded; for the sizes images have
	// (products below 2^53) so is float64 division of the exact operands.
	newLong := int(float64(size*long) / float64(short))
	if w <= h {
		return size, newLong
	}
	return newLong, size
}

// ResizeShorter is torchvision's Resize(size) for an int size: the shorter side to size, with
// PIL's bicubic filter. Like torchvision, it returns src itself when the size does not change.
func ResizeShorter(src *RGB, size int) *RGB {
	src.check()
	if size <= 0 {
		panic(fmt.Sprintf("preprocess: resize to non-positive size %d", size))
	}
	w, h := ShorterSize(src.W, src.H, size)
	if w == src.W && h == src.H {
		return src
	}
	return ResizeBicubic(src, w, h)
}

// CropOffsets is where torchvision's CenterCrop(size) takes a size×size window from a w×h image
// (torchvision 0.14 center_crop). The image is first padded with black where it is smaller than
// the crop: padLeft and padTop are the columns and rows of padding before the image, (crop-w)/2
// and (crop-h)/2 rounded down, the rest going after it. left and top are the window's offsets in
// the padded image, int(round((side - size) / 2.0)) with Python's round-half-to-even.
func CropOffsets(w, h, size int) (left, top, padLeft, padTop int) {
	if size > w {
		padLeft = (size - w) / 2
		w = size
	}
	if size > h {
		padTop = (size - h) / 2
		h = size
	}
	return roundHalfEven2(w - size), roundHalfEven2(h - size), padLeft, padTop
}

// roundHalfEven2 is Python's round(d / 2.0) for d >= 0: halves go to the even neighbour.
func roundHalfEven2(d int) int {
	q := d / 2
	if d%2 == 1 && q%2 == 1 {
		q++
	}
	return q
}

// CenterCrop is torchvision's CenterCrop(size) (square): the central size×size window, with
// black padding where the image is smaller than the crop. It always returns a new image.
func CenterCrop(src *RGB, size int) *RGB {
	src.check()
	if size <= 0 {
		panic(fmt.Sprintf("preprocess: crop to non-positive size %d", size))
	}
	left, top, padLeft, padTop := CropOffsets(src.W, src.H, size)
	dst := NewRGB(size, size)
	// The window in source coordinates: the padded image's (left, top) is the source's
	// (left-padLeft, top-padTop); at most one of each pair is non-zero.
	x0, y0 := left-padLeft, top-padTop
	for y := 0; y < size; y++ {
		sy := y0 + y
		if sy < 0 || sy >= src.H {
			continue
		}
		// Columns [xa, xb) of the output row come from the source; the rest stay black.
		xa, xb := max(0, -x0), min(size, src.W-x0)
		if xa >= xb {
			continue
		}
		copy(dst.Pix[3*(y*size+xa):3*(y*size+xb)], src.Pix[3*(sy*src.W+x0+xa):])
	}
	return dst
}

// Mean and Std are the ImageNet normalisation test_model.py uses.
var (
	Mean = [3]float32{0.485, 0.456, 0.406}
	Std  = [3]float32{0.229, 0.224, 0.225}
)

// normTable[c][v] is ToTensor+Normalize of byte v in channel c, computed once with torchvision's
// float32 operations: v/255 (ToTensor's img.float().div(255)), then .sub_(mean).div_(std).
// Every output element is a function of one byte, so a table gives the same floats.
var normTable = func() (t [3][256]float32) {
	for c := range t {
		for v := range t[c] {
			x := float32(v) / 255
			x = float32(x - Mean[c])
			t[c][v] = float32(x / Std[c])
		}
	}
	return t
}()

// ToTensor writes the image as CHW float32 (x/255 - mean)/std into dst (3*W*H floats), with
// torchvision's float32 arithmetic: ToTensor followed by Normalize(Mean, Std).
func ToTensor(dst []float32, img *RGB) {
	img.check()
	plane := img.W * img.H
	if len(dst) < 3*plane {
		panic(fmt.Sprintf("preprocess: tensor of %d floats for a %d×%d image, want %d", len(dst), img.W, img.H, 3*plane))
	}
	r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	pix := img.Pix[:3*plane]
	for i := range r {
		p := pix[3*i : 3*i+3]
		r[i] = normTable[0][p[0]]
		g[i] = normTable[1][p[1]]
		b[i] = normTable[2][p[2]]
	}
}

// Eval is the whole test_model.py transform for input size n: Resize(n+32), CenterCrop(n),
// ToTensor, Normalize. dst receives 3*n*n floats in CHW order.
//
// Only the n×n window that CenterCrop keeps is resampled: each output pixel of Pillow's
// two-pass resize depends on its own coefficients alone, so the window is the same bytes as
// cropping the full resize, at about (n/(n+32))² of the work.
func Eval(dst []float32, img *RGB, n int) {
	img.check()
	if n <= 0 {
		panic(fmt.Sprintf("preprocess: evaluation size %d", n))
	}
	if len(dst) < 3*n*n {
		panic(fmt.Sprintf("preprocess: tensor of %d floats for input size %d, want %d", len(dst), n, 3*n*n))
	}
	w, h := ShorterSize(img.W, img.H, n+32)
	left, top, padLeft, padTop := CropOffsets(w, h, n)
	if padLeft != 0 || padTop != 0 || w < n || h < n {
		// Unreachable with the shorter side at n+32; kept so the function is total.
		ToTensor(dst, CenterCrop(ResizeShorter(img, n+32), n))
		return
	}
	s := getScratch()
	defer putScratch(s)
	s.out = grow(s.out, 3*n*n)
	win := RGB{W: n, H: n, Pix: s.out}
	resampleWindow(&win, img, w, h, left, top, s)
	ToTensor(dst, &win)
}
