package reminder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var sh = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

func TestReminderQuietHoursWindow(t *testing.T) {
	night := QuietHours{Start: 21 * 60, End: 8 * 60, Set: true}
	lunch := QuietHours{Start: 12 * 60, End: 13*60 + 30, Set: true}
	at := func(h, m int) time.Time { return time.Date(2025, 3, 10, h, m, 0, 0, sh) }
	cases := []struct {
		q      QuietHours
		t      time.Time
		inside bool
		ends   time.Time
	}{
		{night, at(20, 59), false, at(20, 59)},
		{night, at(21, 0), true, time.Date(2025, 3, 11, 8, 0, 0, 0, sh)},
		{night, at(23, 59), true, time.Date(2025, 3, 11, 8, 0, 0, 0, sh)},
		{night, at(0, 0), true, at(8, 0)},
		{night, at(7, 59), true, at(8, 0)},
		{night, at(8, 0), false, at(8, 0)},
		{lunch, at(11, 59), false, at(11, 59)},
		{lunch, at(12, 0), true, at(13, 30)},
		{lunch, at(13, 29), true, at(13, 30)},
		{lunch, at(13, 30), false, at(13, 30)},
		{QuietHours{}, at(3, 0), false, at(3, 0)},
	}
	for _, c := range cases {
		if got := c.q.Contains(c.t); got != c.inside {
			t.Errorf("%+v Contains(%s) = %v", c.q, c.t.Format("15:04"), got)
		}
		if got := c.q.Ends(c.t); !got.Equal(c.ends) {
			t.Errorf("%+v Ends(%s) = %v, want %v", c.q, c.t.Format("15:04"), got, c.ends)
		}
	}
}

func TestReminderBackoffDoublesAndCaps(t *testing.T) {
	base, max := 30*time.Second, 10*time.Minute
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		if got := backoff(i+1, base, max); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(200, base, max); got != max {
		t.Errorf("backoff(200) = %v (overflow?)", got)
	}
}

func TestReminderNextMidnightIsInTheReminderZone(t *testing.T) {
	// 2025-03-10 17:30 UTC is already 01:30 on the 11th in Shanghai.
	got := nextMidnight(time.Date(2025, 3, 10, 17, 30, 0, 0, time.UTC), sh)
	if want := time.Date(2025, 3, 12, 0, 0, 0, 0, sh); !got.Equal(want) {
		t.Fatalf("nextMidnight = %v, want %v", got, want)
	}
}

