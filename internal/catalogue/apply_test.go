package catalogue_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/configs"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// tables a catalogue apply may write.
var tables = []string{"departments", "licence_types", "licence_type_issuers", "usage_lists", "audit_events"}

const actor = "cli:catalogue"

// small is a catalogue of two departments, one type and one usage list.
const small = `
departments:
  - {name: 阳城县公安局, uscc: "11140522012080212P", kind: issuer, area_code: "140522"}
  - {name: 阳城县公安局交通管理大队, uscc: "111405220120804312", kind: relying, area_code: "140522"}
types:
  - code: "11140522012080212P001"
    name: 居民身份证
    holder_kind: person
    validity_years: 20
    reminder_stages: [30, 90]
    face_template: resident-id
    fields:
      - {key: name, label: 姓名, type: text, required: true, sensitive: true, mask: name, basic: true}
      - {key: address, label: 住址, type: address, sensitive: true, mask: middle}
      - {key: id_number, label: 公民身份号码, type: id_number, sensitive: true, mask: id, basic: true}
usage_lists:
  - department: "111405220120804312"
    types:
      - type: "11140522012080212P001"
        purposes: [身份核验, " 道路交通执法检查 "]
`

func parse(t *testing.T, src string) catalogue.Catalogue {
	t.Helper()
	c, err := catalogue.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

type env struct {
	driver, dsn string
	st          *store.Store
}

func (e env) tx() catalogue.TxFunc { return store.TxAs[catalogue.Repository](e.st) }

func (e env) counts(t *testing.T) map[string]int64 {
	t.Helper()
	return storetest.Counts(t, e.driver, e.dsn, tables...)
}

func (e env) apply(t *testing.T, c catalogue.Catalogue, dryRun bool) (catalogue.Plan, error) {
	t.Helper()
	return catalogue.Apply(t.Context(), e.tx(), c, catalogue.Options{Actor: actor, DryRun: dryRun})
}

// forEachDriver runs fn on a freshly migrated, empty database of each driver.
func forEachDriver(t *testing.T, fn func(t *testing.T, e env)) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			dsn := storetest.DSN(t, driver)
			fn(t, env{driver: driver, dsn: dsn, st: storetest.Migrated(t, driver, dsn)})
		})
	}
}

func TestApplyCreatesThenChangesNothing(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e env) {
		c, err := catalogue.Parse(bytes.NewReader(configs.DemoCatalogue))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := e.apply(t, c, false)
		if err != nil {
			t.Fatalf("first apply: %v", err)
		}
		if plan.Count(catalogue.KindDepartment, catalogue.Created) != 10 || plan.Count(catalogue.KindType, catalogue.Created) != 13 ||
			plan.Count(catalogue.KindUsageList, catalogue.Created) != 4 || plan.Count("", catalogue.Created) != len(plan.Changes) {
			t.Fatalf("first apply plan: %s", plan.Summary())
		}
		first := e.counts(t)
		want := map[string]int64{"departments": 10, "licence_types": 13, "licence_type_issuers": 13, "usage_lists": 4, "audit_events": 1}
		if !reflect.DeepEqual(first, want) {
			t.Fatalf("after the first apply: %v, want %v", first, want)
		}
		evs, err := e.st.AuditEvents(t.Context(), 0, 10)
		if err != nil || len(evs) != 1 {
			t.Fatalf("audit: %v, %v", evs, err)
		}
		if ev := evs[0]; ev.Actor != actor || ev.Action != "catalogue.apply" || ev.Detail != plan.Summary() {
			t.Fatalf("audit event = %+v", ev)
		}

		// What was written reads back as the file says.
		ty, err := e.st.Type(t.Context(), demo.TypeDrivingLicence)
		if err != nil || ty.FaceTemplate != "driving-licence" || ty.ValidityYears != 6 || !reflect.DeepEqual(ty.ReminderStages, []int{90, 30, 7}) ||
			ty.Fields[0] != (licence.Field{Key: "name", Label: "姓名", Type: "text", Sensitive: true, Mask: licence.MaskName, Basic: true}) {
			t.Fatalf("driving licence type = %+v, %v", ty, err)
		}
		police, _ := e.st.DepartmentByUSCC(t.Context(), demo.USCCCityTrafficPolice)
		brigade, _ := e.st.DepartmentByUSCC(t.Context(), demo.USCCTrafficBrigade)
		for _, c := range []struct {
			dept int64
			ok   bool
		}{{police.ID, true}, {brigade.ID, false}} {
			if ok, err := e.st.MayIssue(t.Context(), c.dept, demo.TypeDrivingLicence); err != nil || ok != c.ok {
				t.Errorf("MayIssue(%d) = %v, %v; want %v", c.dept, ok, err, c.ok)
			}
		}

		plan, err = e.apply(t, c, false)
		if err != nil {
			t.Fatalf("second apply: %v", err)
		}
		if plan.Changed() || plan.Count("", catalogue.Unchanged) != 27 {
			t.Fatalf("second apply is not all unchanged: %s", plan.Summary())
		}
		if again := e.counts(t); !reflect.DeepEqual(first, again) {
			t.Fatalf("second apply wrote: %v -> %v", first, again)
		}
	})
}

