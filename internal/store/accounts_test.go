package store

import (
	"errors"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/demo"
)

func TestAccountsAndOfficers(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		a, err := s.Ensure(ctx, "oAbCdEf123")
		if err != nil {
			t.Fatalf("Ensure: %v", err)
		}
		if a.OpenID != "oAbCdEf123" || a.HolderID != 0 || a.Subscribed || a.CreatedAt.IsZero() || !a.BoundAt.IsZero() {
			t.Fatalf("new account = %+v", a)
		}
		again, err := s.Ensure(ctx, "oAbCdEf123")
		if err != nil || again != a {
			t.Fatalf("second Ensure = %+v, %v; want %+v", again, err, a)
		}
		// openids are case-sensitive: these are two WeChat users.
		other, err := s.Ensure(ctx, "oabcdef123")
		if err != nil || other.CreatedAt.IsZero() {
			t.Fatalf("Ensure(lower case) = %+v, %v", other, err)
		}
		if n := count(t, s, "accounts"); n != 7 {
			t.Fatalf("accounts = %d, want 5 demo + 2", n)
		}

		zs, _ := s.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber)
		at := time.Date(2025, 7, 1, 9, 30, 15, 250000000, time.FixedZone("CST", 8*3600))
		if err := s.BindHolder(ctx, "oAbCdEf123", zs.ID, at); err != nil {
			t.Fatal(err)
		}
		if err := s.BindHolder(ctx, "oAbCdEf123", zs.ID, at); err != nil {
			t.Fatalf("binding twice with the same values: %v", err)
		}
		got, err := s.Get(ctx, "oAbCdEf123")
		if err != nil || got.HolderID != zs.ID || !got.BoundAt.Equal(at) {
			t.Fatalf("bound account = %+v, %v", got, err)
		}
		if err := s.BindHolder(ctx, "oabcdef123", 987654, at); err == nil {
			t.Fatal("bound to a holder that does not exist")
		}
		bound, err := s.AccountsByHolder(ctx, zs.ID)
		if err != nil || len(bound) != 1 || bound[0].OpenID != "oAbCdEf123" {
			t.Fatalf("AccountsByHolder = %+v, %v", bound, err)
		}

		for _, sub := range []bool{true, true, false} {
			if err := s.SetSubscribed(ctx, "oAbCdEf123", sub); err != nil {
				t.Fatalf("SetSubscribed(%v): %v", sub, err)
			}
			if got, _ := s.Get(ctx, "oAbCdEf123"); got.Subscribed != sub {
				t.Fatalf("Subscribed = %v, want %v", got.Subscribed, sub)
			}
		}
		if err := s.UnbindHolder(ctx, "oAbCdEf123"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "oAbCdEf123"); got.HolderID != 0 || !got.BoundAt.IsZero() {
			t.Fatalf("after unbind: %+v", got)
		}

		police, _ := s.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
		housing, _ := s.DepartmentByUSCC(ctx, demo.USCCRealEstateCentre)
		if err := s.AddOfficer(ctx, "oAbCdEf123", police.ID); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Officer(ctx, "oAbCdEf123"); err != nil || d != police.ID {
			t.Fatalf("Officer = %d, %v", d, err)
		}
		if err := s.AddOfficer(ctx, "oAbCdEf123", housing.ID); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Officer(ctx, "oAbCdEf123"); err != nil || d != housing.ID {
			t.Fatalf("Officer after rebinding = %d, %v; want %d", d, err, housing.ID)
		}
		if _, err := s.Officer(ctx, "oabcdef123"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("officer lookup ignored case: %v", err)
		}
		if err := s.AddOfficer(ctx, "oabcdef123", 987654); err == nil {
			t.Fatal("officer bound to a department that does not exist")
		}
		if err := s.RemoveOfficer(ctx, "oAbCdEf123"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Officer(ctx, "oAbCdEf123"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("removed officer: %v", err)
		}
	}))
}
