package store

import (
	"github.com/yangcheng-county/elicence/internal/audit"

	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/secure"
)

func TestHolderByIDNumberUsesBlindIndexAndNothingIsPlain(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		tests := []struct {
			name, idType, number string
			wantName             string
		}{
			{"exact", IDTypeResident, demo.ZhangsanIDNumber, demo.ZhangsanName},
			{"surrounding spaces", IDTypeResident, " " + demo.LisiIDNumber + "\t", demo.LisiName},
			{"unknown number", IDTypeResident, "140522200001010011", ""},
			{"other id type", IDTypeUSCC, demo.ZhangsanIDNumber, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h, err := s.HolderByIDNumber(ctx, tt.idType, tt.number)
				if tt.wantName == "" {
					if !errors.Is(err, licence.ErrNotFound) {
						t.Fatalf("HolderByIDNumber = %+v, %v; want ErrNotFound", h, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("HolderByIDNumber: %v", err)
				}
				if h.Name != tt.wantName || h.IDNumber != strings.TrimSpace(tt.number) || h.Phone == "" || h.Kind != licence.HolderPerson {
					t.Fatalf("holder = %+v", h)
				}
			})
		}

		// A store holding another index key cannot find the holder: the
		// index is keyed, not a plain hash anyone can recompute.
		other, err := secure.NewSealer(bytes.Repeat([]byte{0x11}, 16), bytes.Repeat([]byte{0x33}, 32))
		if err != nil {
			t.Fatal(err)
		}
		o := *s
		o.sealer = other
		if _, err := o.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber); !errors.Is(err, licence.ErrNotFound) {
			t.Fatalf("lookup with another index key: %v, want ErrNotFound", err)
		}

		// Neither the raw holder columns nor the licence columns hold an
		// ID number or phone in plain text (nor a recognisable part of one).
		var holders []map[string]any
		if err := s.db.WithContext(ctx).Raw("SELECT * FROM holders").Scan(&holders).Error; err != nil {
			t.Fatal(err)
		}
		var licences []map[string]any
		if err := s.db.WithContext(ctx).Raw("SELECT * FROM licences").Scan(&licences).Error; err != nil {
			t.Fatal(err)
		}
		if len(holders) != 2 || len(licences) != 5 {
			t.Fatalf("raw rows: %d holders, %d licences", len(holders), len(licences))
		}
		secrets := []string{demo.ZhangsanIDNumber, demo.LisiIDNumber, "198503120016", demo.ZhangsanPhone, demo.LisiPhone, "凤栖路", "滨河小区"}
		for _, rows := range [][]map[string]any{holders, licences} {
			for _, row := range rows {
				for col, v := range row {
					var str string
					switch x := v.(type) {
					case string:
						str = x
					case []byte:
						str = string(x)
					default:
						continue
					}
					for _, sec := range secrets {
						if strings.Contains(str, sec) {
							t.Fatalf("column %s holds %q in plain text", col, sec)
						}
					}
				}
			}
		}
		var direct int64
		if err := s.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM holders WHERE id_number_enc = ? OR id_number_idx = ?", demo.ZhangsanIDNumber, demo.ZhangsanIDNumber).Scan(&direct).Error; err != nil || direct != 0 {
			t.Fatalf("plain ID number matched a column: %d, %v", direct, err)
		}
	}))
}

func TestCreateHolderValidatesAndRejectsDuplicates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		first, err := s.CreateHolder(ctx, licence.Holder{Kind: licence.HolderPerson, Name: "赵六", IDType: IDTypeResident, IDNumber: "11010519491231002x", Phone: "13900000000"})
		if err != nil {
			t.Fatalf("CreateHolder: %v", err)
		}
		if first.ID == 0 || first.IDNumber != "11010519491231002X" {
			t.Fatalf("created %+v: want an id and the normalised number", first)
		}
		got, err := s.HolderByIDNumber(ctx, IDTypeResident, "11010519491231002x")
		if err != nil || got != first {
			t.Fatalf("lookup with lower-case x = %+v, %v; want %+v", got, err, first)
		}
		tests := []struct {
			name string
			h    licence.Holder
			dup  bool
		}{
			{"same number again", licence.Holder{Kind: licence.HolderPerson, Name: "赵六", IDType: IDTypeResident, IDNumber: "11010519491231002X"}, true},
			{"bad check digit", licence.Holder{Kind: licence.HolderPerson, Name: "钱七", IDType: IDTypeResident, IDNumber: "110105194912310021"}, false},
			{"bad uscc", licence.Holder{Kind: licence.HolderOrganisation, Name: "某公司", IDType: IDTypeUSCC, IDNumber: "91140522MA0000000A"}, false},
			{"no name", licence.Holder{Kind: licence.HolderPerson, IDType: IDTypeResident, IDNumber: demo.LisiIDNumber}, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.CreateHolder(ctx, tt.h)
				if err == nil {
					t.Fatal("CreateHolder succeeded")
				}
				if errors.Is(err, ErrDuplicate) != tt.dup {
					t.Fatalf("err = %v, want duplicate=%v", err, tt.dup)
				}
			})
		}
		if n := count(t, s, "holders"); n != 1 {
			t.Fatalf("holders = %d, want 1", n)
		}
	})
}

