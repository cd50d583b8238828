package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/yangcheng-county/elicence/bff/api"
	openapidoc "github.com/yangcheng-county/elicence/docs/openapi"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// specRouter is the served OpenAPI document, loaded and validated once.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapidoc.V1)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return legacy.NewRouter(doc)
})

// conforms fails the test unless the answer w to req is one the OpenAPI
// document describes: a documented status, and a body matching its schema.
func conforms(t *testing.T, req *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	if err := conformance(t.Context(), req, w); err != nil {
		t.Errorf("%s %s → %d does not conform to the OpenAPI document: %v\n%s", req.Method, req.URL, w.Code, err, w.Body)
	}
}

func conformance(ctx context.Context, req *http.Request, w *httptest.ResponseRecorder) error {
	router, err := specRouter()
	if err != nil {
		return fmt.Errorf("OpenAPI document: %w", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("route not in the document: %w", err)
	}
	return validateAnswer(ctx, route, params, req, w)
}

// validateAnswer checks the answer w to req against the operation route
// of a document: a documented status, and a body matching its schema.
func validateAnswer(ctx context.Context, route *routers.Route, params map[string]string, req *http.Request, w *httptest.ResponseRecorder) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 w.Code,
		Header:                 w.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(w.Body.Bytes())
	return openapi3filter.ValidateResponse(ctx, in)
}

// The conformance check itself catches drift: a record missing a member, a
// status of the wrong kind, an undocumented status code.
func TestOpenAPIConformanceCheckCatchesDrift(t *testing.T) {
	req := httptest.NewRequest("GET", "/openapi/v1/licences/7", nil)
	answer := func(code int, body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		w.WriteString(body)
		return w
	}
	good := `{"id":7,"identifier":"x","type_code":"t","type_name":"n","licence_number":"1","version":1,"status":"valid","annotations":[],` +
		`"issue_date":"2026-11-20","valid_from":"2026-11-20","valid_until":null,"fields":{},"history":[]}`
	if err := conformance(t.Context(), req, answer(200, good)); err != nil {
		t.Fatalf("a conforming record refused: %v", err)
	}
	for name, w := range map[string]*httptest.ResponseRecorder{
		"missing history":      answer(200, strings.Replace(good, `,"history":[]`, "", 1)),
		"unknown status":       answer(200, strings.Replace(good, `"valid"`, `"fine"`, 1)),
		"extra member":         answer(200, strings.Replace(good, `"id":7,`, `"id":7,"holder_id":3,`, 1)),
		"undocumented status":  answer(418, `{"error":{"code":"x","message":"y"}}`),
		"error without a code": answer(404, `{"error":{"message":"y"}}`),
	} {
		if conformance(t.Context(), req, w) == nil {
			t.Errorf("%s: passed the conformance check", name)
		}
	}
	issue := func(body map[string]any) *http.Request {
		b, _ := json.Marshal(body)
		r := httptest.NewRequest("POST", "/openapi/v1/licences", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(api.IdempotencyKeyHeader, "k")
		r.Header.Set("X-Elicence-Signature", "x")
		return r
	}
	if err := requestConforms(t.Context(), issue(zhangsanEstate("1"))); err != nil {
		t.Fatalf("a conforming issue request refused: %v", err)
	}
	extra := zhangsanEstate("1")
	extra["valid_untill"] = "2030-01-01" //nolint:misspell // the misspelling is the point
	noKey := issue(zhangsanEstate("1"))
	noKey.Header.Del(api.IdempotencyKeyHeader)
	for name, r := range map[string]*http.Request{"unknown member": issue(extra), "no Idempotency-Key": noKey} {
		if requestConforms(t.Context(), r) == nil {
			t.Errorf("request with %s passed the conformance check", name)
		}
	}
}

// specCall is call, with the answer checked against the OpenAPI document.
func (a apiApp) specCall(t *testing.T, method, target string, body any, key string) *httptest.ResponseRecorder {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	var sent *http.Request
	w := a.call(method, target, raw, withIdempotencyKey(key), func(r *http.Request) { sent = r })
	conforms(t, sent, w)
	if w.Code < 300 {
		// What the server accepted, the document must accept too.
		req := httptest.NewRequest(method, target, bytes.NewReader(raw))
		req.Header = sent.Header.Clone()
		if err := requestConforms(t.Context(), req); err != nil {
			t.Errorf("%s %s was accepted, but the OpenAPI document refuses it: %v", method, target, err)
		}
	}
	return w
}

// requestConforms checks a request against the document's parameters and
// request body schema (the signature itself is the server's to check).
func requestConforms(ctx context.Context, req *http.Request) error {
	router, err := specRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}})
}

