package verify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
	"github.com/yangcheng-county/elicence/internal/verify"
)

// env is a seeded store, a Redis of the test's own and the services on top.
type env struct {
	dsn        string
	store      *store.Store
	redis      *redisx.Client
	codes      *showcode.Service
	verifier   *verify.Service
	observedMu sync.Mutex // Observe is called from concurrent verifications
	observed   []string

	police, housing int64 // department ids
	zhangsan        int64 // holder ids
	lisi            int64
	zsDriving       licence.Licence
	zsIDCard        licence.Licence
	zsRealEstate    licence.Licence
	lsDriving       licence.Licence
}

type envOptions struct {
	redis  *redisx.Client // nil: the shared test Redis under a fresh prefix
	limits verify.Limits
	// dsn, when set, rewrites the DSN the services' store connects with,
	// once the database has been seeded through the plain one.
	dsn func(string) string
}

func newEnv(t testing.TB, driver string, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.DSN(t, driver)
	st := storetest.Seeded(t, driver, dsn, time.Now())
	if o.dsn != nil {
		st = storetest.Open(t, driver, o.dsn(dsn))
	}
	rc := o.redis
	if rc == nil {
		rc = redistest.Open(t)
	}
	e := &env{store: st, redis: rc, dsn: dsn}
	scStore, err := redisx.NewShowCodeStore(rc)
	if err != nil {
		t.Fatal(err)
	}
	e.codes, err = showcode.NewService(scStore, showcode.Options{PublicURL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if o.limits == (verify.Limits{}) {
		o.limits = verify.Limits{PerOfficer: 20, PerIP: 60, Window: 10 * time.Minute}
	}
	e.verifier, err = verify.NewService(e.codes, st, st, redisx.NewCounter(rc), verify.Options{
		PublicURL: "http://127.0.0.1:8080",
		Limits:    o.limits,
		Key:       rc.Key,
		Audit:     st,
		Observe: func(result, reason string) {
			e.observedMu.Lock()
			defer e.observedMu.Unlock()
			e.observed = append(e.observed, result+"/"+reason)
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, d := range []struct {
		uscc string
		id   *int64
	}{{demo.USCCTrafficBrigade, &e.police}, {demo.USCCRealEstateCentre, &e.housing}} {
		dept, err := st.DepartmentByUSCC(ctx, d.uscc)
		if err != nil {
			t.Fatal(err)
		}
		*d.id = dept.ID
	}
	for _, h := range []struct {
		idn string
		id  *int64
	}{{demo.ZhangsanIDNumber, &e.zhangsan}, {demo.LisiIDNumber, &e.lisi}} {
		holder, err := st.HolderByIDNumber(ctx, store.IDTypeResident, h.idn)
		if err != nil {
			t.Fatal(err)
		}
		*h.id = holder.ID
	}
	e.zsDriving = e.licenceOf(t, e.zhangsan, demo.TypeDrivingLicence)
	e.zsIDCard = e.licenceOf(t, e.zhangsan, demo.TypeResidentID)
	e.zsRealEstate = e.licenceOf(t, e.zhangsan, demo.TypeRealEstateTitle)
	e.lsDriving = e.licenceOf(t, e.lisi, demo.TypeDrivingLicence)
	return e
}

func (e *env) licenceOf(t testing.TB, holderID int64, typeCode string) licence.Licence {
	t.Helper()
	ls, err := e.store.LicencesByHolder(context.Background(), holderID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.TypeCode == typeCode {
			return l
		}
	}
	t.Fatalf("holder %d has no licence of type %s", holderID, typeCode)
	return licence.Licence{}
}

func (e *env) mint(t testing.TB, l licence.Licence, scope showcode.Scope) showcode.Code {
	t.Helper()
	c, err := e.codes.Mint(context.Background(), l.HolderID, l.ID, scope)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
