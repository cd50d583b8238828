package seal

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/licence"
)

// DocumentFormat names the canonical document form. It is the first line
// of every document; a change to the form gets a new name, and verifiers
// keep reading the old one (docs/SEALS.md).
const DocumentFormat = "elicence-document/1"

// licenceDay is the zone in which licence dates are calendar days (UTC+8,
// no daylight saving since 1991), as the store keeps them.
var licenceDay = time.FixedZone("CST", 8*60*60)

// SignedBy is what a document says about its own signing: which seal and
// certificate, and when. It is inside the signed bytes, so the signing time
// a verification checks the seal's state against cannot be changed.
type SignedBy struct {
	SealID   int64
	CertID   int64
	SignedAt time.Time
}

// Document is the canonical document of one licence version: UTF-8 lines
// "key=value", in the fixed order of docs/SEALS.md, face fields last and
// sorted by key, every line ending in LF. In keys and values a backslash,
// LF, CR and "=" are written \\, \n, \r and \=. Status and annotations are
// not in it: they change without a new version and are read live.
func Document(l licence.Licence, h licence.Holder, issuerUSCC string, by SignedBy) []byte {
	var b strings.Builder
	b.Grow(512 + faceSize(l.Face))
	line := func(k, v string) {
		b.WriteString(escape(k))
		b.WriteByte('=')
		b.WriteString(escape(v))
		b.WriteByte('\n')
	}
	b.WriteString(DocumentFormat + "\n")
	line("identifier", l.Identifier)
	line("version", strconv.Itoa(l.Version))
	line("type_code", l.TypeCode)
	line("number", l.Number)
	line("issuer_uscc", issuerUSCC)
	line("holder_name", h.Name)
	line("holder_id_type", h.IDType)
	line("holder_id_number", h.IDNumber)
	line("issued_on", day(l.IssuedOn))
	line("valid_from", day(l.ValidFrom))
	until := "long-term"
	if l.ValidUntil != nil {
		until = day(*l.ValidUntil)
	}
	line("valid_until", until)
	line("seal_id", strconv.FormatInt(by.SealID, 10))
	line("certificate_id", strconv.FormatInt(by.CertID, 10))
	line("signed_at", by.SignedAt.UTC().Format(time.RFC3339))
	keys := make([]string, 0, len(l.Face))
	for k := range l.Face {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		line("face."+k, l.Face[k])
	}
	return []byte(b.String())
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(licenceDay).Format(time.DateOnly)
}

func faceSize(f map[string]string) int {
	n := 0
	for k, v := range f {
		n += len(k) + len(v) + 7
	}
	return n
}

var escaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "=", `\=`)

func escape(s string) string {
	if !strings.ContainsAny(s, "\\\n\r=") {
		return s
	}
	return escaper.Replace(s)
}
