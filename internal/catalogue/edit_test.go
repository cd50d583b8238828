package catalogue_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/configs"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// TestExportWritesWhatApplyReads: the demo catalogue applied, exported,
// written and parsed again is the same catalogue, and applying it changes
// nothing.
func TestExportWritesWhatApplyReads(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e env) {
		orig := parse(t, string(configs.DemoCatalogue))
		if _, err := e.apply(t, orig, false); err != nil {
			t.Fatal(err)
		}
		exported, err := catalogue.Export(t.Context(), e.st)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := catalogue.Write(&buf, exported); err != nil {
			t.Fatal(err)
		}
		again := parse(t, buf.String())
		if len(again.Departments) != len(orig.Departments) || len(again.Types) != len(orig.Types) || len(again.UsageLists) != len(orig.UsageLists) {
			t.Fatalf("exported %d departments, %d types, %d usage lists; the file has %d, %d, %d",
				len(again.Departments), len(again.Types), len(again.UsageLists), len(orig.Departments), len(orig.Types), len(orig.UsageLists))
		}
		for _, want := range orig.Types {
			i := indexOfType(again, want.Code)
			if i < 0 || !reflect.DeepEqual(again.Types[i], want) {
				t.Errorf("type %s exported as %+v, want %+v", want.Code, again.Types[i], want)
			}
		}
		before := e.counts(t)
		plan, err := e.apply(t, again, false)
		if err != nil || plan.Changed() {
			t.Fatalf("applying the export: %s, %v", plan.Summary(), err)
		}
		if after := e.counts(t); !reflect.DeepEqual(before, after) {
			t.Fatalf("applying the export wrote: %v -> %v", before, after)
		}
		if !strings.Contains(buf.String(), `uscc: "111405220120804312"`) {
			t.Fatalf("an all-digit USCC is not quoted:\n%s", buf.String())
		}
	})
}

func indexOfType(c catalogue.Catalogue, code string) int {
	for i, t := range c.Types {
		if t.Code == code {
			return i
		}
	}
	return -1
}

// TestCheckAppliesTheFileRules: a catalogue built in code is refused for
// what a file would be refused for, and normalised like a file.
func TestCheckAppliesTheFileRules(t *testing.T) {
	good := parse(t, small)
	if got, err := catalogue.Check(good); err != nil || !reflect.DeepEqual(got, good) {
		t.Fatalf("Check(parsed file) = %+v, %v", got, err)
	}
	bad := parse(t, small)
	bad.Departments[1].USCC = "111405220120804313"
	bad.Types[0].Fields[1].Sensitive = false // keeps mask: middle
	bad.UsageLists[0].Entries[0].Purposes = []string{" 身份核验 ", "身份核验"}
	_, err := catalogue.Check(bad)
	var ce *catalogue.Error
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("Check = %v, want 3 problems", err)
	}
	for i, want := range []string{"departments[1]", "types[0] 居民身份证 (11140522012080212P001).fields[1].mask", "types[0].purposes[1]"} {
		if !strings.Contains(ce.Problems[i].String(), want) {
			t.Errorf("problem %d = %q, want it to name %q", i, ce.Problems[i], want)
		}
	}
	// Normalised as Parse normalises: trimmed, issuer defaulted.
	raw := catalogue.Catalogue{Types: []catalogue.TypeEntry{{Type: licence.Type{Code: demo.TypeResidentID, Name: " 居民身份证 ",
		HolderKind: licence.HolderPerson, Fields: []licence.Field{{Key: "name", Label: "姓名", Type: "text"}}}}}}
	got, err := catalogue.Check(raw)
	if err != nil || got.Types[0].Name != "居民身份证" || !reflect.DeepEqual(got.Types[0].Issuers, []string{demo.USCCPublicSecurity}) {
		t.Fatalf("Check normalised %+v, %v", got.Types, err)
	}
}

func TestFormatError(t *testing.T) {
	for _, src := range []string{"departments: [", "departments:\n  - {nmae: x}\n"} { //nolint:misspell // the misspelling is the point
		_, err := catalogue.Parse(strings.NewReader(src))
		var fe *catalogue.FormatError
		if !errors.As(err, &fe) {
			t.Errorf("Parse(%q) = %v, want a FormatError", src, err)
		}
	}
}

// TestConfirmRefusesWritingNothing: an add of an entry on record, an edit
// of one that is not, and a plan other than the one shown all write
// nothing; the console's edits are audited under their own object.
func TestConfirmRefusesWritingNothing(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e env) {
		c := parse(t, small)
		first, err := catalogue.Apply(t.Context(), e.tx(), c, catalogue.Options{Actor: actor, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		shown := first.Digest()
		empty := e.counts(t)
		for name, confirm := range map[string]struct {
			fn   func(catalogue.Plan) error
			want error
		}{
			"edit of a department not on record": {catalogue.ExpectOnRecord(catalogue.KindDepartment, demo.USCCPublicSecurity), catalogue.ErrNotOnRecord},
			"another plan than the one shown":    {catalogue.ExpectDigest(strings.Repeat("0", 64)), catalogue.ErrPlanChanged},
		} {
			_, err := catalogue.Apply(t.Context(), e.tx(), c, catalogue.Options{Actor: actor, Confirm: confirm.fn})
			if !errors.Is(err, confirm.want) {
				t.Errorf("%s: %v, want %v", name, err, confirm.want)
			}
			if got := e.counts(t); !reflect.DeepEqual(got, empty) {
				t.Fatalf("%s wrote: %v", name, got)
			}
		}
		if _, err := catalogue.Apply(t.Context(), e.tx(), c, catalogue.Options{Actor: actor, Object: "catalogue:import",
			Confirm: catalogue.ExpectDigest(shown)}); err != nil {
			t.Fatalf("the plan shown: %v", err)
		}
		evs, err := e.st.AuditEvents(t.Context(), 0, 10)
		if err != nil || len(evs) != 1 || evs[0].Object != "catalogue:import" {
			t.Fatalf("audit: %+v, %v", evs, err)
		}
		// Now on record: adding again is refused, editing is not.
		one := catalogue.Catalogue{Departments: c.Departments[:1]}
		if _, err := catalogue.Apply(t.Context(), e.tx(), one, catalogue.Options{Actor: actor,
			Confirm: catalogue.ExpectCreated(catalogue.KindDepartment, demo.USCCPublicSecurity)}); !errors.Is(err, catalogue.ErrExists) {
			t.Fatalf("second add: %v", err)
		}
		one.Departments[0].Name = "阳城县公安局（新）"
		plan, err := catalogue.Apply(t.Context(), e.tx(), one, catalogue.Options{Actor: actor,
			Confirm: catalogue.ExpectOnRecord(catalogue.KindDepartment, demo.USCCPublicSecurity)})
		if err != nil || plan.Count(catalogue.KindDepartment, catalogue.Updated) != 1 {
			t.Fatalf("edit: %s, %v", plan.Summary(), err)
		}
	})
}
