package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestOpenRejectsBadConfiguration(t *testing.T) {
	ctx := testCtx(t)
	sqlitePath := filepath.Join(t.TempDir(), "x.db")
	tests := []struct {
		name, driver, dsn string
		opts              []Option
		want              string
	}{
		{"no sealer", DriverSQLite, sqlitePath, nil, "no sealer"},
		{"unknown driver", "postgres", "x", []Option{WithSealer(testSealer(t))}, "unknown driver"},
		{"mysql without parseTime", DriverMySQL, "root@tcp(127.0.0.1:3306)/test", []Option{WithSealer(testSealer(t))}, "parseTime=true"},
		{"mysql without database", DriverMySQL, "root@tcp(127.0.0.1:3306)/?parseTime=true", []Option{WithSealer(testSealer(t))}, "names no database"},
		{"sqlite in memory", DriverSQLite, ":memory:", []Option{WithSealer(testSealer(t))}, "in-memory"},
		{"sqlite memory mode", DriverSQLite, "file:x?mode=memory", []Option{WithSealer(testSealer(t))}, "in-memory"},
		{"sqlite empty", DriverSQLite, "", []Option{WithSealer(testSealer(t))}, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.driver, tt.dsn, tt.opts...)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestMigrateIsIdempotentAndSchemaStatus(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := testCtx(t)
			s := openStore(t, b.name, b.dsn(t), false)
			ms, err := loadMigrations(b.name)
			if err != nil {
				t.Fatal(err)
			}
			latestWant := ms[len(ms)-1].version

			cur, latest, err := s.SchemaStatus(ctx)
			if err != nil || cur != 0 || latest != latestWant {
				t.Fatalf("empty db: SchemaStatus = %d, %d, %v; want 0, %d", cur, latest, err, latestWant)
			}
			if err := s.SchemaCurrent(ctx); !errors.Is(err, ErrSchemaOutdated) || !strings.Contains(err.Error(), "bff migrate") {
				t.Fatalf("empty db: SchemaCurrent = %v, want ErrSchemaOutdated naming the fix", err)
			}

			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			cur, latest, err = s.SchemaStatus(ctx)
			if err != nil || cur != latestWant || latest != latestWant {
				t.Fatalf("after Migrate: SchemaStatus = %d, %d, %v", cur, latest, err)
			}
			if err := s.SchemaCurrent(ctx); err != nil {
				t.Fatalf("after Migrate: SchemaCurrent = %v", err)
			}
			before := tableCounts(t, s)
			if before["schema_migrations"] != int64(len(ms)) || before["audit_head"] != 1 {
				t.Fatalf("after Migrate: counts %v", before)
			}

			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if after := tableCounts(t, s); !reflect.DeepEqual(before, after) {
				t.Fatalf("second Migrate changed rows: %v -> %v", before, after)
			}

			// A database that misses this build's newest step is outdated.
			if err := s.db.WithContext(ctx).Exec("DELETE FROM schema_migrations WHERE version = ?", latestWant).Error; err != nil {
				t.Fatal(err)
			}
			err = s.SchemaCurrent(ctx)
			if !errors.Is(err, ErrSchemaOutdated) || !strings.Contains(err.Error(), ms[len(ms)-1].name) {
				t.Fatalf("missing newest migration: SchemaCurrent = %v", err)
			}
			// Re-applying the step is harmless thanks to IF NOT EXISTS.
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("re-apply: %v", err)
			}
			if err := s.SchemaCurrent(ctx); err != nil {
				t.Fatalf("after re-apply: %v", err)
			}

			// So is one that misses a step below its highest, as when
			// migrations of branches developed side by side are merged:
			// the highest version alone would call it current.
			below := ms[len(ms)-2]
			if err := s.db.WithContext(ctx).Exec("DELETE FROM schema_migrations WHERE version = ?", below.version).Error; err != nil {
				t.Fatal(err)
			}
			if cur, latest, _ := s.SchemaStatus(ctx); cur != latest {
				t.Fatalf("SchemaStatus of a gap: %d of %d", cur, latest)
			}
			if err := s.SchemaCurrent(ctx); !errors.Is(err, ErrSchemaOutdated) || !strings.Contains(err.Error(), below.name) {
				t.Fatalf("missing migration %04d: SchemaCurrent = %v", below.version, err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("apply the gap: %v", err)
			}
			if err := s.SchemaCurrent(ctx); err != nil {
				t.Fatalf("after applying the gap: %v", err)
			}
		})
	}
}

func TestMigrationSetsMatchAcrossDrivers(t *testing.T) {
	my, err := loadMigrations(DriverMySQL)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := loadMigrations(DriverSQLite)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ms []migration) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.name)
			if strings.Contains(strings.ToUpper(m.sql), "MULTISTATEMENT") {
				t.Errorf("migration %s mentions multiStatements", m.name)
			}
		}
		return out
	}
	if !reflect.DeepEqual(names(my), names(lite)) {
		t.Fatalf("mysql migrations %v differ from sqlite %v", names(my), names(lite))
	}
	// Versions rise in both drivers alike. A gap is allowed: each line of
	// work owns its number, and a step may land before a lower one.
	for i := range my {
		if my[i].version != lite[i].version || (i > 0 && my[i].version <= my[i-1].version) {
			t.Fatalf("migration versions must rise alike in both drivers: %d vs %d at %d", my[i].version, lite[i].version, i)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"comments only", "-- a\n  -- b\n", nil},
		{"two", "CREATE TABLE a (x INT);\n\nCREATE TABLE b (\n  y INT -- trailing\n);\n", []string{"CREATE TABLE a (x INT)", "CREATE TABLE b (\n  y INT -- trailing\n)"}},
		{"no final semicolon", "SELECT 1;\nSELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"semicolon inside a line", "INSERT INTO t VALUES ('a;b');\n", []string{"INSERT INTO t VALUES ('a;b')"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitStatements(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("splitStatements = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPingAndSQLiteSettings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if s.Driver() != DriverSQLite {
			return
		}
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000"} {
			var got string
			if err := s.db.WithContext(ctx).Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
			}
		}
	})
}
