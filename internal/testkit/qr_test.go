package testkit_test

import (
	"encoding/base64"
	"testing"

	"github.com/skip2/go-qrcode"

	"github.com/yangcheng-county/elicence/internal/testkit"
)

func TestDecodeQRReadsWhatWasEncoded(t *testing.T) {
	const want = "https://licence.example.gov.cn/v/q83vEjRWeJq83vEjRWeJqw"
	b, err := qrcode.Encode(want, qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	if got := testkit.DecodeQR(t, b); got != want {
		t.Fatalf("DecodeQR = %q, want %q", got, want)
	}
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
	if got := testkit.DecodeQRDataURI(t, uri); got != want {
		t.Fatalf("DecodeQRDataURI = %q, want %q", got, want)
	}
}
