// Package imageio decodes image files into the RGB pixels that the authors' evaluation sees:
// test_model.py opens every image with PIL and calls .convert('RGB'), so vitc gives, byte for
// byte, what Pillow gives as Debian bookworm ships it (Pillow 9.4.0 on libjpeg-turbo 2.1.5
// and libwebp 1.2.4).
//
//   - JPEG is decoded here, not by image/jpeg: Go's inverse DCT rounds differently from
//     libjpeg's "islow" and moves 2-5% of the samples by 1 to 3 levels, so this package
//     has its own Huffman decoder (baseline, extended and progressive) and libjpeg's integer
//     IDCT, chroma upsampling ("fancy", the default) and colour conversion. Four-component
//     files are CMYK to Pillow, in Adobe's inverted convention with or without an Adobe
//     marker, converted with Pillow's own formula. Progressive files that leave some
//     coefficients inexact are block-smoothed, and damaged files repaired, as libjpeg does
//     (zero-filled data, restart resynchronisation). Exact on every test file.
//   - PNG (image/png): exact. 16-bit RGB(A) and grey+alpha keep the high byte; 16-bit grey
//     opens as Pillow's mode "I", whose conversion clips to 255; palette indices past the
//     end of PLTE are Pillow's grey ramp.
//   - WebP (x/image/webp): lossless is exact; lossy chroma is upsampled and converted as
//     libwebp does by default (its "fancy" upsampler, 14-bit YUV->RGB), which makes it exact.
//   - GIF (first frame), BMP and TIFF go through the Go decoders and Pillow's mode rules.
//
// Alpha is dropped, never composited, and colours under transparent pixels are kept, as
// Pillow's convert('RGB') does. No EXIF orientation is applied, as PIL applies none in
// test_model.py. Decode and DecodeFile are safe for concurrent use.
package imageio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"
	"os"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// RGB is an 8-bit interleaved RGB image, as PIL's mode "RGB".
type RGB struct {
	W, H int
	Pix  []uint8 // len(Pix) = 3*W*H, row-major, R G B per pixel
}

// newRGB allocates a w×h image; callers have checked the size against MaxPixels.
func newRGB(w, h int) *RGB {
	return &RGB{W: w, H: h, Pix: make([]uint8, 3*w*h)}
}

// MaxPixels is PIL's Image.MAX_IMAGE_PIXELS: an image of more than twice this many pixels
// is refused as a decompression bomb before it is decoded, as PIL refuses it (PIL only
// warns between once and twice). Zero or less turns the check off, as None does in PIL.
// Set it before decoding starts; it is read without synchronisation.
var MaxPixels int64 = 89478485

// ErrUnknownFormat is returned (wrapped) for input that is no image format this package
// reads; ErrDecompressionBomb for an image whose header claims too many pixels.
var (
	ErrUnknownFormat     = errors.New("not a JPEG, PNG, WebP, GIF, BMP or TIFF image")
	ErrDecompressionBomb = errors.New("decompression bomb")
)

// A format is one kind of file this package reads.
type format struct {
	name    string
	magic   func([]byte) bool
	config  func(data []byte) (w, h int, err error) // the size from the header
	convert func(data []byte) (*RGB, error)         // decodes; the size is already checked
}

var formats = []format{
	{"JPEG", hasPrefix("\xff\xd8\xff"), jpegConfig, decodeJPEG},
	{"PNG", hasPrefix("\x89PNG\r\n\x1a\n"), configWith(png.DecodeConfig), decodePNG},
	{"WebP", isWebP, configWith(webp.DecodeConfig), decodeWebP},
	{"GIF", func(b []byte) bool { return hasPrefix("GIF87a")(b) || hasPrefix("GIF89a")(b) }, configWith(gif.DecodeConfig), decodeGIF},
	{"BMP", hasPrefix("BM"), configWith(bmp.DecodeConfig), decodeWith(bmp.Decode)},
	{"TIFF", func(b []byte) bool { return hasPrefix("II*\x00")(b) || hasPrefix("MM\x00*")(b) }, configWith(tiff.DecodeConfig), decodeWith(tiff.Decode)},
}

func configWith(dec func(io.Reader) (image.Config, error)) func([]byte) (int, int, error) {
	return func(data []byte) (int, int, error) {
		c, err := dec(bytes.NewReader(data))
		return c.Width, c.Height, err
	}
}

func hasPrefix(magic string) func([]byte) bool {
	return func(b []byte) bool { return bytes.HasPrefix(b, []byte(magic)) }
}

func isWebP(b []byte) bool {
	return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
}

// Decode reads a whole image from r and returns what PIL's Image.open(r).convert('RGB')
// gives. The format is found from the first bytes, not from a file name.
func Decode(r io.Reader) (*RGB, error) {
	br := bufio.NewReaderSize(r, 64)
	head, err := br.Peek(12)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading the image: %w", err)
	}
	if len(head) > 0 && sniff(head) == nil {
		return nil, unknownFormat(head) // without reading the rest, which may be huge
	}
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("reading the image: %w", err)
	}
	return decodeBytes(data)
}

// DecodeFile is Decode on the named file; its errors name the file.
func DecodeFile(path string) (*RGB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	img, err := decodeBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

func decodeBytes(data []byte) (*RGB, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrUnknownFormat)
	}
	f := sniff(data)
	if f == nil {
		return nil, unknownFormat(data)
	}
	return f.decode(data)
}

// sniff finds the format from the first 12 bytes.
func sniff(data []byte) *format {
	for i := range formats {
		if f := &formats[i]; f.magic(data) {
			return f
		}
	}
	return nil
}

func unknownFormat(data []byte) error {
	return fmt.Errorf("%w (it starts with % x)", ErrUnknownFormat, data[:min(len(data), 8)])
}

// decode checks the size that the header claims, then decodes. The decoders come from the
// standard library and x/image; a panic in one of them on a hostile file becomes an error.
func (f *format) decode(data []byte) (img *RGB, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%s decoder failed on corrupt data (it panicked: %v)", f.name, r)
		}
	}()
	w, h, err := f.config(data)
	if err != nil {
		return nil, fmt.Errorf("reading the %s header: %w", f.name, err)
	}
	if err := checkSize(w, h); err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	img, err = f.convert(data)
	if err != nil {
		return nil, fmt.Errorf("decoding the %s image: %w", f.name, err)
	}
	if img.W != w || img.H != h {
		return nil, fmt.Errorf("%s: the header says %dx%d but the image decodes to %dx%d", f.name, w, h, img.W, img.H)
	}
	return img, nil
}

// checkSize refuses empty images and, as PIL's _decompression_bomb_check does, images of
// more than 2*MaxPixels pixels.
func checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("the header gives a size of %dx%d pixels: nothing to decode", w, h)
	}
	pixels := int64(w) * int64(h) // both fit in 32 bits in every format read here
	if MaxPixels > 0 && pixels > 2*MaxPixels {
		return fmt.Errorf("%w: the header claims %dx%d = %d pixels, more than twice imageio.MaxPixels (%d), as PIL refuses; raise MaxPixels if the file is trusted",
			ErrDecompressionBomb, w, h, pixels, MaxPixels)
	}
	return nil
}

// decodeWith decodes with dec and converts the result as Pillow converts the mode it
// would have opened the file in (see fromImage).
func decodeWith(dec func(io.Reader) (image.Image, error)) func([]byte) (*RGB, error) {
	return func(data []byte) (*RGB, error) {
		m, err := dec(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return fromImage(m)
	}
}
