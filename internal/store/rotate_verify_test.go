package store

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/secure/securetest"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/verify"
)

const rotationHolders = 10_000

// residentID returns the n-th of a run of distinct resident ID numbers with
// valid GB 11643 check characters.
func residentID(n int) string {
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/500)
	body := "140522" + birth.Format("20060102") + fmt.Sprintf("%03d", n%500)
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range body {
		sum += int(c-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// insertLegacyHolders writes n holders, each with a driving licence, in
// the format of before SM4, with multi-row INSERTs. It returns the
// licences' ids and their holders' ID numbers by licence id.
func insertLegacyHolders(t *testing.T, s *Store, n int) map[int64]string {
	t.Helper()
	ctx := testCtx(t)
	issuer, err := s.DepartmentByUSCC(ctx, demo.USCCCityTrafficPolice)
	if err != nil {
		t.Fatal(err)
	}
	var firstHolder int64
	if err := s.q(ctx).Table("holders").Select("COALESCE(MAX(id), 0)").Scan(&firstHolder).Error; err != nil {
		t.Fatal(err)
	}
	now := utc(time.Now())
	const chunk = 1000
	for start := 0; start < n; start += chunk {
		var values [][]any
		for i := start; i < min(start+chunk, n); i++ {
			idn := residentID(i)
			values = append(values, []any{"person", fmt.Sprintf("持证人%05d", i), IDTypeResident,
				securetest.LegacySeal(legacyData, sealHolderIDNumber, idn), securetest.LegacyIndex(legacyIndex, sealHolderIDNumber, idn),
				securetest.LegacySeal(legacyData, sealHolderPhone, fmt.Sprintf("138%08d", i)), now})
		}
		if err := s.insertValues(ctx, "holders", []string{"kind", "name", "id_type", "id_number_enc", "id_number_idx", "phone_enc", "created_at"}, values, ""); err != nil {
			t.Fatal(err)
		}
	}
	var holderIDs []int64
	if err := s.q(ctx).Table("holders").Where("id > ?", firstHolder).Order("id").Pluck("id", &holderIDs).Error; err != nil || len(holderIDs) != n {
		t.Fatalf("inserted holders: %d, %v", len(holderIDs), err)
	}
	validUntil := time.Now().AddDate(3, 0, 0)
	for start := 0; start < n; start += chunk {
		var values [][]any
		for i := start; i < min(start+chunk, n); i++ {
			number := residentID(i)
			id, err := ident.LicenceIdentifier(demo.TypeDrivingLicence, issuer.USCC, fmt.Sprintf("RT%08d", i), 1)
			if err != nil {
				t.Fatal(err)
			}
			face, _ := json.Marshal(map[string]string{"name": fmt.Sprintf("持证人%05d", i), "licence_no": number, "vehicle_class": "C1"})
			values = append(values, []any{id, securetest.LegacySeal(legacyData, sealLicenceNumber, number),
				securetest.LegacyIndex(legacyIndex, sealLicenceNumber, demo.TypeDrivingLicence+"\x00"+number),
				demo.TypeDrivingLicence, holderIDs[i], issuer.ID, dateOf(now.AddDate(-1, 0, 0)), dateOf(now.AddDate(-1, 0, 0)),
				dateOf(validUntil), string(licence.StatusValid), "[]", 1, securetest.LegacySeal(legacyData, sealLicenceFace, string(face)), "", now, now,
				licence.ActionImport, nil, nil, nil, ""})
		}
		if err := s.insertValues(ctx, "licences", licenceColumns, values, ""); err != nil {
			t.Fatal(err)
		}
	}
	var rows []licenceRow
	if err := s.q(ctx).Select("id, holder_id").Where("holder_id > ?", firstHolder).Find(&rows).Error; err != nil || len(rows) != n {
		t.Fatalf("inserted licences: %d, %v", len(rows), err)
	}
	nth := make(map[int64]int, n)
	for i, id := range holderIDs {
		nth[id] = i
	}
	out := make(map[int64]string, n)
	for _, r := range rows {
		out[r.ID] = residentID(nth[r.HolderID])
	}
	return out
}

// TestKeyRotationOver10000HoldersWhileVerifying: 10,000 holders and their
// licences from before SM4 are re-sealed by a rotation while officers keep
// verifying show codes of them and holders keep being looked up by ID
// number, through a store configured as a serving instance is during a
// rotation. Not one verification may fail. Between batches the rotation
// waits until a few more verifications have completed, so they interleave
// with it from its first batch to its last whatever the machine's speed.
func TestKeyRotationOver10000HoldersWhileVerifying(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		licences := insertLegacyHolders(t, s, rotationHolders)
		ids := make([]int64, 0, len(licences))
		for id := range licences {
			ids = append(ids, id)
		}
		serving, rotating := rotated(t, s), rotated(t, s)

		rc := redistest.Open(t)
		scStore, err := redisx.NewShowCodeStore(rc)
		if err != nil {
			t.Fatal(err)
		}
		codes, err := showcode.NewService(scStore, showcode.Options{PublicURL: "http://127.0.0.1:8080"})
		if err != nil {
			t.Fatal(err)
		}
		verifier, err := verify.NewService(codes, serving, serving, redisx.NewCounter(rc), verify.Options{
			PublicURL: "http://127.0.0.1:8080", Key: rc.Key, Audit: serving,
			Limits: verify.Limits{PerOfficer: 5, PerIP: 5, Window: time.Hour},
		})
		if err != nil {
			t.Fatal(err)
		}
		police, err := serving.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
		if err != nil {
			t.Fatal(err)
		}

		var (
			verified atomic.Int64
			stop     = make(chan struct{})
			wg       sync.WaitGroup
			failMu   sync.Mutex
			failures []string
		)
		fail := func(format string, a ...any) {
			failMu.Lock()
			defer failMu.Unlock()
			failures = append(failures, fmt.Sprintf(format, a...))
		}
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; ; i += 2 {
					select {
					case <-stop:
						return
					default:
					}
					id := ids[(i*7919)%len(ids)]
					l, err := serving.Licence(ctx, id)
					if err != nil {
						fail("licence %d: %v", id, err)
						return
					}
					code, err := codes.Mint(ctx, l.HolderID, l.ID, showcode.ScopeBasic)
					if err != nil {
						fail("mint: %v", err)
						return
					}
					res, err := verifier.Verify(ctx, verify.Request{OfficerOpenID: demo.OfficerPolice, DepartmentID: police.ID,
						Code: code.Token, Purpose: demo.PurposeTrafficEnforcement, ClientIP: "192.0.2.10"})
					if err != nil || !res.Valid {
						fail("verification of licence %d: valid=%v reason=%s err=%v", id, res.Valid, res.ReasonCode, err)
						return
					}
					if h, err := serving.HolderByIDNumber(ctx, IDTypeResident, licences[id]); err != nil || h.ID != l.HolderID {
						fail("holder of licence %d by ID number: %v", id, err)
						return
					}
					verified.Add(1)
				}
			}()
		}

		var batches int
		done, err := rotating.RotateKeys(ctx, 500, func(RotateProgress) {
			batches++
			want := verified.Load() + 2
			for verified.Load() < want {
				failMu.Lock()
				stuck := len(failures) > 0
				failMu.Unlock()
				if stuck || ctx.Err() != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
		close(stop)
		wg.Wait()
		t.Logf("rotation: %d batches, %d verifications beside them", batches, verified.Load())
		if len(failures) > 0 {
			t.Fatalf("%d verifications failed during rotation, first: %s", len(failures), failures[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		var resealed int64
		for _, d := range done {
			resealed += d.Done
		}
		if resealed < 2*rotationHolders || staleTotal(t, rotating) != 0 {
			t.Fatalf("re-sealed %d rows, %d still stale", resealed, staleTotal(t, rotating))
		}
		if verified.Load() < int64(2*batches) {
			t.Fatalf("%d verifications over %d batches", verified.Load(), batches)
		}

		// Afterwards an instance holding only the new keys finds them all.
		only := *s
		only.sealer = sealerWith(t)
		for _, id := range ids[:50] {
			if _, err := only.HolderByIDNumber(ctx, IDTypeResident, licences[id]); err != nil {
				t.Fatalf("holder of licence %d with the new keys alone: %v", id, err)
			}
			if _, err := only.Licence(ctx, id); err != nil {
				t.Fatalf("licence %d with the new keys alone: %v", id, err)
			}
		}
	}))
}