// zhangsanEstate is an issue request for a 不动产权证书 to the demo holder
// 张三.
func zhangsanEstate(number string) map[string]any {
	return map[string]any{
		"type_code":      demo.TypeRealEstateTitle,
		"licence_number": number,
		"holder": map[string]any{
			"name": demo.ZhangsanName, "id_type": "111", "id_number": demo.ZhangsanIDNumber, "phone": demo.ZhangsanPhone,
		},
		"issue_date": "2026-11-20", "valid_from": "2026-11-20", "valid_until": nil,
		"fields": map[string]string{
			"right_holder": demo.ZhangsanName, "co_ownership": "单独所有", "location": "阳城县凤城镇新阳东街 18 号 2 单元 301 室",
			"unit_no": "140522001001GB00018F00020301", "right_type": "国有建设用地使用权/房屋所有权", "right_nature": "出让/市场化商品房",
			"usage": "城镇住宅用地/住宅", "area": "共有宗地面积 3200㎡/房屋建筑面积 118.5㎡", "term": "2016-05-01 起 2086-04-30 止",
			"registration_authority": "阳城县不动产登记中心",
		},
	}
}

type recordBody struct {
	ID          int64             `json:"id"`
	Identifier  string            `json:"identifier"`
	TypeCode    string            `json:"type_code"`
	Number      string            `json:"licence_number"`
	Version     int               `json:"version"`
	Status      string            `json:"status"`
	Annotations []string          `json:"annotations"`
	ValidUntil  *string           `json:"valid_until"`
	Fields      map[string]string `json:"fields"`
	History     []struct {
		Version    int     `json:"version"`
		Action     string  `json:"action"`
		FromStatus *string `json:"from_status"`
		ToStatus   string  `json:"to_status"`
		Reason     string  `json:"reason"`
		Actor      string  `json:"actor"`
	} `json:"history"`
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field, Code, Message string
		} `json:"details"`
	} `json:"error"`
}

func decodeRecord(t *testing.T, w *httptest.ResponseRecorder) recordBody {
	t.Helper()
	var r recordBody
	decodeJSON(t, w, &r)
	return r
}

