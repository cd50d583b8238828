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

// Words of a notice. Unknown values (a status or action added later) are
// shown as they are stored rather than dropped.
var (
	changeWords = map[string]string{
		licence.ActionSuspend:  "暂扣",
		licence.ActionRevoke:   "吊销",
		licence.ActionCancel:   "注销",
		licence.ActionWithdraw: "撤销",
		licence.ActionRenew:    "延续有效期",
	}
	statusWords = map[string]string{
		string(licence.StatusValid):      "有效",
		string(licence.StatusSuspended):  "暂扣",
		string(licence.StatusRevoked):    "吊销",
		string(licence.StatusWithdrawn):  "撤销",
		string(licence.StatusCancelled):  "注销",
		string(licence.StatusExpired):    "过期失效",
		string(licence.StatusLost):       "挂失",
		string(licence.StatusSuperseded): "已换发",
	}
)

func words(m map[string]string, key string) string {
	if w, ok := m[key]; ok {
		return w
	}
	return key
}

// buildMessage renders a row as the template of its kind. Only keywords
// are sent: no first, no remark, no colours (all dropped by WeChat since
// 2023-05).
func buildMessage(o Options, r Row, t Target, today time.Time) Message {
	values := map[string]string{
		FieldLicenceName: t.TypeName,
		FieldHolderName:  holderNameShown(t),
		FieldIssuer:      t.IssuerName,
	}
	template, keywords := o.TemplateID, o.Keywords
	if r.Kind == KindNotice {
		template, keywords = o.ChangeTemplateID, o.ChangeKeywords
		values[FieldChange] = words(changeWords, r.Action)
		values[FieldStatus] = words(statusWords, r.LicenceStatus)
		values[FieldChangeDate] = formatDate(r.ExpiryDate)
		values[FieldExpiryDate] = "长期"
		if t.ValidUntil != nil {
			values[FieldExpiryDate] = formatDate(*t.ValidUntil)
		}
	} else {
		values[FieldExpiryDate] = formatDate(r.ExpiryDate)
		values[FieldDaysLeft] = strconv.Itoa(daysLeft(r.ExpiryDate, today))
	}
	data := make(map[string]string, len(keywords))
	for kw, field := range keywords {
		data[kw] = cleanValue(values[field])
	}
	return Message{
		ToUser:      r.OpenID,
		TemplateID:  template,
		URL:         o.PublicURL + "/licences/" + strconv.FormatInt(r.LicenceID, 10),
		Data:        data,
		ClientMsgID: strconv.FormatInt(r.ID, 10),
	}
}