func TestLicencesOwnershipAndLookups(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		zs, err := s.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := s.HolderByIDNumber(ctx, IDTypeResident, demo.LisiIDNumber)
		if err != nil {
			t.Fatal(err)
		}
		zl, err := s.LicencesByHolder(ctx, zs.ID)
		if err != nil {
			t.Fatal(err)
		}
		ll, err := s.LicencesByHolder(ctx, ls.ID)
		if err != nil {
			t.Fatal(err)
		}
		types := func(ls []licence.Licence) []string {
			var out []string
			for _, l := range ls {
				out = append(out, l.TypeCode)
			}
			return out
		}
		if want := []string{demo.TypeResidentID, demo.TypeDrivingLicence, demo.TypeRealEstateTitle}; !reflect.DeepEqual(types(zl), want) {
			t.Fatalf("张三's licences = %v, want %v", types(zl), want)
		}
		if want := []string{demo.TypeResidentID, demo.TypeDrivingLicence}; !reflect.DeepEqual(types(ll), want) {
			t.Fatalf("李四's licences = %v, want %v", types(ll), want)
		}
		for _, l := range zl {
			if l.HolderID != zs.ID {
				t.Fatalf("licence %d of 张三's list belongs to holder %d", l.ID, l.HolderID)
			}
		}
		// Fetching another holder's licence by id works: the caller must
		// compare HolderID, and the value it compares with is right.
		got, err := s.Licence(ctx, ll[1].ID)
		if err != nil || got.HolderID != ls.ID || got.HolderID == zs.ID {
			t.Fatalf("Licence(%d) = holder %d, %v", ll[1].ID, got.HolderID, err)
		}
		if !reflect.DeepEqual(got, ll[1]) {
			t.Fatalf("Licence and LicencesByHolder disagree:\n%+v\n%+v", got, ll[1])
		}
		if none, err := s.LicencesByHolder(ctx, 987654); err != nil || len(none) != 0 {
			t.Fatalf("unknown holder: %v, %v; want empty", none, err)
		}

		byID, err := s.LicenceByIdentifier(ctx, zl[1].Identifier)
		if err != nil || byID.ID != zl[1].ID {
			t.Fatalf("LicenceByIdentifier = %d, %v", byID.ID, err)
		}
		byNum, err := s.CurrentByNumber(ctx, demo.TypeDrivingLicence, demo.ZhangsanIDNumber)
		if err != nil || len(byNum) != 1 || byNum[0].ID != zl[1].ID {
			t.Fatalf("CurrentByNumber = %v, %v", byNum, err)
		}
		if other, err := s.CurrentByNumber(ctx, demo.TypeRealEstateTitle, demo.ZhangsanIDNumber); err != nil || len(other) != 0 {
			t.Fatalf("number index must be per type: %v, %v", other, err)
		}
	}))
}

