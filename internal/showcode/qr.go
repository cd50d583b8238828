package showcode

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"sync"

	"github.com/skip2/go-qrcode"
)

// DefaultQRSize is the target edge of a rendered QR in pixels. The image is
// an integer multiple of the module count, at most this size (at least
// 2 pixels per module), so every module is a crisp square a phone camera
// reads from a scratched screen.
const DefaultQRSize = 256

const dataURIPrefix = "data:image/png;base64,"

// Pixel values of the grey image: a QR is pure black on white.
const (
	white = 0xff
	black = 0x00
)

// Renderer turns QR text into a PNG. skip2/go-qrcode's own PNG path scales
// with floating point per pixel, allocates an image per call and compresses
// at the default level: about a millisecond and a megabyte per code. This
// one draws the module bitmap at an integer scale into an 8-bit grey image
// and encodes it with BestSpeed, reusing images, encoder state and output
// buffers. Grey rather than a two-colour palette because image/png copies
// 8-bit grey rows whole but packs 1-bit paletted rows pixel by pixel
// through the image.Image interface, which measured twice as slow for a
// file of about the same size (a few hundred bytes either way).
type Renderer struct {
	size   int
	images sync.Pool // *image.Gray; one of the wrong size is dropped
	bufs   sync.Pool // *bytes.Buffer
	enc    png.Encoder
}

// NewRenderer makes a renderer whose images are at most size pixels wide.
func NewRenderer(size int) *Renderer {
	r := &Renderer{size: size}
	r.enc = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &encoderPool{}}
	return r
}

// encoderPool lets png.Encoder reuse its compressor and row buffers.
type encoderPool struct{ p sync.Pool }

func (e *encoderPool) Get() *png.EncoderBuffer {
	b, _ := e.p.Get().(*png.EncoderBuffer)
	return b
}

func (e *encoderPool) Put(b *png.EncoderBuffer) { e.p.Put(b) }

// PNG renders content with Medium error correction and the standard quiet
// zone and returns the encoded PNG.
func (r *Renderer) PNG(content string) ([]byte, error) {
	var out []byte
	err := r.render(content, func(b []byte) { out = bytes.Clone(b) })
	return out, err
}

// DataURI renders content as a data:image/png;base64 URI, ready for an
// <img src>.
func (r *Renderer) DataURI(content string) (string, error) {
	var uri string
	err := r.render(content, func(b []byte) {
		dst := make([]byte, len(dataURIPrefix)+base64.StdEncoding.EncodedLen(len(b)))
		copy(dst, dataURIPrefix)
		base64.StdEncoding.Encode(dst[len(dataURIPrefix):], b)
		uri = string(dst)
	})
	return uri, err
}

// render draws content and hands the pooled PNG bytes to use, which must
// copy what it keeps.
func (r *Renderer) render(content string, use func([]byte)) error {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return err
	}
	bm := q.Bitmap() // includes the 4-module quiet zone
	n := len(bm)
	if n == 0 {
		return errors.New("empty qr bitmap")
	}
	scale := max(r.size/n, 2)
	edge := n * scale

	img := r.image(edge)
	defer r.images.Put(img)
	pix, stride := img.Pix, img.Stride
	for y, row := range bm {
		line := pix[y*scale*stride : y*scale*stride+edge]
		for x, dark := range row {
			v := uint8(white)
			if dark {
				v = black
			}
			seg := line[x*scale : (x+1)*scale]
			for i := range seg {
				seg[i] = v
			}
		}
		// Repeat the drawn line for the rest of this module row.
		for k := 1; k < scale; k++ {
			copy(pix[(y*scale+k)*stride:(y*scale+k)*stride+edge], line)
		}
	}

	buf, _ := r.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	defer r.bufs.Put(buf)
	if err := r.enc.Encode(buf, img); err != nil {
		return err
	}
	use(buf.Bytes())
	return nil
}

// image returns a pooled grey image of exactly edge×edge pixels. Every
// pixel is overwritten by render, so a reused image needs no clearing.
func (r *Renderer) image(edge int) *image.Gray {
	if img, ok := r.images.Get().(*image.Gray); ok && img.Rect.Dx() == edge {
		return img
	}
	return image.NewGray(image.Rect(0, 0, edge, edge))
}
