package licence_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// lifecycleEnv is a seeded store on one driver with the lifecycle service
// over it, acting for the real-estate centre (issuer of 不动产权证书).
type lifecycleEnv struct {
	st     *store.Store
	svc    *licence.Lifecycle
	issuer licence.Department
	now    time.Time
}

func newLifecycleEnv(t *testing.T, driver string) *lifecycleEnv {
	t.Helper()
	now := time.Now()
	st := storetest.Seeded(t, driver, storetest.DSN(t, driver), now)
	issuer, err := st.DepartmentByUSCC(t.Context(), demo.USCCRealEstateCentre)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := licence.NewLifecycle(st, st, st, storetest.SealDemo(t, st, func() time.Time { return now }).Signing, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return &lifecycleEnv{st: st, svc: svc, issuer: issuer, now: now}
}

func (e *lifecycleEnv) request(number string) licence.IssueRequest {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, store.DateLocation())
	return licence.IssueRequest{
		TypeCode: demo.TypeRealEstateTitle, Number: number,
		Holder:   licence.Holder{Name: demo.ZhangsanName, IDType: "111", IDNumber: demo.ZhangsanIDNumber},
		IssuedOn: day, ValidFrom: day,
		Fields: map[string]string{"right_holder": demo.ZhangsanName, "location": "阳城县凤城镇测试路1号", "area": "100㎡"},
	}
}

