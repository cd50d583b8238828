package reminder

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// MaxValueRunes is WeChat's limit on a template keyword value since
// 2023-05-04; longer values are cut by WeChat, possibly mid-meaning, so they
// are cut here on a character boundary instead.
const MaxValueRunes = 20

// truncateRunes cuts s to at most n characters, never inside one.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// cleanValue makes a stored text fit a keyword: control characters and
// newlines become spaces (a template value is one line), then it is cut to
// MaxValueRunes.
func cleanValue(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return truncateRunes(strings.TrimSpace(s), MaxValueRunes)
}

// holderNameShown masks a person's name (张三 → 张*): a template message
// shows on a lock screen. An organisation's name is public register data
// and is shown as is.
func holderNameShown(t Target) string {
	if t.HolderKind == string(licence.HolderOrganisation) {
		return t.HolderName
	}
	return ident.MaskName(t.HolderName)
}

// formatDate is the expiry date as Chinese readers write it. It is valid for
// WeChat's "time" and "thing" keyword types alike.
func formatDate(d time.Time) string {
	return strconv.Itoa(d.Year()) + "年" + strconv.Itoa(int(d.Month())) + "月" + strconv.Itoa(d.Day()) + "日"
}

// daysLeft counts whole calendar days from today until the expiry date
// (0 on the last valid day).
func daysLeft(expiry, today time.Time) int {
	return int(asDay(expiry).Sub(asDay(today)).Hours() / 24)
}

// buildMessage renders a row as the configured template. Only keywords are
// sent: no first, no remark, no colours (all dropped by WeChat since 2023-05).
func buildMessage(o Options, r Row, t Target, today time.Time) Message {
	values := map[string]string{
		FieldLicenceName: t.TypeName,
		FieldHolderName:  holderNameShown(t),
		FieldExpiryDate:  formatDate(r.ExpiryDate),
		FieldDaysLeft:    strconv.Itoa(daysLeft(r.ExpiryDate, today)),
		FieldIssuer:      t.IssuerName,
	}
	data := make(map[string]string, len(o.Keywords))
	for kw, field := range o.Keywords {
		data[kw] = cleanValue(values[field])
	}
	return Message{
		ToUser:      r.OpenID,
		TemplateID:  o.TemplateID,
		URL:         o.PublicURL + "/licences/" + strconv.FormatInt(r.LicenceID, 10),
		Data:        data,
		ClientMsgID: strconv.FormatInt(r.ID, 10),
	}
}
