package api_test

import (
	"github.com/yangcheng-county/elicence/bff/api"

	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
	"github.com/yangcheng-county/elicence/internal/testkit"
)

func TestLicenceList(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		rec := w.do(http.MethodGet, "/api/v1/licences", nil, w.zhangsan)
		if rec.Code != http.StatusOK {
			t.Fatalf("list: %d %s", rec.Code, rec.Body)
		}
		var raw struct{ Items []json.RawMessage }
		decodeJSON(t, rec, &raw)
		if len(raw.Items) != 3 {
			t.Fatalf("张三 has %d licences, want 3: %s", len(raw.Items), rec.Body)
		}
		const itemKeys = "annotations,colour,days_left,id,issuer,number_masked,status,type_code,type_name,valid_from,valid_until"
		if got := jsonKeys(t, raw.Items[0]); got != itemKeys {
			t.Fatalf("item keys %s, want %s", got, itemKeys)
		}
		var body struct{ Items []api.LicenceItem }
		decodeJSON(t, rec, &body)
		byType := map[string]api.LicenceItem{}
		for _, it := range body.Items {
			byType[it.TypeCode] = it
		}
		type want struct {
			id, name, status, colour, issuer string
			daysLeft                         *int
			longTerm                         bool
		}
		twenty := 20
		cases := []want{
			{strconv.FormatInt(w.zsDriving.ID, 10), "机动车驾驶证", "valid", "green", "晋城市公安局交通警察支队", &twenty, false},
			{strconv.FormatInt(w.zsIDCard.ID, 10), "居民身份证", "valid", "green", "阳城县公安局", nil, false},
			{strconv.FormatInt(w.zsRealEstate.ID, 10), "不动产权证书", "valid", "green", "阳城县不动产登记中心", nil, true},
		}
		for _, c := range cases {
			var it api.LicenceItem
			for _, x := range body.Items {
				if x.ID == c.id {
					it = x
				}
			}
			if it.TypeName != c.name || it.Status != c.status || it.Colour != c.colour || it.Issuer != c.issuer || it.Annotations == nil {
				t.Errorf("%s: %+v", c.name, it)
			}
			if c.longTerm != (it.ValidUntil == nil) || c.longTerm != (it.DaysLeft == nil) {
				t.Errorf("%s: valid_until %v days_left %v, long-term %v", c.name, it.ValidUntil, it.DaysLeft, c.longTerm)
			}
			if c.daysLeft != nil && (it.DaysLeft == nil || *it.DaysLeft != *c.daysLeft) {
				t.Errorf("%s: days_left %v, want %d", c.name, it.DaysLeft, *c.daysLeft)
			}
			if _, err := time.Parse(api.DateFormat, it.ValidFrom); err != nil {
				t.Errorf("%s: valid_from %q is not a date", c.name, it.ValidFrom)
			}
		}
		if strings.Contains(rec.Body.String(), demo.ZhangsanIDNumber) {
			t.Fatalf("the list shows a full ID number: %s", rec.Body)
		}
		if it := byType[demo.TypeDrivingLicence]; it.NumberMasked != "1405**********0016" {
			t.Fatalf("number_masked %q", it.NumberMasked)
		}

		// 李四's suspended driving licence reads red.
		rec = w.do(http.MethodGet, "/api/v1/licences", nil, w.lisi)
		decodeJSON(t, rec, &body)
		var found bool
		for _, it := range body.Items {
			if it.TypeCode == demo.TypeDrivingLicence {
				found = it.Status == "suspended" && it.Colour == "red"
			}
		}
		if rec.Code != http.StatusOK || len(body.Items) != 2 || !found {
			t.Fatalf("李四's list: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestLicenceDetail(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		rec := w.do(http.MethodGet, licencePath(w.zsDriving, ""), nil, w.zhangsan)
		if rec.Code != http.StatusOK {
			t.Fatalf("detail: %d %s", rec.Code, rec.Body)
		}
		const detailKeys = "annotations,colour,days_left,fields,history,holder_name_masked,id,identifier,issued_on,issuer,number_masked,seal,status,type_code,type_name,valid_from,valid_until,version"
		if got := jsonKeys(t, rec.Body.Bytes()); got != detailKeys {
			t.Fatalf("detail keys %s, want %s", got, detailKeys)
		}
		var d api.LicenceDetail
		decodeJSON(t, rec, &d)
		if d.HolderNameMasked != "张*" || d.Identifier != w.zsDriving.Identifier || d.IssuedOn != w.zsDriving.IssuedOn.Format(api.DateFormat) {
			t.Fatalf("detail header %+v", d)
		}
		wantFields := map[string]struct {
			value  string
			masked bool
		}{
			"name":          {"张*", true},
			"licence_no":    {"1405**********0016", true},
			"vehicle_class": {"C1", false},
			"sex":           {"男", false},
		}
		got := map[string]api.FaceField{}
		for _, f := range d.Fields {
			got[f.Key] = f
		}
		for k, want := range wantFields {
			if f := got[k]; f.Value != want.value || f.Masked != want.masked || f.Label == "" {
				t.Errorf("field %s = %+v, want %q masked=%v", k, f, want.value, want.masked)
			}
		}
		if f := got["address"]; !f.Masked || strings.Contains(f.Value, "凤城镇凤栖路") {
			t.Errorf("address not masked: %+v", f)
		}
		if len(d.Fields) != 11 {
			t.Errorf("%d fields, want all 11 of the driving licence", len(d.Fields))
		}
		for _, s := range []string{demo.ZhangsanIDNumber, "张三"} {
			if strings.Contains(rec.Body.String(), s) {
				t.Fatalf("detail shows %q in full: %s", s, rec.Body)
			}
		}
	})
}