func TestReminderClassify(t *testing.T) {
	live := context.Background()
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		ctx  context.Context
		err  error
		want verdict
	}{
		{live, &SendError{Code: -1}, verdictRetry},
		{live, &SendError{Code: 40001}, verdictRetry},
		{live, &SendError{Code: 42001}, verdictRetry},
		{live, &SendError{Code: 40014}, verdictRetry},
		{live, fmt.Errorf("wrapped: %w", &SendError{Code: 45009}), verdictDailyStop},
		{live, &SendError{Code: 45011}, verdictMinuteWait},
		{live, &SendError{Code: 43004}, verdictPermanent},
		{live, &SendError{Code: 40003}, verdictPermanent},
		{live, &SendError{Code: 43101}, verdictPermanent},
		{live, &SendError{Code: 40037}, verdictPermanent},
		{live, &SendError{Code: 47003}, verdictPermanent},
		{live, &SendError{Code: 99999}, verdictRetry},
		{live, errors.New("http 500"), verdictRetry},
		{live, context.DeadlineExceeded, verdictRetry},
		{dead, context.Canceled, verdictShutdown},
		{dead, &SendError{Code: 43004}, verdictPermanent},
	}
	for _, c := range cases {
		if got, _ := classify(c.ctx, c.err); got != c.want {
			t.Errorf("classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestReminderValuesAreCutByRune(t *testing.T) {
	cases := []struct{ in, want string }{
		{"机动车驾驶证", "机动车驾驶证"},
		{strings.Repeat("证", 20), strings.Repeat("证", 20)},
		{strings.Repeat("证", 21), strings.Repeat("证", 20)},
		{"ab" + strings.Repeat("阳", 30), "ab" + strings.Repeat("阳", 18)},
		{"阳城\n县\t局", "阳城 县 局"},
		{"  padded  ", "padded"},
		{"bad\xffbyte", "badbyte"},
	}
	for _, c := range cases {
		got := cleanValue(c.in)
		if got != c.want || !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxValueRunes {
			t.Errorf("cleanValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestReminderBuildMessage(t *testing.T) {
	o := Options{TemplateID: "tpl", PublicURL: "https://elic.test", Keywords: map[string]string{
		"thing1": FieldLicenceName, "thing2": FieldHolderName, "time3": FieldExpiryDate, "number4": FieldDaysLeft, "thing5": FieldIssuer,
	}}
	expiry := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	r := Row{ID: 42, LicenceID: 7, ExpiryDate: expiry, OpenID: "o-1"}
	tg := Target{HolderKind: "person", HolderName: "张三", TypeName: "机动车驾驶证", IssuerName: "晋城市公安局交通警察支队"}
	m := buildMessage(o, r, tg, time.Date(2025, 3, 25, 0, 0, 0, 0, time.UTC))
	want := map[string]string{"thing1": "机动车驾驶证", "thing2": "张*", "time3": "2025年4月1日", "number4": "7", "thing5": "晋城市公安局交通警察支队"}
	if fmt.Sprint(m.Data) != fmt.Sprint(want) {
		t.Fatalf("data = %v, want %v", m.Data, want)
	}
	if m.URL != "https://elic.test/licences/7" || m.ClientMsgID != "42" || m.ToUser != "o-1" || m.TemplateID != "tpl" {
		t.Fatalf("message = %+v", m)
	}
	if got := daysLeft(expiry, expiry); got != 0 {
		t.Fatalf("days left on the last day = %d", got)
	}
}

func TestReminderOptionsRejectMistakes(t *testing.T) {
	good := func() Options {
		return Options{Location: sh, MaxAttempts: 3, BatchSize: 10, Lease: time.Minute, RetryBase: time.Second,
			PollInterval: time.Second, TemplateID: "tpl", PublicURL: "https://elic.test/",
			Keywords: map[string]string{"thing1": FieldLicenceName}, ChangeTemplateID: "tpl-change",
			ChangeKeywords: map[string]string{"thing1": FieldLicenceName, "phrase2": FieldChange}}
	}
	o := good()
	if err := o.normalise(); err != nil {
		t.Fatalf("good options: %v", err)
	}
	if o.PublicURL != "https://elic.test" || fmt.Sprint(o.Stages) != "[90 30 7]" || o.Worker == "" || o.RetryMax <= 0 {
		t.Fatalf("defaults not filled: %+v", o)
	}
	for name, mod := range map[string]func(*Options){
		"first keyword":         func(o *Options) { o.Keywords["first"] = FieldIssuer },
		"remark keyword":        func(o *Options) { o.Keywords["remark"] = FieldIssuer },
		"unknown field":         func(o *Options) { o.Keywords["thing9"] = "holder_id_number" },
		"no template":           func(o *Options) { o.TemplateID = "" },
		"relative URL":          func(o *Options) { o.PublicURL = "/x" },
		"no attempts":           func(o *Options) { o.MaxAttempts = 0 },
		"negative stage":        func(o *Options) { o.Stages = []int{30, -1} },
		"no lease":              func(o *Options) { o.Lease = 0 },
		"no keywords":           func(o *Options) { o.Keywords = nil },
		"no time zone":          func(o *Options) { o.Location = nil },
		"zero batch size":       func(o *Options) { o.BatchSize = 0 },
		"no change template":    func(o *Options) { o.ChangeTemplateID = "" },
		"no change keywords":    func(o *Options) { o.ChangeKeywords = nil },
		"change remark":         func(o *Options) { o.ChangeKeywords["remark"] = FieldChange },
		"days left in a notice": func(o *Options) { o.ChangeKeywords["number3"] = FieldDaysLeft },
		"change in a reminder":  func(o *Options) { o.Keywords["phrase3"] = FieldChange },
	} {
		o := good()
		mod(&o)
		if err := o.normalise(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestReminderPlanWindowsGroupsTypesByStages(t *testing.T) {
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	got := planWindows(day, map[string][]int{"A": nil, "B": {30, 90, 7}, "C": {60}, "D": {7, 7, 0}}, []int{90, 30, 7})
	var lines []string
	for _, w := range got {
		split := "-"
		if w.HasSplit {
			split = w.Split.Format("01-02")
		}
		lines = append(lines, fmt.Sprintf("%v %d %s..%s split %s", w.TypeCodes, w.Stage, w.From.Format("01-02"), w.To.Format("01-02"), split))
	}
	want := []string{
		"[C] 60 03-10..05-09 split -",
		"[A B] 7 03-10..03-17 split -",
		"[A B] 30 03-10..04-09 split 03-17",
		"[A B] 90 03-10..06-08 split 04-09",
		"[D] 7 03-10..03-17 split -",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("windows:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestNoticeBuildMessage(t *testing.T) {
	o := Options{TemplateID: "tpl-expiry", ChangeTemplateID: "tpl-change", PublicURL: "https://elic.test",
		Keywords: map[string]string{"thing1": FieldLicenceName},
		ChangeKeywords: map[string]string{
			"thing1": FieldLicenceName, "thing2": FieldHolderName, "phrase3": FieldChange, "phrase4": FieldStatus,
			"time5": FieldChangeDate, "time6": FieldExpiryDate, "thing7": FieldIssuer,
		}}
	changed := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	until := time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)
	tg := Target{HolderKind: "person", HolderName: "欧阳娜娜", TypeName: "机动车驾驶证", IssuerName: "晋城市公安局交通警察支队", ValidUntil: &until}
	cases := []struct {
		action, status string
		until          *time.Time
		want           map[string]string
	}{
		{"renew", "valid", &until, map[string]string{"phrase3": "延续有效期", "phrase4": "有效", "time6": "2031年4月1日"}},
		{"suspend", "suspended", nil, map[string]string{"phrase3": "暂扣", "phrase4": "暂扣", "time6": "长期"}},
		{"revoke", "revoked", nil, map[string]string{"phrase3": "吊销", "phrase4": "吊销"}},
		{"cancel", "cancelled", nil, map[string]string{"phrase3": "注销", "phrase4": "注销"}},
		{"withdraw", "withdrawn", nil, map[string]string{"phrase3": "撤销", "phrase4": "撤销"}},
		// A later action or status is shown as stored, not dropped.
		{"seize", "seized", nil, map[string]string{"phrase3": "seize", "phrase4": "seized"}},
	}
	for _, c := range cases {
		tg.ValidUntil = c.until
		r := Row{ID: 9, Kind: KindNotice, LicenceID: 3, ExpiryDate: changed, Action: c.action, LicenceStatus: c.status, OpenID: "o-2"}
		m := buildMessage(o, r, tg, changed)
		if m.TemplateID != "tpl-change" || m.ClientMsgID != "9" || m.URL != "https://elic.test/licences/3" || len(m.Data) != 7 {
			t.Fatalf("%s: message %+v", c.action, m)
		}
		if m.Data["thing1"] != "机动车驾驶证" || m.Data["thing2"] != "欧***" || m.Data["time5"] != "2025年3月10日" || m.Data["thing7"] != "晋城市公安局交通警察支队" {
			t.Errorf("%s: data %v", c.action, m.Data)
		}
		for k, v := range c.want {
			if m.Data[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.action, k, m.Data[k], v)
			}
		}
	}
}
