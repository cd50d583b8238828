package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/openapi"
)

// `bff app add` prints the credentials as one JSON line and nothing else
// on stdout; a department system signs with them against the running
// server over real HTTP; the secret is in no log and, in plain text, in no
// file of the data directory.
func TestAppAddAndSignedCalls(t *testing.T) {
	s := startServer(t)
	app := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.Command(s.bin, append([]string{"app"}, args...)...)
		cmd.Dir = ".."
		cmd.Env = s.env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		return out.String(), errOut.String(), err
	}
	add := func(args ...string) (string, string, error) { return app(append([]string{"add"}, args...)...) }
	out, errOut, err := add("--department", "121405220120805465", "--name", "不动产登记系统")
	if err != nil {
		t.Fatalf("app add: %v\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var cred map[string]string
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &cred) != nil || len(cred) != 2 ||
		!strings.HasPrefix(cred["app_id"], "app_") || len(cred["app_secret"]) < 40 {
		t.Fatalf("app add printed %q", out)
	}

	call := func(method, path string, body []byte, key string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		openapi.SignRequest(req, body, cred["app_id"], cred["app_secret"], time.Now(), "")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	issue := []byte(`{"type_code":"121405220120805465001","licence_number":"晋(2026)阳城县不动产权第0000789号",` +
		`"holder":{"name":"张三","id_type":"111","id_number":"140522198503120016","phone":"13800000001"},` +
		`"issue_date":"2026-11-20","valid_from":"2026-11-20","valid_until":null,"fields":{"right_holder":"张三","unit_no":"140522001001GB00018F00020302"}}`)
	if code, body := call("POST", "/openapi/v1/licences", issue, "e2e-1"); code != http.StatusCreated || !strings.Contains(body, `"version":1`) {
		t.Fatalf("issue: %d %s", code, body)
	}
	if code, body := call("GET", "/openapi/v1/licences?type_code=121405220120805465001&licence_number=%E6%99%8B(2026)%E9%98%B3%E5%9F%8E%E5%8E%BF%E4%B8%8D%E5%8A%A8%E4%BA%A7%E6%9D%83%E7%AC%AC0000789%E5%8F%B7", nil, ""); code != http.StatusOK || !strings.Contains(body, "0000789") {
		t.Errorf("find: %d %s", code, body)
	}
	resp, err := http.Get(s.url + "/openapi/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("document: %d", resp.StatusCode)
	}

	if _, errOut, err := add("--department", "121405220120805465", "--name", ""); err == nil {
		t.Errorf("app add without a name succeeded: %s", errOut)
	}
	if _, errOut, err := add("--department", "91140522MA0000000X", "--name", "无此单位"); err == nil || !strings.Contains(errOut, "department") {
		t.Errorf("app add for an unknown department: %v %s", err, errOut)
	}

	// Disabled, the app is refused at once, like one that never existed.
	if out, errOut, err := app("disable", "--app-id", cred["app_id"]); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("app disable: %v %s %s", err, out, errOut)
	}
	if code, body := call("GET", "/openapi/v1/licences?type_code=121405220120805465001&licence_number=x", nil, ""); code != http.StatusUnauthorized || !strings.Contains(body, "signature_invalid") {
		t.Errorf("disabled app: %d %s", code, body)
	}
	if _, _, err := app("disable", "--app-id", cred["app_id"]); err == nil {
		t.Error("disabling a disabled app succeeded")
	}

	secret := cred["app_secret"]
	if strings.Contains(s.logs.String(), secret) || strings.Contains(errOut, secret) {
		t.Error("the app secret reached a log")
	}
	var dataDir string
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, "ELICENCE_DATA_DIR="); ok {
			dataDir = v
		}
	}
	files := 0
	_ = filepath.WalkDir(dataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the app secret in plain text", filepath.Base(path))
		}
		return nil
	})
	if files == 0 {
		t.Error("no data files looked at: the check would prove nothing")
	}
}