// TestLicenceDetailMasksUnmarkedIDNumber: the holder's detail masks an ID
// number by its field type even when the catalogue forgot to mark the field
// sensitive, by the same rule an officer's verification uses.
func TestLicenceDetailMasksUnmarkedIDNumber(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	storetest.UnmarkIDNumbers(t, w.store, w.zsIDCard.TypeCode)
	rec := w.do(http.MethodGet, licencePath(w.zsIDCard, ""), nil, w.zhangsan)
	if rec.Code != http.StatusOK {
		t.Fatalf("detail: %d %s", rec.Code, rec.Body)
	}
	var d api.LicenceDetail
	decodeJSON(t, rec, &d)
	var id *api.FaceField
	for i, f := range d.Fields {
		if f.Key == "id_number" {
			id = &d.Fields[i]
		}
	}
	if id == nil || id.Value != "1405**********0016" || !id.Masked {
		t.Fatalf("id_number shown as %+v, want 1405**********0016 masked", id)
	}
	if strings.Contains(rec.Body.String(), demo.ZhangsanIDNumber) {
		t.Fatalf("detail shows the full ID number: %s", rec.Body)
	}
}

// TestLicenceOwnership: nobody reads, shows or lists the usage of another
// holder's licence, and the refusal looks exactly like a missing licence.
func TestLicenceOwnership(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	missing := "/api/v1/licences/999999"
	cases := []struct {
		name       string
		method     string
		path       string
		body       any
		cookie     string
		wantStatus int
		wantCode   string
	}{
		{"李四 reads 张三's licence", http.MethodGet, licencePath(w.zsDriving, ""), nil, w.lisi, 404, "not_found"},
		{"李四 reads 张三's usage", http.MethodGet, licencePath(w.zsDriving, "/usage"), nil, w.lisi, 404, "not_found"},
		{"李四 shows 张三's licence", http.MethodPost, licencePath(w.zsDriving, "/show-codes"), map[string]string{"scope": "full"}, w.lisi, 404, "not_found"},
		{"missing licence", http.MethodGet, missing, nil, w.zhangsan, 404, "not_found"},
		{"missing licence usage", http.MethodGet, missing + "/usage", nil, w.zhangsan, 404, "not_found"},
		{"missing licence show", http.MethodPost, missing + "/show-codes", map[string]string{}, w.zhangsan, 404, "not_found"},
		{"non-numeric id", http.MethodGet, "/api/v1/licences/abc", nil, w.zhangsan, 404, "not_found"},
		{"leading zero", http.MethodGet, "/api/v1/licences/0" + strconv.FormatInt(w.zsDriving.ID, 10), nil, w.zhangsan, 404, "not_found"},
		{"plus sign", http.MethodGet, "/api/v1/licences/%2B" + strconv.FormatInt(w.zsDriving.ID, 10), nil, w.zhangsan, 404, "not_found"},
		{"zero", http.MethodGet, "/api/v1/licences/0", nil, w.zhangsan, 404, "not_found"},
		{"overflow", http.MethodGet, "/api/v1/licences/99999999999999999999", nil, w.zhangsan, 404, "not_found"},
		{"officer is no holder", http.MethodGet, "/api/v1/licences", nil, w.police, 403, "realname_required"},
		{"unbound citizen", http.MethodGet, "/api/v1/licences", nil, w.wangwu, 403, "realname_required"},
		{"anonymous list", http.MethodGet, "/api/v1/licences", nil, "", 401, "not_logged_in"},
		{"anonymous detail", http.MethodGet, licencePath(w.zsDriving, ""), nil, "", 401, "not_logged_in"},
		{"anonymous show", http.MethodPost, licencePath(w.zsDriving, "/show-codes"), map[string]string{}, "", 401, "not_logged_in"},
	}
	var notFoundBody string
	for _, tc := range cases {
		rec := w.do(tc.method, tc.path, tc.body, tc.cookie)
		if rec.Code != tc.wantStatus || errorCode(rec) != tc.wantCode {
			t.Errorf("%s: %d %s, want %d %s", tc.name, rec.Code, rec.Body, tc.wantStatus, tc.wantCode)
			continue
		}
		if tc.wantStatus == 404 {
			if notFoundBody == "" {
				notFoundBody = rec.Body.String()
			} else if rec.Body.String() != notFoundBody {
				t.Errorf("%s: body %s differs from %s", tc.name, rec.Body, notFoundBody)
			}
		}
	}
	// No code was minted for 李四.
	keys, err := w.redis.Redis().Keys(context.Background(), w.redis.Key("sc", "*")).Result()
	if err != nil || len(keys) != 0 {
		t.Fatalf("show codes in Redis after refused mints: %v %v", keys, err)
	}
}