// The issuing side through the signed API, on both databases, every
// answer checked against the OpenAPI document.
func TestOpenAPILicences(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		ts := newTestServer(t, testServerOpts{Driver: driver})
		estate := ts.addTestApp(demo.USCCRealEstateCentre)
		police := ts.addTestApp(demo.USCCCityTrafficPolice)

		// Issue: 201 with the record; its history names the app.
		w := estate.specCall(t, "POST", "/openapi/v1/licences", zhangsanEstate("晋(2026)阳城县不动产权第0000123号"), "issue-123")
		if w.Code != http.StatusCreated {
			t.Fatalf("issue: %d %s", w.Code, w.Body)
		}
		rec := decodeRecord(t, w)
		if rec.ID == 0 || rec.Version != 1 || rec.Status != "valid" || rec.TypeCode != demo.TypeRealEstateTitle || rec.ValidUntil != nil ||
			rec.Fields["unit_no"] != "140522001001GB00018F00020301" || !strings.HasSuffix(rec.Identifier[:len(rec.Identifier)-2], ".001") ||
			len(rec.History) != 1 || rec.History[0].Action != "issue" || rec.History[0].Actor != "app:"+estate.id || rec.History[0].FromStatus != nil {
			t.Fatalf("issued record %+v", rec)
		}
		// The retry with the same key is the same licence, marked replayed.
		again := estate.specCall(t, "POST", "/openapi/v1/licences", zhangsanEstate("晋(2026)阳城县不动产权第0000123号"), "issue-123")
		if again.Code != http.StatusCreated || again.Header().Get(api.ReplayedHeader) != "true" || decodeRecord(t, again).ID != rec.ID {
			t.Errorf("replay: %d %v %s", again.Code, again.Header(), again.Body)
		}
		if w := estate.specCall(t, "POST", "/openapi/v1/licences", zhangsanEstate("晋(2026)阳城县不动产权第0000999号"), "issue-123"); w.Code != http.StatusConflict || errorCode(w) != "idempotency_conflict" {
			t.Errorf("same key, other licence: %d %s", w.Code, w.Body)
		}
		// The same number under a new key is refused by the database.
		if w := estate.specCall(t, "POST", "/openapi/v1/licences", zhangsanEstate("晋(2026)阳城县不动产权第0000123号"), "issue-123b"); w.Code != http.StatusConflict || errorCode(w) != "licence_exists" {
			t.Errorf("same number again: %d %s", w.Code, w.Body)
		}
		if w := estate.specCall(t, "POST", "/openapi/v1/licences", zhangsanEstate("晋(2026)阳城县不动产权第0000124号"), ""); w.Code != http.StatusBadRequest || errorCode(w) != "idempotency_key_required" {
			t.Errorf("issue without a key: %d %s", w.Code, w.Body)
		}

		// Read back and find, own department only.
		path := fmt.Sprintf("/openapi/v1/licences/%d", rec.ID)
		if w := estate.specCall(t, "GET", path, nil, ""); w.Code != http.StatusOK || decodeRecord(t, w).ID != rec.ID {
			t.Errorf("get: %d %s", w.Code, w.Body)
		}
		find := "/openapi/v1/licences?type_code=" + demo.TypeRealEstateTitle + "&licence_number=" + url.QueryEscape("晋(2026)阳城县不动产权第0000123号")
		var found struct{ Items []recordBody }
		w = estate.specCall(t, "GET", find, nil, "")
		decodeJSON(t, w, &found)
		if w.Code != http.StatusOK || len(found.Items) != 1 || found.Items[0].ID != rec.ID {
			t.Errorf("find: %d %s", w.Code, w.Body)
		}
		if w := police.specCall(t, "GET", path, nil, ""); w.Code != http.StatusNotFound || errorCode(w) != "not_found" {
			t.Errorf("another department's licence: %d %s", w.Code, w.Body)
		}
		w = police.specCall(t, "GET", find, nil, "")
		decodeJSON(t, w, &found)
		if w.Code != http.StatusOK || len(found.Items) != 0 {
			t.Errorf("another department finds: %d %s", w.Code, w.Body)
		}
		if w := police.specCall(t, "POST", path+"/events", map[string]any{"action": "suspend", "reason": "x"}, ""); w.Code != http.StatusNotFound {
			t.Errorf("another department's event: %d %s", w.Code, w.Body)
		}
		if w := estate.specCall(t, "GET", "/openapi/v1/licences?type_code="+demo.TypeRealEstateTitle, nil, ""); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("find without a number: %d %s", w.Code, w.Body)
		}

		// A type the department does not issue.
		if w := police.specCall(t, "POST", "/openapi/v1/licences", zhangsanEstate("晋(2026)阳城县不动产权第0000777号"), "p-1"); w.Code != http.StatusForbidden || errorCode(w) != "type_not_issued_by_department" {
			t.Errorf("type not issued: %d %s", w.Code, w.Body)
		}

		// Schema violations: every refused field in details.
		for i, tc := range []struct {
			name   string
			edit   func(map[string]any)
			fields []string
		}{
			// A date that is not a date is refused before the rest is looked at.
			{"bad ID check digit and a bad date", func(b map[string]any) {
				b["holder"].(map[string]any)["id_number"] = "140522198503120017"
				b["valid_until"] = "2026-13-01"
			}, []string{"valid_until"}},
			{"bad ID check digit", func(b map[string]any) { b["holder"].(map[string]any)["id_number"] = "140522198503120017" }, []string{"holder.id_number"}},
			{"unknown face field, no number", func(b map[string]any) {
				b["fields"].(map[string]string)["colour"] = "red"
				b["licence_number"] = ""
			}, []string{"licence_number", "fields.colour"}},
			{"unknown member", func(b map[string]any) { b["valid_untill"] = "2030-01-01" }, []string{"valid_untill"}}, //nolint:misspell // the misspelling is the point
			{"wrong type", func(b map[string]any) { b["licence_number"] = 12 }, []string{"licence_number"}},
			{"unknown type", func(b map[string]any) { b["type_code"] = "121405220120805465099" }, []string{"type_code"}},
		} {
			body := zhangsanEstate("晋(2026)阳城县不动产权第0000555号")
			tc.edit(body)
			w := estate.specCall(t, "POST", "/openapi/v1/licences", body, fmt.Sprintf("v-%d", i))
			var eb errorBody
			decodeJSON(t, w, &eb)
			var got []string
			for _, d := range eb.Error.Details {
				got = append(got, d.Field)
				if d.Code == "" || d.Message == "" || strings.Contains(d.Message, "140522198503120017") {
					t.Errorf("%s: detail %+v", tc.name, d)
				}
			}
			if w.Code != http.StatusUnprocessableEntity || eb.Error.Code != "validation_failed" || strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("%s: %d %s, want 422 on %v", tc.name, w.Code, w.Body, tc.fields)
			}
		}

		// Lifecycle events.
		events := path + "/events"
		if w := estate.specCall(t, "POST", events, map[string]any{"action": "suspend"}, ""); w.Code != http.StatusUnprocessableEntity || errorCode(w) != "reason_required" {
			t.Errorf("suspend without a reason: %d %s", w.Code, w.Body)
		}
		w = estate.specCall(t, "POST", events, map[string]any{"action": "suspend", "reason": "查封登记"}, "ev-1")
		if r := decodeRecord(t, w); w.Code != http.StatusOK || r.Status != "suspended" || r.ID != rec.ID || len(r.History) != 2 || r.History[1].Reason != "查封登记" {
			t.Errorf("suspend: %d %s", w.Code, w.Body)
		}
		w = estate.specCall(t, "POST", events, map[string]any{"action": "suspend", "reason": "again"}, "")
		if w.Code != http.StatusConflict || errorCode(w) != "illegal_transition" || !strings.Contains(w.Body.String(), "suspended") {
			t.Errorf("suspend twice: %d %s", w.Code, w.Body)
		}
		if w := estate.specCall(t, "POST", events, map[string]any{"action": "fly"}, ""); w.Code != http.StatusUnprocessableEntity || errorCode(w) != "validation_failed" {
			t.Errorf("unknown action: %d %s", w.Code, w.Body)
		}
		if w := estate.specCall(t, "POST", events, map[string]any{"action": "restore", "reason": "x", "effective_at": "yesterday"}, ""); w.Code != http.StatusUnprocessableEntity ||
			!strings.Contains(w.Body.String(), `"field":"effective_at"`) {
			t.Errorf("effective_at not an instant: %d %s", w.Code, w.Body)
		}
		if w := estate.specCall(t, "POST", events, map[string]any{"action": "restore", "reason": "解除查封"}, ""); w.Code != http.StatusOK || decodeRecord(t, w).Status != "valid" {
			t.Errorf("restore: %d %s", w.Code, w.Body)
		}
		w = estate.specCall(t, "POST", events, map[string]any{"action": "update", "reason": "面积更正", "fields": map[string]string{"area": "房屋建筑面积 120.1㎡"}}, "")
		next := decodeRecord(t, w)
		if w.Code != http.StatusOK || next.ID == rec.ID || next.Version != 2 || next.Fields["area"] != "房屋建筑面积 120.1㎡" || next.Status != "valid" {
			t.Fatalf("update: %d %s", w.Code, w.Body)
		}
		if w := estate.specCall(t, "GET", path, nil, ""); w.Code != http.StatusOK || decodeRecord(t, w).Status != "superseded" {
			t.Errorf("old version after update: %d %s", w.Code, w.Body)
		}
		if w := estate.specCall(t, "POST", events, map[string]any{"action": "restore", "reason": "x"}, ""); w.Code != http.StatusConflict || errorCode(w) != "illegal_transition" {
			t.Errorf("event on a superseded version: %d %s", w.Code, w.Body)
		}

		// Every version is signed by the department's seal; the signature
		// comes with what checks it.
		if w := estate.specCall(t, "GET", fmt.Sprintf("/openapi/v1/licences/%d/signature", next.ID), nil, ""); w.Code != http.StatusOK {
			t.Errorf("signature: %d", w.Code)
		} else {
			var sig struct {
				Document, Signature, Certificate string
				Seal                             struct{ Name, Status string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &sig); err != nil || !strings.HasPrefix(sig.Certificate, "-----BEGIN CERTIFICATE-----") ||
				sig.Seal.Name != "阳城县不动产登记中心" || sig.Seal.Status != "active" || sig.Document == "" || sig.Signature == "" {
				t.Errorf("signature body: %v %+v", err, sig)
			}
		}
		if w := police.specCall(t, "GET", fmt.Sprintf("/openapi/v1/licences/%d/signature", next.ID), nil, ""); w.Code != http.StatusNotFound || errorCode(w) != "not_found" {
			t.Errorf("another department's signature: %d %s", w.Code, w.Body)
		}
		// Refusals of the signature check are documented too.
		w = estate.call("GET", path, nil, func(r *http.Request) { r.Header.Set("X-Elicence-Signature", "00") })
		if w.Code != http.StatusUnauthorized {
			t.Errorf("bad signature: %d", w.Code)
		}
		req := httptest.NewRequest("GET", path, nil)
		conforms(t, req, w)
	})
}

