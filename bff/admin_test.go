package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// adminEnv runs the administration commands in-process against a fresh
// database of one driver.
type adminEnv struct {
	driver, dsn string
	env         map[string]string
}

func newAdminEnv(t *testing.T, driver string, seedDemo bool) *adminEnv {
	t.Helper()
	dsn := storetest.DSN(t, driver)
	return &adminEnv{driver: driver, dsn: dsn, env: map[string]string{
		"ELICENCE_DATA_DIR": t.TempDir(), "ELICENCE_DATABASE_DRIVER": driver, "ELICENCE_DATABASE_DSN": dsn,
		"ELICENCE_SEED_DEMO": map[bool]string{true: "true", false: "false"}[seedDemo],
	}}
}

// run is `bff ARGS -config configs/default.yaml` with the test's settings.
func (e *adminEnv) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	lookup := func(k string) (string, bool) { v, ok := e.env[k]; return v, ok }
	var out, errOut bytes.Buffer
	args = append(args, "-config", "../configs/default.yaml")
	err := run(t.Context(), args, lookup, &out, &errOut)
	return out.String(), err
}

// store opens the database the commands wrote (only plain columns are read).
func (e *adminEnv) store(t *testing.T) *store.Store { return storetest.Open(t, e.driver, e.dsn) }

func (e *adminEnv) audit(t *testing.T) []string {
	t.Helper()
	evs, err := e.store(t).AuditEvents(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Actor + " " + ev.Action + " " + ev.Object
	}
	return out
}

const cliCatalogue = `
departments:
  - {name: 阳城县公安局, uscc: "11140522012080212P", kind: issuer, area_code: "140522"}
  - {name: 阳城县公安局交通管理大队, uscc: "111405220120804312", kind: relying, area_code: "140522"}
types:
  - code: "11140522012080212P001"
    name: 居民身份证
    holder_kind: person
    fields:
      - {key: name, label: 姓名, type: text, required: true, sensitive: true, mask: name, basic: true}
usage_lists:
  - department: "111405220120804312"
    types:
      - {type: "11140522012080212P001", purposes: [身份核验]}
`

func TestCatalogueApplyCommand(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newAdminEnv(t, driver, false)
			file := filepath.Join(t.TempDir(), "catalogue.yaml")
			if err := os.WriteFile(file, []byte(cliCatalogue), 0o600); err != nil {
				t.Fatal(err)
			}
			tables := []string{"departments", "licence_types", "usage_lists", "audit_events"}
			none := map[string]int64{"departments": 0, "licence_types": 0, "usage_lists": 0, "audit_events": 0}

			out, err := e.run(t, "catalogue", "apply", "-f", file, "--dry-run")
			if err != nil || !strings.Contains(out, "created   department 11140522012080212P 阳城县公安局\n") ||
				!strings.Contains(out, "created   usage list 111405220120804312/11140522012080212P001 阳城县公安局交通管理大队 / 居民身份证\n") ||
				!strings.HasSuffix(out, "dry run: nothing written\n") {
				t.Fatalf("dry run: %v\n%s", err, out)
			}
			if got := storetest.Counts(t, driver, e.dsn, tables...); !reflect.DeepEqual(got, none) {
				t.Fatalf("dry run wrote: %v", got)
			}

			out, err = e.run(t, "catalogue", "apply", "-f", file)
			if err != nil || !strings.Contains(out, "departments: 2 created, 0 updated, 0 unchanged; types: 1 created") {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			out, err = e.run(t, "catalogue", "apply", "-f", file)
			if err != nil || strings.Count(out, "\nunchanged ") != 3 || !strings.HasPrefix(out, "unchanged ") || !strings.Contains(out, "0 created, 0 updated, 1 unchanged\n") {
				t.Fatalf("second apply: %v\n%s", err, out)
			}
			if got := e.audit(t); !reflect.DeepEqual(got, []string{"cli:catalogue catalogue.apply catalogue"}) {
				t.Fatalf("audit: %v", got)
			}

			// A bad entry is named, and nothing at all is written.
			bad := strings.Replace(cliCatalogue, `type: "11140522012080212P001", purposes`, `type: "11140522012080212P002", purposes`, 1)
			bad = strings.Replace(bad, "阳城县公安局交通管理大队", "阳城县公安局交通警察大队", 1)
			if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			before := storetest.Counts(t, driver, e.dsn, tables...)
			_, err = e.run(t, "catalogue", "apply", "-f", file)
			if err == nil || !strings.Contains(err.Error(), "usage_lists[0] (department 111405220120804312).types[0].type: unknown licence type 11140522012080212P002") {
				t.Fatalf("bad file: %v", err)
			}
			if got := storetest.Counts(t, driver, e.dsn, tables...); !reflect.DeepEqual(got, before) {
				t.Fatalf("a refused file wrote: %v -> %v", before, got)
			}
			d, err := e.store(t).DepartmentByUSCC(t.Context(), "111405220120804312")
			if err != nil || d.Name != "阳城县公安局交通管理大队" {
				t.Fatalf("the refused file's good entry was written: %+v %v", d, err)
			}
		})
	}
}

func TestOfficerCommands(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newAdminEnv(t, driver, true)
			const openid = "o-cli-officer-0001"
			out, err := e.run(t, "officer", "add", "--openid", openid, "--department", demo.USCCTrafficBrigade)
			if err != nil || out != "officer bound to 阳城县公安局交通管理大队\n" {
				t.Fatalf("officer add: %v %q", err, out)
			}
			if dept, err := e.store(t).Officer(t.Context(), openid); err != nil || dept == 0 {
				t.Fatalf("after add: %d %v", dept, err)
			}
			out, err = e.run(t, "officer", "remove", "--openid", openid)
			if err != nil || out != "officer removed from 阳城县公安局交通管理大队\n" {
				t.Fatalf("officer remove: %v %q", err, out)
			}
			if _, err := e.store(t).Officer(t.Context(), openid); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("after remove: %v", err)
			}
			audit := e.audit(t)
			want := []string{"cli:officer officer.add officer:" + openid, "cli:officer officer.remove officer:" + openid}
			if len(audit) < 2 || !reflect.DeepEqual(audit[len(audit)-2:], want) {
				t.Fatalf("audit: %v", audit)
			}

			// Refusals change nothing and audit nothing.
			for _, args := range [][]string{
				{"officer", "remove", "--openid", openid},
				{"officer", "add", "--openid", openid, "--department", "91140522MA0KXXXX1X"},
			} {
				if _, err := e.run(t, args...); err == nil {
					t.Errorf("%v: accepted", args)
				}
			}
			if got := e.audit(t); len(got) != len(audit) {
				t.Fatalf("refused commands audited: %v", got[len(audit):])
			}
			if _, err := e.store(t).Officer(t.Context(), openid); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("a refused add bound the officer: %v", err)
			}
		})
	}
}
