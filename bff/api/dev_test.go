package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
)

func TestDevSMS(t *testing.T) {
	ts := newTestServer(t, testServerOpts{Config: func(c *config.Config) { c.Realname.ResendInterval = time.Nanosecond }})
	zhang, lisi := ts.login(demo.CitizenZhangsan), ts.login(demo.CitizenLisi)
	ts.startRealname(zhang, demo.ZhangsanName, demo.ZhangsanIDNumber)
	ts.clock.Add(time.Second)
	ts.startRealname(lisi, demo.LisiName, demo.LisiIDNumber)

	w := ts.do(http.MethodGet, "/api/v1/dev/sms", nil, "")
	var body struct {
		Items []struct {
			Phone  string `json:"phone"`
			Code   string `json:"code"`
			Text   string `json:"text"`
			SentAt string `json:"sent_at"`
		} `json:"items"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &body) != nil || len(body.Items) != 2 {
		t.Fatalf("dev sms: %d %s", w.Code, w.Body)
	}
	newest, older := body.Items[0], body.Items[1]
	if newest.Phone != demo.LisiPhone || older.Phone != demo.ZhangsanPhone {
		t.Fatalf("not newest first: %+v", body.Items)
	}
	for _, it := range body.Items {
		if len(it.Code) != 6 || it.Text == "" {
			t.Errorf("item %+v", it)
		}
		if _, err := time.Parse(time.RFC3339Nano, it.SentAt); err != nil {
			t.Errorf("sent_at %q: %v", it.SentAt, err)
		}
	}
}

func TestDevSMSAbsentOutsideDevMode(t *testing.T) {
	ts := newTestServer(t, testServerOpts{Config: func(c *config.Config) { c.DevMode = false }})
	cookie := ts.login(demo.CitizenZhangsan)
	ts.startRealname(cookie, demo.ZhangsanName, demo.ZhangsanIDNumber)
	for _, c := range []string{"", cookie} {
		w := ts.do(http.MethodGet, "/api/v1/dev/sms", nil, c)
		if w.Code != http.StatusNotFound {
			t.Fatalf("dev sms outside dev mode: %d %s", w.Code, w.Body)
		}
	}
}
