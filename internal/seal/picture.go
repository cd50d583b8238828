package seal

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"unicode/utf8"
)

// Picture draws a seal's image: a red round seal, the name along the
// upper rim and a five-pointed star in the middle, as SVG. It stands in for
// the image a seal-making authority registers (SES_ESPictrueInfo), and the
// same drawing is what the H5 licence face shows.
func Picture(name string) []byte {
	var esc bytes.Buffer
	_ = xml.EscapeText(&esc, []byte(name))
	// The rim text spans about 240° of the circle; letter spacing keeps a
	// short name from bunching at the start of the arc.
	n := max(utf8.RuneCountInString(name), 1)
	spacing := max(0, 240.0*3.14159*78/180/float64(n)-20)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200" role="img" aria-label="%s">`, esc.String())
	b.WriteString(`<defs><path id="rim" d="M 37.5 139 A 78 78 0 1 1 162.5 139"/></defs>`)
	b.WriteString(`<g fill="none" stroke="#d4161c" stroke-width="6"><circle cx="100" cy="100" r="94"/></g>`)
	b.WriteString(`<polygon fill="#d4161c" points="100,62 109,90 138,90 114,107 123,135 100,118 77,135 86,107 62,90 91,90"/>`)
	fmt.Fprintf(&b, `<text fill="#d4161c" font-size="20" font-family="serif" letter-spacing="%.1f"><textPath href="#rim">%s</textPath></text>`, spacing, esc.String())
	b.WriteString(`</svg>`)
	return b.Bytes()
}
