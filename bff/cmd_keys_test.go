package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/glebarez/go-sqlite" // the "sqlite" database/sql driver

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/secure/securetest"
	"github.com/yangcheng-county/elicence/internal/store"
)

// TestKeysRotateCommand upgrades an embedded data directory from before
// SM4: its old key file becomes the legacy pair, the demo holders are
// turned back into AES values and HMAC-SHA256 indexes, and `bff keys
// rotate` re-seals them with progress lines and an audit event, naming no
// ID number. Without the legacy keys it stops and says which settings to
// give.
func TestKeysRotateCommand(t *testing.T) {
	dir := t.TempDir()
	legacyData, legacyIndex := bytes.Repeat([]byte{0x55}, 32), bytes.Repeat([]byte{0x66}, 32)
	if err := os.WriteFile(filepath.Join(dir, "keys"),
		[]byte(hex.EncodeToString(legacyData)+"\n"+hex.EncodeToString(legacyIndex)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ELICENCE_DATA_DIR": dir}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	keysRun := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"keys", "rotate", "-config", "../configs/default.yaml"}, args...), lookup, &out, &errOut)
		return out.String(), err
	}

	// The first run seeds the demo data with the new keys; nothing is stale.
	out, err := keysRun("--dry-run")
	if err != nil || !strings.Contains(out, "holders: 0 rows use an older key") {
		t.Fatalf("dry run on a fresh directory: %v\n%s", err, out)
	}
	cfg, err := config.Load("../configs/default.yaml", lookup)
	if err != nil {
		t.Fatal(err)
	}
	st, err := commandStore(t.Context(), cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "elicence.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	for _, idn := range []string{demo.ZhangsanIDNumber, demo.LisiIDNumber} {
		h, err := st.HolderByIDNumber(t.Context(), store.IDTypeResident, idn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(t.Context(), "UPDATE holders SET id_number_enc = ?, id_number_idx = ? WHERE id = ?",
			securetest.LegacySeal(legacyData, "holder.id_number", idn), securetest.LegacyIndex(legacyIndex, "holder.id_number", idn), h.ID); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	st.Close()

	out, err = keysRun("--dry-run")
	if err != nil || !strings.Contains(out, "holders: 2 rows use an older key") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}

	// Without the legacy keys nothing starts: lookups would miss the legacy
	// rows and demo seeding (on here) or a binding would add those holders
	// a second time.
	if err := os.Rename(filepath.Join(dir, "keys"), filepath.Join(dir, "keys.away")); err != nil {
		t.Fatal(err)
	}
	if _, err := keysRun(); err == nil || !strings.Contains(err.Error(), "security.legacy_index_key") {
		t.Fatalf("rotation without the legacy keys: %v", err)
	}
	if err := os.Rename(filepath.Join(dir, "keys.away"), filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}

	out, err = keysRun("--batch", "1")
	if err != nil {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	for _, want := range []string{"holders: 1/2 re-sealed", "holders: 2/2 re-sealed", "licences: nothing to re-seal", "keys rotate: done, 2 rows re-sealed"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`[0-9]{17}[0-9X]`).MatchString(out) {
		t.Fatalf("output names an ID number:\n%s", out)
	}
	if out, err := keysRun("--dry-run"); err != nil || !strings.Contains(out, "holders: 0 rows use an older key") {
		t.Fatalf("dry run after rotation: %v\n%s", err, out)
	}

	st, err = commandStore(t.Context(), cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.HolderByIDNumber(t.Context(), store.IDTypeResident, demo.LisiIDNumber); err != nil {
		t.Fatalf("lookup after rotation: %v", err)
	}
	entries, err := st.AuditEvents(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Action != "keys.rotate" || last.Detail != "complete holders=2 licences=0 apps=0" {
		t.Fatalf("last audit entry %+v", last)
	}
}