func TestLifecycle(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newLifecycleEnv(t, driver)
			ctx := t.Context()
			actor := "cli:test"

			rec, err := e.svc.Issue(ctx, e.issuer, actor, e.request("晋(2024)阳城县不动产权第0009001号"))
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if rec.Version != 1 || rec.Status != licence.StatusValid || len(rec.History) != 1 || rec.History[0].Action != licence.ActionIssue {
				t.Fatalf("issued record = %+v", rec)
			}
			holder, err := e.st.HolderByIDNumber(ctx, "111", demo.ZhangsanIDNumber)
			if err != nil || rec.HolderID != holder.ID {
				t.Fatalf("issued to holder %d, want the existing 张三 %d (%v)", rec.HolderID, holder.ID, err)
			}

			// The same number again is a duplicate, not a second licence.
			if _, err := e.svc.Issue(ctx, e.issuer, actor, e.request("晋(2024)阳城县不动产权第0009001号")); !errors.Is(err, licence.ErrDuplicate) {
				t.Fatalf("second issue of the same number: %v, want ErrDuplicate", err)
			}
			// A type the department does not issue.
			other := e.request("X-1")
			other.TypeCode = demo.TypeDrivingLicence
			if _, err := e.svc.Issue(ctx, e.issuer, actor, other); !errors.Is(err, licence.ErrTypeNotIssued) {
				t.Fatalf("issue of another department's type: %v, want ErrTypeNotIssued", err)
			}
			// Schema violations come back together.
			bad := e.request("")
			bad.Holder.IDNumber = "140522198503120017"
			bad.Fields["nonsense"] = "x"
			var ve *licence.ValidationError
			if _, err := e.svc.Issue(ctx, e.issuer, actor, bad); !errors.As(err, &ve) || len(ve.Details) != 3 {
				t.Fatalf("invalid request: %v, want 3 details", err)
			}
			// Another name under a known ID number.
			mismatch := e.request("晋(2024)阳城县不动产权第0009002号")
			mismatch.Holder.Name = "张叁"
			if _, err := e.svc.Issue(ctx, e.issuer, actor, mismatch); !errors.As(err, &ve) || ve.Details[0].Code != "holder_mismatch" {
				t.Fatalf("name mismatch: %v", err)
			}

			steps := []struct {
				req        licence.EventRequest
				wantStatus licence.Status
				wantAnnot  []licence.Annotation
				wantErr    error
			}{
				{licence.EventRequest{Action: licence.ActionSuspend}, "", nil, licence.ErrReasonRequired},
				{licence.EventRequest{Action: licence.ActionSuspend, Reason: "查封"}, licence.StatusSuspended, nil, nil},
				{licence.EventRequest{Action: licence.ActionSuspend, Reason: "again"}, "", nil, licence.ErrIllegalTransition},
				{licence.EventRequest{Action: licence.ActionPledge}, "", nil, licence.ErrIllegalTransition},
				{licence.EventRequest{Action: licence.ActionRestore, Reason: "解封"}, licence.StatusValid, nil, nil},
				{licence.EventRequest{Action: licence.ActionPledge}, licence.StatusValid, []licence.Annotation{licence.AnnotPledged}, nil},
				{licence.EventRequest{Action: licence.ActionPledge}, "", nil, licence.ErrIllegalTransition},
				{licence.EventRequest{Action: licence.ActionReleasePledge}, licence.StatusValid, []licence.Annotation{}, nil},
				{licence.EventRequest{Action: licence.ActionReportLost}, licence.StatusLost, nil, nil},
				{licence.EventRequest{Action: licence.ActionRecover}, licence.StatusValid, nil, nil},
				{licence.EventRequest{Action: "explode"}, "", nil, &licence.ValidationError{}},
			}
			for i, s := range steps {
				got, err := e.svc.Apply(ctx, e.issuer, actor, rec.ID, s.req)
				if s.wantErr != nil {
					var ve, wantVE *licence.ValidationError
					if errors.As(s.wantErr, &wantVE) && errors.As(err, &ve) {
						continue
					}
					if !errors.Is(err, s.wantErr) {
						t.Fatalf("step %d %s: %v, want %v", i, s.req.Action, err, s.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d %s: %v", i, s.req.Action, err)
				}
				if got.Status != s.wantStatus || (s.wantAnnot != nil && len(got.Annotations) != len(s.wantAnnot)) {
					t.Fatalf("step %d %s: status %s annotations %v", i, s.req.Action, got.Status, got.Annotations)
				}
			}

			// A transition error names from and to.
			_, err = e.svc.Apply(ctx, e.issuer, actor, rec.ID, licence.EventRequest{Action: licence.ActionRestore, Reason: "x"})
			var te *licence.TransitionError
			if !errors.As(err, &te) || te.From != licence.StatusValid || te.To != licence.StatusValid || !strings.Contains(err.Error(), "valid → valid") {
				t.Fatalf("restore of a valid licence: %v", err)
			}

			// A revision refused inside its transaction reports why and
			// changes nothing (renew needs the new last day).
			if _, err := e.svc.Apply(ctx, e.issuer, actor, rec.ID, licence.EventRequest{Action: licence.ActionRenew}); !errors.As(err, &ve) || ve.Details[0].Field != "valid_until" {
				t.Fatalf("renew without valid_until: %v", err)
			}
			if cur, err := e.st.Licence(ctx, rec.ID); err != nil || cur.Status != licence.StatusValid {
				t.Fatalf("after a refused renewal: %s, %v", cur.Status, err)
			}

			// Update makes version 2; version 1 is superseded and stays so.
			v2, err := e.svc.Apply(ctx, e.issuer, actor, rec.ID, licence.EventRequest{Action: licence.ActionUpdate, Reason: "面积更正",
				Fields: map[string]string{"area": "101㎡"}})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if v2.ID == rec.ID || v2.Version != 2 || v2.Face["area"] != "101㎡" || v2.Face["location"] != "阳城县凤城镇测试路1号" || v2.LineageID != rec.ID {
				t.Fatalf("version 2 = %+v", v2.Licence)
			}
			if !strings.HasSuffix(v2.Identifier[:len(v2.Identifier)-2], ".002") {
				t.Fatalf("version 2 identifier %s does not end in .002.<check>", v2.Identifier)
			}
			old, err := e.st.Licence(ctx, rec.ID)
			if err != nil || old.Status != licence.StatusSuperseded {
				t.Fatalf("version 1 after update: %s, %v", old.Status, err)
			}
			if a := licence.Assess(old, e.now); a.Valid || a.Colour != licence.Red || a.ReasonCode != licence.ReasonSuperseded {
				t.Fatalf("version 1 assesses as %+v", a)
			}
			if _, err := e.svc.Apply(ctx, e.issuer, actor, rec.ID, licence.EventRequest{Action: licence.ActionSuspend, Reason: "x"}); !errors.Is(err, licence.ErrIllegalTransition) {
				t.Fatalf("suspend of a superseded version: %v", err)
			}
			found, err := e.svc.Find(ctx, e.issuer, demo.TypeRealEstateTitle, "晋(2024)阳城县不动产权第0009001号")
			if err != nil || len(found) != 1 || found[0].ID != v2.ID {
				t.Fatalf("Find = %+v, %v; want version 2 only", found, err)
			}
			// The history spans both versions.
			if n := len(v2.History); n != 8 || v2.History[n-1].Action != licence.ActionUpdate || v2.History[n-1].Version != 2 {
				t.Fatalf("history has %d entries: %+v", n, v2.History)
			}

			// Another department sees none of it.
			police, err := e.st.DepartmentByUSCC(ctx, demo.USCCCityTrafficPolice)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Get(ctx, police, v2.ID); !errors.Is(err, licence.ErrNotFound) {
				t.Fatalf("another department's Get: %v", err)
			}
			if _, err := e.svc.Apply(ctx, police, actor, v2.ID, licence.EventRequest{Action: licence.ActionSuspend, Reason: "x"}); !errors.Is(err, licence.ErrNotFound) {
				t.Fatalf("another department's Apply: %v", err)
			}

			// Every change is in the audit chain, and the chain verifies.
			if n, err := e.st.VerifyAudit(ctx); err != nil || n < 8 {
				t.Fatalf("VerifyAudit = %d, %v", n, err)
			}
		})
	}
}

