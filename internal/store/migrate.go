package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
)

// migrationFS holds the versioned schema, one directory per driver. Files
// are named NNNN_name.sql; each statement ends with ";" at the end of a
// line, and lines starting with "--" are comments. A statement must not end
// a line with ";" in its middle (no stored-program bodies).
//
//go:embed migrations/mysql/*.sql migrations/sqlite/*.sql
var migrationFS embed.FS

// migrationLockName is the MySQL named lock that keeps two `migrate` runs
// (say, two instances starting at once) from applying the same step twice.
const migrationLockName = "elicence_schema_migrate"

type migration struct {
	version  int
	name     string
	sql      string
	checksum string
}

// schemaMigrationRow records one applied migration.
type schemaMigrationRow struct {
	Version   int       `gorm:"column:version;primaryKey;autoIncrement:false"`
	Name      string    `gorm:"column:name"`
	Checksum  string    `gorm:"column:checksum"`
	AppliedAt time.Time `gorm:"column:applied_at"`
}

func (schemaMigrationRow) TableName() string { return "schema_migrations" }

func loadMigrations(driver string) ([]migration, error) {
	dir := path.Join("migrations", driver)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations for %s: %w", driver, err)
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || name == "" {
			return nil, fmt.Errorf("store: migration file %s: want NNNN_name.sql", e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %s and %s share version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		out = append(out, migration{version: v, name: name, sql: string(b), checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// splitStatements cuts a migration file into single statements, so the
// MySQL DSN does not need multiStatements (which would widen the damage of
// any SQL injection elsewhere).
func splitStatements(sql string) []string {
	var (
		out []string
		cur strings.Builder
	)
	flush := func() {
		st := strings.TrimSpace(cur.String())
		st = strings.TrimSpace(strings.TrimSuffix(st, ";"))
		if st != "" {
			out = append(out, st)
		}
		cur.Reset()
	}
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			flush()
		}
	}
	flush()
	return out
}

func (s *Store) createMigrationsTable(ctx context.Context) error {
	ddl := `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER  NOT NULL PRIMARY KEY,
  name       TEXT     NOT NULL,
  checksum   TEXT     NOT NULL,
  applied_at DATETIME NOT NULL
)`
	if s.driver == DriverMySQL {
		ddl = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INT          NOT NULL,
  name       VARCHAR(255) NOT NULL,
  checksum   CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  applied_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`
	}
	if err := s.q(ctx).Exec(ddl).Error; err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	return nil
}

func (s *Store) appliedMigrations(ctx context.Context) (map[int]schemaMigrationRow, error) {
	var rows []schemaMigrationRow
	if err := s.q(ctx).Order("version").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: read schema_migrations: %w", err)
	}
	out := make(map[int]schemaMigrationRow, len(rows))
	for _, r := range rows {
		out[r.Version] = r
	}
	return out, nil
}

// Migrate applies, in version order, every embedded migration not yet
// recorded in schema_migrations. Running it again is a no-op. On SQLite each
// migration and its record commit in one transaction; MySQL commits DDL
// statement by statement, so its migrations use IF NOT EXISTS and can be
// re-run after a failure has been fixed.
func (s *Store) Migrate(ctx context.Context) error {
	if s.inTx {
		return errors.New("store: migrate: not inside a transaction")
	}
	ms, err := loadMigrations(s.driver)
	if err != nil {
		return err
	}
	if err := s.createMigrationsTable(ctx); err != nil {
		return err
	}
	if s.driver == DriverMySQL {
		unlock, err := s.lockMigrations(ctx)
		if err != nil {
			return err
		}
		defer unlock()
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if prev, ok := applied[m.version]; ok {
			if prev.Checksum != m.checksum {
				s.log.WarnContext(ctx, "applied migration differs from this build's copy",
					"version", m.version, "name", m.name)
			}
			continue
		}
		if err := s.apply(ctx, m); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "applied migration", "version", m.version, "name", m.name, "driver", s.driver)
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migration) error {
	run := func(tx *Store) error {
		for i, st := range splitStatements(m.sql) {
			if err := tx.q(ctx).Exec(st).Error; err != nil {
				if alreadyApplied(tx.driver, st, err) {
					continue
				}
				return fmt.Errorf("store: migration %04d_%s statement %d: %w", m.version, m.name, i+1, err)
			}
		}
		rec := schemaMigrationRow{Version: m.version, Name: m.name, Checksum: m.checksum, AppliedAt: time.Now().UTC().Truncate(time.Microsecond)}
		if err := tx.q(ctx).Create(&rec).Error; err != nil {
			return fmt.Errorf("store: record migration %04d: %w", m.version, err)
		}
		return nil
	}
	if s.driver == DriverSQLite {
		return s.InTx(ctx, run)
	}
	return run(s)
}

// alreadyApplied reports a re-run of a statement whose work is done: a
// CREATE INDEX on MySQL, which has no IF NOT EXISTS for indexes (MariaDB
// has), or an ALTER TABLE … ADD COLUMN, which neither MySQL nor SQLite can
// make conditional. The index or column exists, so a re-run after a
// failure can go on. (DDL is atomic per statement on both, so a statement
// is either wholly there or not at all.)
func alreadyApplied(driver, stmt string, err error) bool {
	up := strings.ToUpper(strings.TrimSpace(stmt))
	addColumn := strings.HasPrefix(up, "ALTER TABLE") && strings.Contains(up, "ADD COLUMN")
	var me *mysqldriver.MySQLError
	switch {
	case driver == DriverMySQL && errors.As(err, &me):
		return me.Number == 1061 && strings.HasPrefix(up, "CREATE INDEX") || me.Number == 1060 && addColumn
	case driver == DriverSQLite && err != nil:
		return addColumn && strings.Contains(err.Error(), "duplicate column name")
	}
	return false
}

// lockMigrations takes a server-wide named lock on its own connection and
// returns the function that releases it.
func (s *Store) lockMigrations(ctx context.Context) (func(), error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: migrate lock: %w", err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate lock: %w", err)
	}
	var got *int64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 60)", migrationLockName).Scan(&got); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("store: migrate lock: %w", err)
	}
	if got == nil || *got != 1 {
		_ = conn.Close()
		return nil, errors.New("store: migrate lock: another migration is still running")
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(ctx, "SELECT RELEASE_LOCK(?)", migrationLockName)
		_ = conn.Close()
	}, nil
}

// SchemaStatus reports the highest applied migration version (0 for an
// empty database) and the highest version this build carries.
func (s *Store) SchemaStatus(ctx context.Context) (current, latest int, err error) {
	ms, err := loadMigrations(s.driver)
	if err != nil {
		return 0, 0, err
	}
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	if !s.db.WithContext(ctx).Migrator().HasTable("schema_migrations") {
		return 0, latest, nil
	}
	var max *int
	if err := s.q(ctx).Raw("SELECT MAX(version) FROM schema_migrations").Scan(&max).Error; err != nil {
		return 0, latest, fmt.Errorf("store: schema status: %w", err)
	}
	if max != nil {
		current = *max
	}
	return current, latest, nil
}

// SchemaCurrent returns nil when every migration of this build has been
// applied, and an error wrapping ErrSchemaOutdated that says what to do
// otherwise. A database ahead of this build is accepted, so an older
// instance keeps serving while a newer one rolls out after `migrate`.
func (s *Store) SchemaCurrent(ctx context.Context) error {
	ms, err := loadMigrations(s.driver)
	if err != nil {
		return err
	}
	current, latest, err := s.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	applied := map[int]schemaMigrationRow{}
	if current > 0 {
		if applied, err = s.appliedMigrations(ctx); err != nil {
			return err
		}
	}
	for _, m := range ms {
		if _, ok := applied[m.version]; !ok {
			return fmt.Errorf("store: database schema is at version %d, this build needs %d (migration %04d_%s not applied); run `bff migrate`: %w",
				current, latest, m.version, m.name, ErrSchemaOutdated)
		}
	}
	return nil
}
