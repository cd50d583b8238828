package wire_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/bff/wire"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// A wiring mistake fails composition with a message, not a request with a
// nil dereference.
func TestComposeRejectsMissingParts(t *testing.T) {
	st := storetest.Migrated(t, store.DriverSQLite, storetest.DSN(t, store.DriverSQLite))
	rc := redistest.Open(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	full := wire.Opened{Store: st, Redis: rc, Now: time.Now}
	for name, in := range map[string]wire.Opened{
		"no store": {Redis: rc, Now: time.Now},
		"no redis": {Store: st, Now: time.Now},
		"no clock": {Store: st, Redis: rc},
	} {
		if _, err := wire.Compose(config.Config{}, log, in); err == nil || !strings.Contains(err.Error(), "Opened") {
			t.Errorf("%s: %v, want an error naming what is missing", name, err)
		}
	}
	if _, err := wire.Compose(config.Config{}, nil, full); err == nil {
		t.Error("no logger: composed")
	}
}