func TestApplyUpdatesAndRemoves(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e env) {
		if _, err := e.apply(t, parse(t, small), false); err != nil {
			t.Fatal(err)
		}
		changed := strings.NewReplacer(
			"name: 阳城县公安局交通管理大队", "name: 阳城县公安局交通警察大队",
			"label: 住址", "label: 住所",
			`purposes: [身份核验, " 道路交通执法检查 "]`, "purposes: [身份核验]",
		).Replace(small)
		plan, err := e.apply(t, parse(t, changed), false)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range plan.Changes {
			got[c.Key] = string(c.Action) + " " + strings.Join(c.What, ",")
		}
		want := map[string]string{
			demo.USCCPublicSecurity:                             "unchanged ",
			demo.USCCTrafficBrigade:                             "updated name",
			demo.TypeResidentID:                                 "updated fields",
			demo.USCCTrafficBrigade + "/" + demo.TypeResidentID: "updated purposes",
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("plan = %v, want %v", got, want)
		}
		d, _ := e.st.DepartmentByUSCC(t.Context(), demo.USCCTrafficBrigade)
		purposes, ok, err := e.st.UsagePurposes(t.Context(), d.ID, demo.TypeResidentID)
		if d.Name != "阳城县公安局交通警察大队" || !ok || err != nil || !reflect.DeepEqual(purposes, []string{"身份核验"}) {
			t.Fatalf("after update: %+v, %v %v %v", d, purposes, ok, err)
		}

		// A department's usage list in the file is its whole list.
		without := changed[:strings.Index(changed, "usage_lists:")] + "usage_lists:\n  - department: \"111405220120804312\"\n    types: []\n"
		plan, err = e.apply(t, parse(t, without), false)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Count(catalogue.KindUsageList, catalogue.Removed) != 1 {
			t.Fatalf("plan: %s", plan.Summary())
		}
		if _, ok, _ := e.st.UsagePurposes(t.Context(), d.ID, demo.TypeResidentID); ok {
			t.Fatal("the type is still on the usage list")
		}
		if n := e.counts(t)["audit_events"]; n != 3 {
			t.Fatalf("audit events = %d, want one per apply", n)
		}
	})
}

// TestApplyRefusesWritingNothing: every problem is named by entry and
// field, and a file with a problem writes nothing at all, not even its
// good entries.
func TestApplyRefusesWritingNothing(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           []string // substrings of the error
	}{
		{"bad USCC", `uscc: "111405220120804312"`, `uscc: "111405220120804313"`,
			[]string{`departments[1] 阳城县公安局交通管理大队 (111405220120804313).uscc`, "GB 32100"}},
		{"bad type code", `code: "11140522012080212P001"`, `code: "11140522012080212P0X1"`,
			[]string{"types[0] 居民身份证 (11140522012080212P0X1).code", "GB/T 36904"}},
		{"unknown department in a usage list", `department: "111405220120804312"`, `department: "11140522012080108K"`,
			[]string{"usage_lists[0] (department 11140522012080108K).department", "unknown department"}},
		{"unknown type in a usage list", `type: "11140522012080212P001"`, `type: "11140522012080212P009"`,
			[]string{"usage_lists[0] (department 111405220120804312).types[0].type", "unknown licence type 11140522012080212P009"}},
		{"unknown issuer", `face_template: resident-id`, "face_template: resident-id\n    issuers: [\"121405220120805465\"]",
			[]string{"types[0] 居民身份证 (11140522012080212P001).issuers[0]", "unknown department 121405220120805465"}},
		{"mask without sensitive", `type: address, sensitive: true, mask: middle`, `type: address, mask: middle`,
			[]string{"types[0] 居民身份证 (11140522012080212P001).fields[1].mask"}},
		{"unknown field type", `type: id_number,`, `type: idcard,`,
			[]string{"types[0] 居民身份证 (11140522012080212P001).fields[2].type", `"idcard"`}},
		{"no purposes", `purposes: [身份核验, " 道路交通执法检查 "]`, `purposes: []`,
			[]string{"usage_lists[0] (department 111405220120804312).types[0].purposes"}},
		{"misspelt key", `required: true`, `requried: true`, []string{"requried"}}, //nolint:misspell // the misspelling is the point
	}
	forEachDriver(t, func(t *testing.T, e env) {
		empty := e.counts(t)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				src := strings.Replace(small, c.old, c.new, 1)
				if src == small {
					t.Fatalf("fixture does not contain %q", c.old)
				}
				err := func() error {
					cat, err := catalogue.Parse(strings.NewReader(src))
					if err != nil {
						return err
					}
					_, err = e.apply(t, cat, false)
					return err
				}()
				if err == nil {
					t.Fatal("accepted")
				}
				for _, w := range c.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
				if got := e.counts(t); !reflect.DeepEqual(got, empty) {
					t.Fatalf("a refused apply wrote: %v", got)
				}
			})
		}
	})
}

