package api_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	openapidoc "github.com/yangcheng-county/elicence/docs/openapi"
)

// apiDoc is docs/openapi/api-v1.yaml, the contract of /api/v1, loaded and
// validated once; apiDocRouter finds its operations.
var (
	apiDoc = sync.OnceValues(func() (*openapi3.T, error) {
		// The catalogue export (YAML) and the login's error page (HTML)
		// are text for a person: read as the strings the document says,
		// not parsed.
		openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.FileBodyDecoder)
		doc, err := openapi3.NewLoader().LoadFromData(openapidoc.APIV1)
		if err != nil {
			return nil, fmt.Errorf("load api-v1.yaml: %w", err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			return nil, fmt.Errorf("validate api-v1.yaml: %w", err)
		}
		return doc, nil
	})
	apiDocRouter = sync.OnceValues(func() (routers.Router, error) {
		doc, err := apiDoc()
		if err != nil {
			return nil, err
		}
		return legacy.NewRouter(doc)
	})
)

// specChecked serves every request with h and checks each answer of an
// /api/v1 route against the API document, reporting a mismatch with
// errorf: the handler tests then cannot pass while the document and the
// handlers disagree. A path the document lacks is not checked here: it is
// either no route at all (answered 404 by the table) or a route a test
// mounted itself; TestAPIDocumentCoversRouteTable keeps the real table and
// the document equal.
func specChecked(errorf func(format string, args ...any), h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		rec, ok := w.(*httptest.ResponseRecorder)
		if !ok || !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			return
		}
		if err := apiConformance(r, rec); err != nil {
			errorf("%s %s → %d does not conform to docs/openapi/api-v1.yaml: %v\n%s", r.Method, r.URL, rec.Code, err, rec.Body)
		}
	})
}

// apiConformance is nil when the answer w to req is one the document
// describes for req's operation (a documented status and a body of its
// schema), or when the document has no such operation.
func apiConformance(req *http.Request, w *httptest.ResponseRecorder) error {
	router, err := apiDocRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if _, notInDocument := errors.AsType[*routers.RouteError](err); notInDocument {
		return nil
	}
	if err != nil {
		return err
	}
	return validateAnswer(context.Background(), route, params, req, w)
}

// ginParam is a path parameter in gin's syntax (:id, *path).
var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// Every /api/v1 route of the route table is in the document, and every
// operation of the document is a route: a route added without its
// documentation fails here. The test server runs in dev mode, so the
// dev-only /api/v1/dev/sms is in both.
func TestAPIDocumentCoversRouteTable(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	served := map[string]bool{}
	for _, r := range ts.engine.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			served[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
		}
	}
	doc, err := apiDoc()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	if len(served) == 0 {
		t.Fatal("no /api/v1 routes in the table")
	}
	for _, k := range slices.Sorted(maps.Keys(served)) {
		if !documented[k] {
			t.Errorf("%s is in bff/api/router.go but not in docs/openapi/api-v1.yaml", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(documented)) {
		if !served[k] {
			t.Errorf("%s is in docs/openapi/api-v1.yaml but not in bff/api/router.go", k)
		}
	}
}

// The check the handler tests run catches drift: a missing or extra
// member, a value outside its enum, an undocumented status, an error body
// without its code; and it reports through the test server's wrapper.
func TestAPIConformanceCheckCatchesDrift(t *testing.T) {
	answer := func(code int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		})
	}
	good := `{"openid_hint":"o***1","realname_verified":true,"roles":["holder"],"name_masked":"张*"}`
	serve := func(h http.Handler) []string {
		var reports []string
		checked := specChecked(func(format string, args ...any) { reports = append(reports, fmt.Sprintf(format, args...)) }, h)
		checked.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/me", nil))
		return reports
	}
	for name, h := range map[string]http.Handler{
		"conforming":       answer(200, good),
		"null name":        answer(200, strings.Replace(good, `"张*"`, `null`, 1)),
		"documented error": answer(401, `{"error":{"code":"not_logged_in","message":"请先登录"}}`),
	} {
		if r := serve(h); len(r) != 0 {
			t.Errorf("%s: refused: %v", name, r)
		}
	}
	for name, h := range map[string]http.Handler{
		"missing member":       answer(200, strings.Replace(good, `,"name_masked":"张*"`, "", 1)),
		"extra member":         answer(200, strings.Replace(good, `"roles"`, `"holder_id":3,"roles"`, 1)),
		"unknown role":         answer(200, strings.Replace(good, `"holder"`, `"admin"`, 1)),
		"wrong type":           answer(200, strings.Replace(good, `true`, `"yes"`, 1)),
		"undocumented status":  answer(418, `{"error":{"code":"x","message":"y"}}`),
		"error without a code": answer(401, `{"error":{"message":"y"}}`),
	} {
		if r := serve(h); len(r) == 0 {
			t.Errorf("%s: passed the conformance check", name)
		}
	}
}
