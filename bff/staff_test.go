package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// `bff staff add` prints only the one-time password, which logs the new
// member in to the running server's console; every bad request is refused
// with a message and a non-zero exit; `bff staff disable` ends the member's
// console access at once, on the very next request.
func TestStaffCommands(t *testing.T) {
	s := startServer(t)
	staffCmd := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.Command(s.bin, append([]string{"staff"}, args...)...)
		cmd.Dir = ".."
		cmd.Env = s.env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		return out.String(), errOut.String(), err
	}
	const estate = "121405220120805465"

	out, errOut, err := staffCmd("add", "--username", "clerk.one", "--role", "clerk", "--department", estate)
	if err != nil {
		t.Fatalf("staff add: %v\n%s", err, errOut)
	}
	password := strings.TrimSuffix(out, "\n")
	if strings.Contains(password, "\n") || len(password) < 12 {
		t.Fatalf("staff add printed %q, want the password alone", out)
	}
	if strings.Contains(errOut, password) || strings.Contains(s.logs.String(), password) {
		t.Fatal("the one-time password is in a log")
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no username", []string{"add", "--role", "clerk", "--department", estate}, "--username and --role are required"},
		{"unknown role", []string{"add", "--username", "clerk.two", "--role", "boss", "--department", estate}, "staff"},
		{"unknown department", []string{"add", "--username", "clerk.two", "--role", "clerk", "--department", "91140500MA0XXXXX1X"}, "department 91140500MA0XXXXX1X"},
		{"clerk without department", []string{"add", "--username", "clerk.two", "--role", "clerk"}, "staff"},
		{"username taken", []string{"add", "--username", "clerk.one", "--role", "clerk", "--department", estate}, "username taken"},
		{"no subcommand", []string{"promote"}, "want the subcommand add or disable"},
		{"disable nobody", []string{"disable", "--username", "nobody.here"}, "staff nobody.here"},
		{"disable without username", []string{"disable"}, "--username is required"},
	} {
		if out, errOut, err := staffCmd(tc.args...); err == nil || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: err %v, stdout %q, stderr %q (want it to mention %q)", tc.name, err, out, errOut, tc.want)
		}
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	body, _ := json.Marshal(map[string]string{"username": "clerk.one", "password": password, "otp": ""})
	resp, err := browser.Post(s.url+"/api/v1/console/session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("console login with the printed password: %d", resp.StatusCode)
	}
	me := func() int {
		t.Helper()
		resp, err := browser.Get(s.url + "/api/v1/console/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := me(); code != http.StatusOK {
		t.Fatalf("console /me after login: %d", code)
	}

	if out, errOut, err := staffCmd("disable", "--username", "clerk.one"); err != nil || !strings.Contains(out, "staff clerk.one disabled") {
		t.Fatalf("staff disable: %v %q %q", err, out, errOut)
	}
	if code := me(); code != http.StatusUnauthorized {
		t.Fatalf("console /me after staff disable: %d, want 401", code)
	}
	if _, errOut, err := staffCmd("disable", "--username", "clerk.one"); err == nil || !strings.Contains(errOut, "already disabled") {
		t.Errorf("disabling twice: %v %q", err, errOut)
	}
}