func TestParseReportsEveryProblem(t *testing.T) {
	src := strings.NewReplacer(`uscc: "111405220120804312"`, `uscc: "1"`, "holder_kind: person", "holder_kind: robot",
		"kind: issuer", "kind: maker").Replace(small)
	_, err := catalogue.Parse(strings.NewReader(src))
	var ce *catalogue.Error
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("Parse = %v, want 3 problems", err)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e env) {
		empty := e.counts(t)
		plan, err := e.apply(t, parse(t, small), true)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Count("", catalogue.Created) != 4 {
			t.Fatalf("dry-run plan: %s", plan.Summary())
		}
		if got := e.counts(t); !reflect.DeepEqual(got, empty) {
			t.Fatalf("dry run wrote: %v", got)
		}
		// The same plan as the real apply, which then writes it.
		real, err := e.apply(t, parse(t, small), false)
		if err != nil || !reflect.DeepEqual(real, plan) {
			t.Fatalf("apply plan %v differs from the dry run's %v (%v)", real, plan, err)
		}
	})
}

// TestSchemaChangesThatBreakLicencesAreRefused: once licences of a type are
// on file, its schema may grow and relabel but not lose or retype a field,
// nor demand a value the licences lack.
func TestSchemaChangesThatBreakLicencesAreRefused(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			dsn := storetest.DSN(t, driver)
			e := env{driver: driver, dsn: dsn, st: storetest.Seeded(t, driver, dsn, time.Now())}
			base := string(configs.DemoCatalogue)
			const addr = "{key: address, label: 住址, type: address, sensitive: true, mask: middle}\n      - {key: birth_date, label: 出生日期, type: date}\n      - {key: first_issue_date"
			if !strings.Contains(base, addr) {
				t.Fatal("fixture: the driving licence's address field moved")
			}
			refused := []struct{ name, new, want string }{
				{"remove a field", "{key: birth_date, label: 出生日期, type: date}\n      - {key: first_issue_date",
					"types[6] 机动车驾驶证 (11140500011970328E001).fields: cannot remove field address"},
				{"retype a field", strings.Replace(addr, "type: address,", "type: text,", 1),
					"types[6] 机动车驾驶证 (11140500011970328E001).fields[3].type: cannot change address from address to text"},
				{"require a field", strings.Replace(addr, "type: address,", "type: address, required: true,", 1),
					"fields[3].required: cannot make address required"},
				{"add a required field", strings.Replace(addr, "{key: birth_date,", "{key: blood_type, label: 血型, type: text, required: true}\n      - {key: birth_date,", 1),
					"fields[4].required: cannot make blood_type required"},
			}
			before := e.counts(t)
			for _, c := range refused {
				t.Run(c.name, func(t *testing.T) {
					_, err := e.apply(t, parse(t, strings.Replace(base, addr, c.new, 1)), false)
					if err == nil || !strings.Contains(err.Error(), c.want) {
						t.Fatalf("apply = %v, want %q", err, c.want)
					}
					if got := e.counts(t); !reflect.DeepEqual(got, before) {
						t.Fatalf("a refused apply wrote: %v -> %v", before, got)
					}
				})
			}
			// Relabelling and a new optional field are fine.
			fine := strings.Replace(base, addr, strings.Replace(addr, "label: 住址", "label: 住所", 1), 1)
			fine = strings.Replace(fine, "{key: first_issue_date", "{key: remarks, label: 备注, type: text}\n      - {key: first_issue_date", 1)
			plan, err := e.apply(t, parse(t, fine), false)
			if err != nil || plan.Count(catalogue.KindType, catalogue.Updated) != 1 {
				t.Fatalf("harmless change: %v, %v", plan.Summary(), err)
			}
		})
	}
}
