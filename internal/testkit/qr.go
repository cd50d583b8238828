package testkit

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// DecodeQR reads the text of the QR code in a PNG, as a phone camera would,
// so tests check what a scanner sees rather than what the server meant to
// draw. It fails the test when the image is not a PNG or holds no readable
// code.
func DecodeQR(t testing.TB, pngBytes []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// gozxing's finder-pattern search misses about one of our codes in two
	// thousand (measured over random tokens; a camera scanner gets many
	// frames, a test gets one). A rendered code is a "pure" barcode — the
	// symbol alone, square, in its quiet zone — so read it that way first,
	// and fall back to the full search for images that are not.
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		res, err = zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

// DecodeQRDataURI reads the text of the QR code in a data:image/png;base64
// URI, the form the API sends it in (qr_png). It fails the test when uri is
// not such a URI.
func DecodeQRDataURI(t testing.TB, uri string) string {
	t.Helper()
	b64, ok := strings.CutPrefix(uri, "data:image/png;base64,")
	if !ok {
		t.Fatalf("qr_png is not a PNG data URI: %.40q", uri)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return DecodeQR(t, raw)
}