// A licence issued through the Open API is in the holder's wallet and
// verifies at once; every lifecycle event is effective on the very next
// scan, including a code minted before it.
func TestOpenAPILicenceReachesWalletAndScans(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		estate := w.addTestApp(demo.USCCRealEstateCentre)
		body := zhangsanEstate("晋(2026)阳城县不动产权第0000456号")
		body["valid_until"] = "2036-11-19"
		rec := w.specCall(t, estate, "POST", "/openapi/v1/licences", body, "wallet-1")
		issued := decodeRecord(t, rec)
		if rec.Code != http.StatusCreated {
			t.Fatalf("issue: %d %s", rec.Code, rec.Body)
		}

		// In 张三's wallet.
		var wallet struct {
			Items []struct {
				ID     string `json:"id"` // the wallet's ids are strings
				Status string `json:"status"`
			} `json:"items"`
		}
		lw := w.do(http.MethodGet, "/api/v1/licences", nil, w.zhangsan)
		decodeJSON(t, lw, &wallet)
		inWallet := func(id int64) bool {
			for _, it := range wallet.Items {
				if it.ID == strconv.FormatInt(id, 10) {
					return true
				}
			}
			return false
		}
		if lw.Code != http.StatusOK || !inWallet(issued.ID) {
			t.Fatalf("wallet: %d %s", lw.Code, lw.Body)
		}

		l := licence.Licence{ID: issued.ID}
		scan := func(code string) api.VerificationResponse {
			t.Helper()
			r := w.verifyAs(w.housing, code, demo.PurposeRealEstateRegister)
			var res api.VerificationResponse
			decodeJSON(t, r, &res)
			if r.Code != http.StatusOK {
				t.Fatalf("verify: %d %s", r.Code, r.Body)
			}
			return res
		}
		if res := scan(w.mint(w.zhangsan, l, "basic").Token); res.Colour != "green" || res.Result != "valid" {
			t.Fatalf("fresh licence: %+v", res)
		}

		events := fmt.Sprintf("/openapi/v1/licences/%d/events", issued.ID)
		pending := w.mint(w.zhangsan, l, "basic")
		if r := w.specCall(t, estate, "POST", events, map[string]any{"action": "suspend", "reason": "查封登记"}, ""); r.Code != http.StatusOK {
			t.Fatalf("suspend: %d %s", r.Code, r.Body)
		}
		if res := scan(pending.Token); res.Colour != "red" || res.Result != "invalid" || res.ReasonCode != "suspended" || res.Status != "suspended" {
			t.Errorf("after suspend: %+v", res)
		}
		if r := w.specCall(t, estate, "POST", events, map[string]any{"action": "recover"}, ""); r.Code != http.StatusConflict || errorCode(r) != "illegal_transition" {
			t.Errorf("recover a suspended licence: %d %s", r.Code, r.Body)
		}
		pending = w.mint(w.zhangsan, l, "basic")
		if r := w.specCall(t, estate, "POST", events, map[string]any{"action": "restore", "reason": "解除查封"}, ""); r.Code != http.StatusOK {
			t.Fatalf("restore: %d %s", r.Code, r.Body)
		}
		if res := scan(pending.Token); res.Colour != "green" {
			t.Errorf("after restore: %+v", res)
		}

		// Renewal: a new version; a code of the old one now scans red.
		pending = w.mint(w.zhangsan, l, "basic")
		r := w.specCall(t, estate, "POST", events, map[string]any{"action": "renew", "valid_until": "2046-11-19"}, "renew-1")
		renewed := decodeRecord(t, r)
		if r.Code != http.StatusOK || renewed.Version != 2 || renewed.ID == issued.ID || renewed.ValidUntil == nil || *renewed.ValidUntil != "2046-11-19" {
			t.Fatalf("renew: %d %s", r.Code, r.Body)
		}
		if res := scan(pending.Token); res.Colour != "red" || res.ReasonCode != "superseded" {
			t.Errorf("old version after renew: %+v", res)
		}
		if old := decodeRecord(t, w.specCall(t, estate, "GET", fmt.Sprintf("/openapi/v1/licences/%d", issued.ID), nil, "")); old.Status != "superseded" {
			t.Errorf("old version reads %q", old.Status)
		}
		lw = w.do(http.MethodGet, "/api/v1/licences", nil, w.zhangsan)
		decodeJSON(t, lw, &wallet)
		if !inWallet(renewed.ID) || inWallet(issued.ID) {
			t.Errorf("wallet after renew holds the new version only: %s", lw.Body)
		}
		if res := scan(w.mint(w.zhangsan, licence.Licence{ID: renewed.ID}, "basic").Token); res.Colour != "green" {
			t.Errorf("new version: %+v", res)
		}
	})
}