// TestLifecycleConcurrentEvents: ten pledges/releases racing on one licence
// serialise on its row; none is lost and the history agrees with the state.
func TestLifecycleConcurrentEvents(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newLifecycleEnv(t, driver)
			ctx := t.Context()
			rec, err := e.svc.Issue(ctx, e.issuer, "cli:test", e.request("晋(2024)阳城县不动产权第0009100号"))
			if err != nil {
				t.Fatal(err)
			}
			const n = 10
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = e.svc.Apply(ctx, e.issuer, fmt.Sprintf("cli:worker%d", i), rec.ID, licence.EventRequest{Action: licence.ActionSuspend, Reason: "并发"})
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, licence.ErrIllegalTransition):
					t.Fatalf("concurrent suspend: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d concurrent suspends succeeded, want exactly 1", ok)
			}
			got, err := e.svc.Get(ctx, e.issuer, rec.ID)
			if err != nil || got.Status != licence.StatusSuspended || len(got.History) != 2 {
				t.Fatalf("after the race: %s with %d history lines (%v)", got.Status, len(got.History), err)
			}
		})
	}
}

// TestLifecycleFailedChangeLeavesNothing: a change that fails after its
// writes began leaves neither state nor history nor audit behind.
func TestLifecycleFailedChangeLeavesNothing(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newLifecycleEnv(t, driver)
			ctx := t.Context()
			rec, err := e.svc.Issue(ctx, e.issuer, "cli:test", e.request("晋(2024)阳城县不动产权第0009200号"))
			if err != nil {
				t.Fatal(err)
			}
			before, err := e.st.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			_, err = e.st.UpdateLicence(ctx, rec.ID, func(l *licence.Licence) (licence.Change, error) {
				l.Status = licence.StatusRevoked
				return licence.Change{}, boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("UpdateLicence = %v", err)
			}
			// An audit append that fails (no actor) rolls back the status write.
			_, err = e.st.UpdateLicence(ctx, rec.ID, func(l *licence.Licence) (licence.Change, error) {
				l.Status = licence.StatusRevoked
				return licence.Change{History: licence.HistoryEntry{Action: "revoke", At: e.now, EffectiveAt: e.now}}, nil
			})
			if err == nil {
				t.Fatal("UpdateLicence with an invalid audit event succeeded")
			}
			got, err := e.svc.Get(ctx, e.issuer, rec.ID)
			if err != nil || got.Status != licence.StatusValid || len(got.History) != 1 {
				t.Fatalf("after failed changes: %s, %d history lines, %v", got.Status, len(got.History), err)
			}
			if after, err := e.st.VerifyAudit(ctx); err != nil || after != before {
				t.Fatalf("audit entries %d → %d (%v)", before, after, err)
			}
		})
	}
}
