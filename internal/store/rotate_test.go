package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/openapi"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/secure/securetest"
)

// The keys of a rotation: the test stores seal with the "old" SM4 pair
// (testSealer); part of their rows is turned into the pre-SM4 format with
// the legacy pair; the rotated sealer has a new pair and holds both older
// ones.
var (
	oldData, oldIndex       = bytes.Repeat([]byte{0x11}, 16), bytes.Repeat([]byte{0x22}, 32)
	newData, newIndex       = bytes.Repeat([]byte{0x33}, 16), bytes.Repeat([]byte{0x44}, 32)
	legacyData, legacyIndex = bytes.Repeat([]byte{0x55}, 32), bytes.Repeat([]byte{0x66}, 32)
)

func sealerWith(t testing.TB, opts ...secure.Option) *secure.Sealer {
	t.Helper()
	s, err := secure.NewSealer(newData, newIndex, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rotated returns s as an instance configured for the rotation sees it.
func rotated(t testing.TB, s *Store) *Store {
	t.Helper()
	r := *s
	r.sealer = sealerWith(t, secure.WithPrevious(oldData, oldIndex), secure.WithLegacy(legacyData, legacyIndex))
	return &r
}

// toLegacy rewrites every other holder and licence in the format of
// before SM4, as a database upgraded from then holds them.
func toLegacy(t *testing.T, s *Store) {
	t.Helper()
	ctx := testCtx(t)
	var holders []holderRow
	if err := s.q(ctx).Where("id % 2 = 0").Find(&holders).Error; err != nil {
		t.Fatal(err)
	}
	for _, h := range holders {
		idn, err := s.sealer.Decrypt(sealHolderIDNumber, h.IDNumberEnc)
		if err != nil {
			t.Fatal(err)
		}
		set := map[string]any{
			"id_number_enc": securetest.LegacySeal(legacyData, sealHolderIDNumber, idn),
			"id_number_idx": securetest.LegacyIndex(legacyIndex, sealHolderIDNumber, idn),
		}
		if h.PhoneEnc != "" {
			phone, err := s.sealer.Decrypt(sealHolderPhone, h.PhoneEnc)
			if err != nil {
				t.Fatal(err)
			}
			set["phone_enc"] = securetest.LegacySeal(legacyData, sealHolderPhone, phone)
		}
		if err := s.q(ctx).Table("holders").Where("id = ?", h.ID).Updates(set).Error; err != nil {
			t.Fatal(err)
		}
	}
	var lics []licenceRow
	if err := s.q(ctx).Where("id % 2 = 0").Find(&lics).Error; err != nil {
		t.Fatal(err)
	}
	for _, l := range lics {
		num, err := s.sealer.Decrypt(sealLicenceNumber, l.NumberEnc)
		if err != nil {
			t.Fatal(err)
		}
		face, err := s.sealer.Decrypt(sealLicenceFace, l.FaceEnc)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.q(ctx).Table("licences").Where("id = ?", l.ID).Updates(map[string]any{
			"number_enc": securetest.LegacySeal(legacyData, sealLicenceNumber, num),
			"number_idx": securetest.LegacyIndex(legacyIndex, sealLicenceNumber, l.TypeCode+"\x00"+strings.TrimSpace(num)),
			"face_enc":   securetest.LegacySeal(legacyData, sealLicenceFace, face),
		}).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// rotationFixture is a seeded store with an app, half its rows legacy and
// half sealed with the old SM4 pair, and what a check should find.
type rotationFixture struct {
	old      *Store
	holders  []licence.Holder
	licences []licence.Licence
	appID    string
	secret   string
}

func newRotationFixture(t *testing.T, s *Store) rotationFixture {
	t.Helper()
	ctx := testCtx(t)
	f := rotationFixture{old: s}
	var ids []int64
	if err := s.q(ctx).Table("holders").Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		h, err := s.Holder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		f.holders = append(f.holders, h)
		ls, err := s.LicencesByHolder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		f.licences = append(f.licences, ls...)
	}
	if len(f.holders) < 2 || len(f.licences) < 3 {
		t.Fatalf("demo data too small: %d holders, %d licences", len(f.holders), len(f.licences))
	}
	dept, err := s.Department(ctx, f.licences[0].IssuerID)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := openapi.AddApp(ctx, s, dept, "rotation test", audit.ActorCLI("app add"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f.appID, f.secret = cred.AppID, cred.AppSecret
	toLegacy(t, s)
	return f
}

// check reads and finds everything through st: every holder by ID number,
// every licence by id and by number, the app's secret.
func (f rotationFixture) check(t *testing.T, st *Store) {
	t.Helper()
	ctx := testCtx(t)
	for _, h := range f.holders {
		got, err := st.HolderByIDNumber(ctx, h.IDType, h.IDNumber)
		if err != nil || got.ID != h.ID || got.Phone != h.Phone {
			t.Fatalf("holder %d by ID number: %+v, %v", h.ID, got, err)
		}
	}
	for _, l := range f.licences {
		got, err := st.Licence(ctx, l.ID)
		if err != nil || got.Number != l.Number || got.Face["name"] != l.Face["name"] {
			t.Fatalf("licence %d: %v", l.ID, err)
		}
		cur, err := st.CurrentByNumber(ctx, l.TypeCode, l.Number)
		if err != nil || len(cur) != 1 || cur[0].ID != l.ID {
			t.Fatalf("licence %d by number: %d found, %v", l.ID, len(cur), err)
		}
	}
	_, secret, err := st.AppSecret(ctx, f.appID)
	if err != nil || secret != f.secret {
		t.Fatalf("app secret: %v", err)
	}
}

func staleTotal(t *testing.T, st *Store) int64 {
	t.Helper()
	counts, err := st.StaleRows(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range counts {
		n += c.Total
	}
	return n
}

func TestRotateKeysResealsEverything(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		f := newRotationFixture(t, s)
		r := rotated(t, s)

		before := staleTotal(t, r)
		if want := count(t, s, "holders") + count(t, s, "licences") + 1; before != want {
			t.Fatalf("stale rows before = %d, want every holder, licence and app (%d)", before, want)
		}
		f.check(t, r)

		var lines []RotateProgress
		done, err := r.RotateKeys(ctx, 2, func(p RotateProgress) {
			lines = append(lines, p)
			f.check(t, r) // lookups work while rotation is half-way
		})
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, d := range done {
			if d.Done != d.Total {
				t.Fatalf("%s: re-sealed %d of %d", d.Table, d.Done, d.Total)
			}
			total += d.Done
		}
		if total != before || len(lines) < 3 || lines[0].Done != 2 {
			t.Fatalf("re-sealed %d of %d in %d batches (first %+v)", total, before, len(lines), lines[0])
		}
		if n := staleTotal(t, r); n != 0 {
			t.Fatalf("%d rows still stale after rotation", n)
		}

		// Nothing needs the older keys any more: an instance holding only
		// the new pair reads and finds everything.
		only := *s
		only.sealer = sealerWith(t)
		f.check(t, &only)
		var oldIdx int64
		if err := s.q(ctx).Table("holders").Where("id_number_idx NOT LIKE ?", only.sealer.IndexPrefix()+"%").Count(&oldIdx).Error; err != nil || oldIdx != 0 {
			t.Fatalf("holders with an older index: %d, %v", oldIdx, err)
		}

		again, err := r.RotateKeys(ctx, 2, func(RotateProgress) { t.Fatal("a finished rotation found work") })
		if err != nil || len(again) != 3 || again[0].Total != 0 {
			t.Fatalf("second rotation: %+v, %v", again, err)
		}
	}))
}

func TestRotateKeysResumesAfterInterruption(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		f := newRotationFixture(t, s)
		r := rotated(t, s)
		before := staleTotal(t, r)

		ctx, cancel := context.WithCancel(testCtx(t))
		_, err := r.RotateKeys(ctx, 1, func(p RotateProgress) {
			if p.Done == 2 {
				cancel() // the operator's Ctrl-C, or the pod being rescheduled
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted rotation: %v, want context.Canceled", err)
		}
		left := staleTotal(t, r)
		if left != before-2 {
			t.Fatalf("after the interruption %d stale rows, want %d", left, before-2)
		}
		f.check(t, r)

		done, err := r.RotateKeys(testCtx(t), 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, d := range done {
			total += d.Done
		}
		if total != left || staleTotal(t, r) != 0 {
			t.Fatalf("resumed rotation re-sealed %d of %d", total, left)
		}
		only := *s
		only.sealer = sealerWith(t)
		f.check(t, &only)
	}))
}

// TestRotateKeysNeedsTheOlderKeys: a row the sealer cannot open stops the
// rotation with the row named, and nothing of that batch is written.
func TestRotateKeysNeedsTheOlderKeys(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		newRotationFixture(t, s)
		noLegacy := *s
		noLegacy.sealer = sealerWith(t, secure.WithPrevious(oldData, oldIndex))
		before := staleTotal(t, &noLegacy)
		_, err := noLegacy.RotateKeys(testCtx(t), 1000, nil)
		if !errors.Is(err, secure.ErrUnknownKey) || !strings.Contains(err.Error(), "holder") {
			t.Fatalf("rotation without the legacy keys: %v", err)
		}
		if staleTotal(t, &noLegacy) != before {
			t.Fatal("a failed batch wrote rows")
		}
	}))
}