func TestUpdateLicence(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		zs, _ := s.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber)
		ls, _ := s.LicencesByHolder(ctx, zs.ID)
		re := ls[2]
		mortgage := func(l *licence.Licence) (licence.Change, error) {
			l.Annotations = []licence.Annotation{licence.AnnotMortgaged}
			return licence.Change{
				History: licence.HistoryEntry{Action: "pledge", FromStatus: l.Status, ToStatus: l.Status, Actor: "cli:test", At: demoNow, EffectiveAt: demoNow},
				Audit:   audit.Event{Actor: "cli:test", Action: "licence.pledge"},
			}, nil
		}
		if _, err := s.UpdateLicence(ctx, re.ID, mortgage); err != nil {
			t.Fatal(err)
		}
		// The same change twice: MySQL reports no changed rows, which
		// must not read as "not found".
		if _, err := s.UpdateLicence(ctx, re.ID, mortgage); err != nil {
			t.Fatalf("repeated change: %v", err)
		}
		got, err := s.Licence(ctx, re.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a := licence.Assess(got, demoNow); a.Colour != licence.Amber || a.ReasonCode != licence.ReasonMortgaged {
			t.Fatalf("mortgaged title assesses as %+v", a)
		}
		if h, err := s.History(ctx, re.ID); err != nil || len(h) != 2 || h[1].Action != "pledge" || h[1].Actor != "cli:test" {
			t.Fatalf("History = %+v, %v", h, err)
		}
		if _, err := s.UpdateLicence(ctx, 987654, mortgage); !errors.Is(err, licence.ErrNotFound) {
			t.Fatalf("unknown licence: %v", err)
		}
	}))
}

func TestCreateLicenceValidates(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		zs, _ := s.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber)
		issuer, _ := s.DepartmentByUSCC(ctx, demo.USCCMarketRegulation)
		id, err := ident.LicenceIdentifier(demo.TypeQualification, issuer.USCC, "Q1", 1)
		if err != nil {
			t.Fatal(err)
		}
		good := licence.Licence{Identifier: id, Number: "Q-1", TypeCode: demo.TypeQualification, HolderID: zs.ID, IssuerID: issuer.ID,
			IssuedOn: shanghaiDate(2020, 1, 1), ValidFrom: shanghaiDate(2020, 1, 1)}
		tests := []struct {
			name   string
			mutate func(*licence.Licence)
			dup    bool
		}{
			{"bad identifier check", func(l *licence.Licence) { l.Identifier = l.Identifier[:len(l.Identifier)-1] + "0" }, false},
			{"no number", func(l *licence.Licence) { l.Number = "" }, false},
			{"no issue date", func(l *licence.Licence) { l.IssuedOn = time.Time{} }, false},
			{"unknown holder", func(l *licence.Licence) { l.HolderID = 987654 }, false},
		}
		if strings.HasSuffix(id, "0") {
			tests = tests[1:] // the corrupted check would be the real one
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l := good
				tt.mutate(&l)
				if _, err := s.CreateLicence(ctx, l); err == nil {
					t.Fatal("CreateLicence succeeded")
				}
			})
		}
		created, err := s.CreateLicence(ctx, good)
		if err != nil {
			t.Fatalf("CreateLicence: %v", err)
		}
		if created.Status != licence.StatusValid || created.Version != 1 || created.Face == nil || created.Annotations == nil {
			t.Fatalf("defaults not applied: %+v", created)
		}
		if _, err := s.CreateLicence(ctx, good); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("same identifier twice: %v, want ErrDuplicate", err)
		}
	}))
}

