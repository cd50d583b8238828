package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// TestSealCommand operates a seal through its whole life with `bff seal`
// on an embedded data directory, where the demo departments already have
// their seals and the local CA certifies new ones.
func TestSealCommand(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "ELICENCE_DATA_DIR="+t.TempDir())
	run := func(args ...string) (sealOut, string, error) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"seal"}, args...)...)
		cmd.Dir, cmd.Env = "..", env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var s sealOut
		if err == nil && args[0] != "list" && args[0] != "sign-unsigned" {
			if jerr := json.Unmarshal(out.Bytes(), &s); jerr != nil {
				t.Fatalf("seal %s printed %q: %v", args[0], out.String(), jerr)
			}
		}
		return s, out.String() + errOut.String(), err
	}

	_, out, err := run("list")
	if err != nil || strings.Count(out, `"state":"active"`) < 8 || !strings.Contains(out, "阳城县不动产登记中心") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	s, out, err := run("apply", "--department", "121405220120805465", "--name", "阳城县不动产登记中心登记专用章",
		"--kind", "business", "--types", "121405220120805465002")
	if err != nil || s.State != "applied" || s.Kind != "business" || len(s.Types) != 1 {
		t.Fatalf("apply: %+v %v\n%s", s, err, out)
	}
	id := "--id=" + strconv.FormatInt(s.ID, 10)
	if _, out, err := run("refuse", id); err == nil || !strings.Contains(out, "reason") {
		t.Fatalf("refuse without a reason: %v\n%s", err, out)
	}
	for _, step := range []struct{ sub, want string }{{"approve", "reviewed"}, {"issue", "issued"}, {"activate", "active"}} {
		if s, out, err = run(step.sub, id); err != nil || s.State != step.want {
			t.Fatalf("%s: %+v %v\n%s", step.sub, s, err, out)
		}
	}
	if s.NotAfter == "" {
		t.Fatalf("issued seal without certificate validity: %+v", s)
	}
	if _, out, err := run("renew", id); err == nil || !strings.Contains(out, "30 days") {
		t.Fatalf("renew three years early: %v\n%s", err, out)
	}
	lost := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if s, out, err = run("report-lost", id, "--lost-at", lost); err != nil || s.State != "lost" || s.LostAt != lost {
		t.Fatalf("report-lost: %+v %v\n%s", s, err, out)
	}
	if _, out, err := run("sign-unsigned"); err != nil || !strings.HasPrefix(out, "signed 0,") {
		t.Fatalf("sign-unsigned on signed demo data: %v\n%s", err, out)
	}
}

// TestProductionSealKeysCheckedAtStart: with certificates from the CA's
// file, start-up refuses a signing seal whose private key is not in
// seals.key_dir, naming the setting, and accepts the directory that has it.
func TestProductionSealKeysCheckedAtStart(t *testing.T) {
	st := storetest.Seeded(t, store.DriverSQLite, storetest.DSN(t, store.DriverSQLite), time.Now())
	sl := storetest.SealDemo(t, st, nil)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, sl.CA.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{Mode: "production", Seals: config.Seals{KeyDir: t.TempDir(), CACertFile: caFile, CertYears: 3}}
	if _, err := openSeals(t.Context(), cfg, st); err == nil || !strings.Contains(err.Error(), "seals.key_dir") ||
		!strings.Contains(err.Error(), seal.ErrKeyMissing.Error()) {
		t.Fatalf("empty key directory: %v", err)
	}
	cfg.Seals.KeyDir = sl.KeyDir
	s, err := openSeals(t.Context(), cfg, st)
	if err != nil {
		t.Fatalf("key directory with the keys: %v", err)
	}
	if _, err := s.LocalCertificate("x", time.Now()); err == nil {
		t.Fatal("production certified a key without a CA")
	}
	cfg.Seals.CACertFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := openSeals(t.Context(), cfg, st); err == nil || !strings.Contains(err.Error(), "seals.ca_cert_file") {
		t.Fatalf("missing CA file: %v", err)
	}
}