// TestNoSecondHolderWhileRotating: the unique key sees only the current
// index, so a holder still carrying an older one must be found before a
// second holder with the same ID number is created; an import must match
// a licence still indexed with an older key instead of importing it again.
func TestNoSecondHolderWhileRotating(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		f := newRotationFixture(t, s)
		r := rotated(t, s)
		for _, h := range f.holders {
			if _, err := r.CreateHolder(ctx, h); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("holder %d created again under the new index: %v", h.ID, err)
			}
		}
		for _, l := range f.licences {
			h, err := r.Holder(ctx, l.HolderID)
			if err != nil {
				t.Fatal(err)
			}
			issuer, err := r.Department(ctx, l.IssuerID)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := r.ImportBatch(ctx, importer.Batch{Issuer: issuer, Actor: "cli:import", Source: "t.csv", DryRun: true,
				Items: []importer.Item{{Row: 2, Req: licence.IssueRequest{
					TypeCode: l.TypeCode, Number: l.Number, Holder: h, IssuedOn: l.IssuedOn, ValidFrom: l.ValidFrom,
					ValidUntil: l.ValidUntil, Fields: l.Face,
				}}}})
			if err != nil || outs[0] != importer.Unchanged {
				t.Fatalf("licence %d imported again: %v, %v", l.ID, outs, err)
			}
		}
	}))
}