func TestDatesRoundTripAsShanghaiCalendarDays(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := testCtx(t)
			dsn := b.dsn(t)
			s := openStore(t, b.name, dsn, true)
			seedCatalogue(t, s)
			h, err := s.CreateHolder(ctx, licence.Holder{Kind: licence.HolderPerson, Name: "王五", IDType: IDTypeResident, IDNumber: "11010519491231002X"})
			if err != nil {
				t.Fatal(err)
			}
			issuer, _ := s.DepartmentByUSCC(ctx, demo.USCCCityTrafficPolice)
			mk := func(serial string, issued, from time.Time, until *time.Time) licence.Licence {
				id, err := ident.LicenceIdentifier(demo.TypeDrivingLicence, issuer.USCC, serial, 1)
				if err != nil {
					t.Fatal(err)
				}
				l, err := s.CreateLicence(ctx, licence.Licence{Identifier: id, Number: serial, TypeCode: demo.TypeDrivingLicence,
					HolderID: h.ID, IssuerID: issuer.ID, IssuedOn: issued, ValidFrom: from, ValidUntil: until})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			until := shanghaiDate(2030, 12, 31)
			// 23:30 UTC on 29 Feb is already 1 March in Shanghai.
			late := time.Date(2024, 2, 29, 23, 30, 0, 0, time.UTC)
			l1 := mk("D1", shanghaiDate(2024, 2, 29), late, &until)
			l2 := mk("D2", shanghaiDate(2024, 1, 1), shanghaiDate(2024, 1, 1), nil)

			check := func(t *testing.T, s *Store) {
				t.Helper()
				g1, err := s.Licence(ctx, l1.ID)
				if err != nil {
					t.Fatal(err)
				}
				tests := []struct {
					name string
					got  *time.Time
					want time.Time
				}{
					{"issued on a leap day", &g1.IssuedOn, shanghaiDate(2024, 2, 29)},
					{"valid from, given in UTC", &g1.ValidFrom, shanghaiDate(2024, 3, 1)},
					{"valid until", g1.ValidUntil, until},
				}
				for _, tt := range tests {
					if tt.got == nil || !tt.got.Equal(tt.want) || tt.got.Location().String() != DateLocation().String() || tt.got.Hour() != 0 {
						t.Errorf("%s: got %v, want %v (midnight Asia/Shanghai)", tt.name, tt.got, tt.want)
					}
				}
				g2, err := s.Licence(ctx, l2.ID)
				if err != nil {
					t.Fatal(err)
				}
				if g2.ValidUntil != nil {
					t.Errorf("long-term licence came back with valid_until %v", g2.ValidUntil)
				}
				var raw string
				if err := s.db.WithContext(ctx).Raw("SELECT CAST(valid_until AS CHAR) FROM licences WHERE id = ?", l1.ID).Scan(&raw).Error; err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(raw, "2030-12-31") {
					t.Errorf("stored valid_until = %q, want 2030-12-31", raw)
				}
				// The last valid day is inclusive through its end in Shanghai.
				if a := licence.Assess(g1, time.Date(2030, 12, 31, 15, 59, 0, 0, time.UTC)); !a.Valid {
					t.Errorf("licence not valid at 23:59 Shanghai of its last day: %+v", a)
				}
				if a := licence.Assess(g1, time.Date(2030, 12, 31, 16, 0, 0, 0, time.UTC)); a.Valid {
					t.Errorf("licence still valid at 00:00 Shanghai after its last day: %+v", a)
				}
			}
			check(t, s)
			if b.name == DriverMySQL {
				// A DSN in a zone east of Shanghai must not shift the days (midnight
				// in Tokyo is still the previous day in Shanghai).
				shifted := strings.Replace(dsn, "loc=UTC", "loc=Asia%2FTokyo", 1)
				if shifted == dsn {
					shifted = dsn + "&loc=Asia%2FTokyo"
				}
				t.Run("other DSN zone", func(t *testing.T) { check(t, openStore(t, b.name, shifted, false)) })
			}
		})
	}
}

func TestNotFoundMapsToDomainErrors(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		tests := []struct {
			name string
			call func() error
			want error
		}{
			{"licence", func() error { _, err := s.Licence(ctx, 987654); return err }, licence.ErrNotFound},
			{"licence by identifier", func() error { _, err := s.LicenceByIdentifier(ctx, "1.2.156.3005.2.x"); return err }, licence.ErrNotFound},
			{"type", func() error { _, err := s.Type(ctx, "111405220120802120099"); return err }, licence.ErrNotFound},
			{"department", func() error { _, err := s.Department(ctx, 987654); return err }, licence.ErrNotFound},
			{"department by uscc", func() error { _, err := s.DepartmentByUSCC(ctx, "91140522MA0K0000X1"); return err }, licence.ErrNotFound},
			{"holder", func() error { _, err := s.Holder(ctx, 987654); return err }, licence.ErrNotFound},
			{"holder by id number", func() error {
				_, err := s.HolderByIDNumber(ctx, IDTypeResident, "140522200001010011")
				return err
			}, licence.ErrNotFound},
			{"account", func() error { _, err := s.Get(ctx, "nobody"); return err }, account.ErrNotFound},
			{"officer", func() error { _, err := s.Officer(ctx, demo.CitizenZhangsan); return err }, account.ErrNotFound},
			{"bind unknown account", func() error { return s.BindHolder(ctx, "nobody", 1, demoNow) }, account.ErrNotFound},
			{"subscribe unknown account", func() error { return s.SetSubscribed(ctx, "nobody", true) }, account.ErrNotFound},
			{"unbind unknown account", func() error { return s.UnbindHolder(ctx, "nobody") }, account.ErrNotFound},
			{"remove unknown officer", func() error { return s.RemoveOfficer(ctx, "nobody") }, account.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.call(); !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
			})
		}
	}))
}