func TestShowCodeMint(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	ctx := context.Background()
	cases := []struct {
		name      string
		scope     string
		wantScope showcode.Scope
	}{
		{"default is basic", "", showcode.ScopeBasic},
		{"basic", "basic", showcode.ScopeBasic},
		{"full", "full", showcode.ScopeFull},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := w.do(http.MethodPost, licencePath(w.zsDriving, "/show-codes"), map[string]string{"scope": tc.scope}, w.zhangsan)
			if rec.Code != http.StatusOK {
				t.Fatalf("mint: %d %s", rec.Code, rec.Body)
			}
			if got := jsonKeys(t, rec.Body.Bytes()); got != "content,expires_at,qr_png,short_code,token" {
				t.Fatalf("keys %s", got)
			}
			var c api.ShowCodeResponse
			decodeJSON(t, rec, &c)
			if len(c.Token) != 22 || c.Content != w.publicURL+"/v/"+c.Token {
				t.Fatalf("token %q content %q", c.Token, c.Content)
			}
			if got := testkit.DecodeQRDataURI(t, c.QRPNG); got != c.Content {
				t.Fatalf("QR reads %q, want %q", got, c.Content)
			}
			exp, err := time.Parse(time.RFC3339Nano, c.ExpiresAt)
			if err != nil || !exp.Equal(w.clock.Now().Add(time.Minute)) {
				t.Fatalf("expires_at %q (%v), want now+60s", c.ExpiresAt, err)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control %q", rec.Header().Get("Cache-Control"))
			}
			raw, err := w.redis.Redis().Get(ctx, w.redis.Key("sc", showcode.Hash(c.Token))).Result()
			if err != nil {
				t.Fatalf("no code under the token's hash: %v", err)
			}
			var stored struct {
				LicenceID int64  `json:"licence_id"`
				HolderID  int64  `json:"holder_id"`
				Scope     string `json:"scope"`
			}
			if err := json.Unmarshal([]byte(raw), &stored); err != nil || stored.LicenceID != w.zsDriving.ID ||
				stored.HolderID != w.zsDriving.HolderID || stored.Scope != string(tc.wantScope) {
				t.Fatalf("stored %s (%v)", raw, err)
			}
			if ttl := w.redis.Redis().TTL(ctx, w.redis.Key("sc", showcode.Hash(c.Token))).Val(); ttl <= 0 || ttl > time.Minute {
				t.Fatalf("TTL %s", ttl)
			}
		})
	}
	bad := []struct {
		name string
		body any
	}{
		{"unknown scope", map[string]string{"scope": "everything"}},
		{"scope of the wrong type", map[string]int{"scope": 1}},
	}
	for _, tc := range bad {
		rec := w.do(http.MethodPost, licencePath(w.zsDriving, "/show-codes"), tc.body, w.zhangsan)
		if rec.Code != http.StatusBadRequest || errorCode(rec) != "validation_failed" {
			t.Errorf("%s: %d %s, want 400 validation_failed", tc.name, rec.Code, rec.Body)
		}
	}
	// An empty body asks for the default scope.
	rec := w.do(http.MethodPost, licencePath(w.zsIDCard, "/show-codes"), nil, w.zhangsan)
	var c api.ShowCodeResponse
	decodeJSON(t, rec, &c)
	if rec.Code != http.StatusOK {
		t.Fatalf("empty body: %d %s", rec.Code, rec.Body)
	}
	if r, err := w.deps.ShowCodes.Peek(ctx, c.Token); err != nil || r.Scope != showcode.ScopeBasic || r.LicenceID != w.zsIDCard.ID {
		t.Fatalf("empty body minted %+v (%v), want a basic code for the ID card", r, err)
	}
	// A licence that is not valid can still be shown, so the officer sees red.
	if c := w.mint(w.lisi, w.lsDriving, "basic"); c.Token == "" {
		t.Fatal("李四 could not show a suspended licence")
	}
	keys, _ := w.redis.Redis().Keys(ctx, w.redis.Key("*")).Result()
	for _, k := range keys {
		v, _ := w.redis.Redis().Get(ctx, k).Result()
		if strings.Contains(v, demo.ZhangsanIDNumber) {
			t.Fatalf("Redis key %s holds a full ID number", k)
		}
	}
}