// TestCheckIndexKeys: an instance that does not hold every index key the
// rows use refuses to start, naming the setting to add; with the keys, or
// once rotation has finished, it starts.
func TestCheckIndexKeys(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		newRotationFixture(t, s) // half legacy, half under the old SM4 pair
		if err := s.CheckIndexKeys(ctx); err == nil || !strings.Contains(err.Error(), "legacy_index_key") {
			t.Fatalf("store sealing with the old pair, legacy rows present: %v", err)
		}
		noPrevious := *s
		noPrevious.sealer = sealerWith(t, secure.WithLegacy(legacyData, legacyIndex))
		if err := noPrevious.CheckIndexKeys(ctx); !errors.Is(err, ErrIndexKeyMissing) || !strings.Contains(err.Error(), "previous_index_key") {
			t.Fatalf("without the previous index key: %v", err)
		}
		r := rotated(t, s)
		if err := r.CheckIndexKeys(ctx); err != nil {
			t.Fatalf("with every older key: %v", err)
		}
		if _, err := r.RotateKeys(ctx, 1000, nil); err != nil {
			t.Fatal(err)
		}
		newOnly := *s
		newOnly.sealer = sealerWith(t)
		if err := newOnly.CheckIndexKeys(ctx); err != nil {
			t.Fatalf("after rotation, new keys alone: %v", err)
		}
	}))
}