// specCall on a world: the app's call with its answer checked.
func (w *world) specCall(t *testing.T, a apiApp, method, target string, body any, key string) *httptest.ResponseRecorder {
	t.Helper()
	return a.specCall(t, method, target, body, key)
}

// Ten department-system requests suspending one licence at once: exactly
// one wins, the others see the suspension and are refused, and the
// history holds one suspension (no lost or doubled update).
func TestOpenAPIConcurrentEventsSerialize(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		ts := newTestServer(t, testServerOpts{Driver: driver})
		estate := ts.addTestApp(demo.USCCRealEstateCentre)
		w := estate.specCall(t, "POST", "/openapi/v1/licences", zhangsanEstate("晋(2026)阳城县不动产权第0000321号"), "c-1")
		rec := decodeRecord(t, w)
		events := fmt.Sprintf("/openapi/v1/licences/%d/events", rec.ID)
		codes := make([]int, 10)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = estate.call("POST", events, []byte(`{"action":"suspend","reason":"查封登记"}`)).Code
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
				refused++
			}
		}
		if ok != 1 || refused != 9 {
			t.Fatalf("answers %v: want one 200 and nine 409", codes)
		}
		got := decodeRecord(t, estate.specCall(t, "GET", fmt.Sprintf("/openapi/v1/licences/%d", rec.ID), nil, ""))
		suspensions := 0
		for _, h := range got.History {
			if h.Action == "suspend" {
				suspensions++
			}
		}
		if got.Status != "suspended" || suspensions != 1 {
			t.Errorf("after the race: status %s, %d suspensions in the history", got.Status, suspensions)
		}
	})
}
