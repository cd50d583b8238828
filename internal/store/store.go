// Package store is the durable storage of the e-licence platform: gorm row
// structs, versioned SQL migrations for MySQL/MariaDB and SQLite, and the
// repositories the domain packages define (licence.Repository,
// licence.UsageRepository, account.Repository). Personal data is sealed
// with secure.Sealer before it reaches a row, so neither a database dump nor
// a query log holds an ID number or a phone number in plain text.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/secure"
)

// Drivers accepted by Open.
const (
	DriverMySQL  = "mysql"
	DriverSQLite = "sqlite"
)

var (
	// ErrDuplicate is returned when a write would break a unique key
	// (an identifier, a USCC, a holder's ID number).
	ErrDuplicate = errors.New("store: duplicate")
	// ErrSchemaOutdated is returned by SchemaCurrent when migrations in this
	// build have not been applied. Serving on an old schema would fail on
	// the first query that touches a new column, so `serve` refuses early.
	ErrSchemaOutdated = errors.New("store: database schema is outdated")
)

// Compile-time checks that Store implements the domain repositories.
var (
	_ licence.Repository      = (*Store)(nil)
	_ licence.UsageRepository = (*Store)(nil)
	_ account.Repository      = (*Store)(nil)
)

// Store is the gorm-backed implementation of the domain repositories. A
// Store obtained inside InTx runs every call in that transaction.
type Store struct {
	db     *gorm.DB
	driver string
	sealer *secure.Sealer
	log    *slog.Logger
	inTx   bool
}

// Pool holds connection pool limits. Zero fields keep the driver default
// chosen by Open.
type Pool struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
	MaxIdleTime time.Duration
}

type options struct {
	sealer *secure.Sealer
	log    *slog.Logger
	pool   Pool
}

// Option configures Open.
type Option func(*options)

// WithSealer sets the field encryption and blind index used for holders'
// ID numbers and phones and for licence numbers and faces. It is required:
// a store that could write personal data in plain text must not start.
func WithSealer(s *secure.Sealer) Option { return func(o *options) { o.sealer = s } }

// WithLogger sets the logger for migration progress and warnings.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithPool overrides the connection pool limits.
func WithPool(p Pool) Option { return func(o *options) { o.pool = p } }

// Open connects to the database and checks that it answers. driver is
// "mysql" (DSN in go-sql-driver form, parseTime=true required so DATE and
// DATETIME columns scan into time.Time) or "sqlite" (a file path; WAL,
// busy_timeout, foreign keys and immediate transactions are switched on
// here so every connection behaves the same). Open does not migrate.
func Open(ctx context.Context, driver, dsn string, opts ...Option) (*Store, error) {
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	if o.sealer == nil {
		return nil, errors.New("store: open: no sealer (use store.WithSealer)")
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}

	var (
		dialector gorm.Dialector
		pool      Pool
	)
	switch driver {
	case DriverMySQL:
		cfg, err := mysqldriver.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open: mysql DSN: %w", err)
		}
		if !cfg.ParseTime {
			return nil, errors.New("store: open: mysql DSN must set parseTime=true")
		}
		if cfg.DBName == "" {
			return nil, errors.New("store: open: mysql DSN names no database")
		}
		conn, err := openMySQL(ctx, cfg)
		if err != nil {
			return nil, err
		}
		dialector = mysql.New(mysql.Config{Conn: conn, DSNConfig: cfg})
		// A lifetime below the server's wait_timeout avoids handing out
		// connections the server has already closed.
		pool = Pool{MaxOpen: 20, MaxIdle: 10, MaxLifetime: 5 * time.Minute, MaxIdleTime: 2 * time.Minute}
	case DriverSQLite:
		full, err := sqliteDSN(dsn)
		if err != nil {
			return nil, err
		}
		dialector = sqlite.Open(full)
		// WAL lets readers run beside the single writer; immediate
		// transactions make writers queue on busy_timeout instead of
		// failing half-way through with SQLITE_BUSY.
		pool = Pool{MaxOpen: 4, MaxIdle: 4}
	default:
		return nil, fmt.Errorf("store: open: unknown driver %q (want mysql or sqlite)", driver)
	}
	if o.pool.MaxOpen > 0 {
		pool.MaxOpen = o.pool.MaxOpen
	}
	if o.pool.MaxIdle > 0 {
		pool.MaxIdle = o.pool.MaxIdle
	}
	if o.pool.MaxLifetime > 0 {
		pool.MaxLifetime = o.pool.MaxLifetime
	}
	if o.pool.MaxIdleTime > 0 {
		pool.MaxIdleTime = o.pool.MaxIdleTime
	}

	db, err := gorm.Open(dialector, &gorm.Config{
		// Queries carry sealed values and blind indexes only, but SQL
		// logging is still left to the caller's own error handling.
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", driver, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", driver, err)
	}
	sqlDB.SetMaxOpenConns(pool.MaxOpen)
	sqlDB.SetMaxIdleConns(pool.MaxIdle)
	sqlDB.SetConnMaxLifetime(pool.MaxLifetime)
	sqlDB.SetConnMaxIdleTime(pool.MaxIdleTime)

	s := &Store{db: db, driver: driver, sealer: o.sealer, log: o.log}
	if err := registerDeadlines(db); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: open %s: %w", driver, err)
	}
	return s, nil
}

// sqliteDSN adds the connection settings every SQLite connection needs.
// In-memory databases are refused: each pooled connection would see its
// own empty database.
func sqliteDSN(dsn string) (string, error) {
	if dsn == "" {
		return "", errors.New("store: open: sqlite DSN is empty (want a file path)")
	}
	if strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") {
		return "", errors.New("store: open: sqlite in-memory databases are not supported (want a file path)")
	}
	path := dsn
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "file:") {
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return "", fmt.Errorf("store: open: sqlite directory: %w", err)
			}
		}
	}
	params := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if strings.Contains(dsn, "?") {
		return dsn + "&" + params, nil
	}
	return dsn + "?" + params, nil
}

// Driver returns "mysql" or "sqlite".
func (s *Store) Driver() string { return s.driver }

// Close releases the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers a query, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if one != 1 {
		return errors.New("store: ping: unexpected answer")
	}
	return nil
}

// InTx runs fn in one transaction: fn's Store sees and writes only inside
// it, and everything fn did is rolled back if fn returns an error or
// panics. A state change and its audit event (AppendAudit) therefore
// commit together or not at all. Calling InTx on a transaction's Store
// nests with a savepoint.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		tx := *s
		tx.db = gtx
		tx.inTx = true
		return fn(&tx)
	})
}

// q returns a session bound to ctx.
func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// mapErr turns gorm's sentinel errors into the domain's.
func mapErr(err, notFound error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return notFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %w", ErrDuplicate, err)
	}
	return err
}

// mustExist returns gorm.ErrRecordNotFound when no row matches. MySQL
// reports zero affected rows for an UPDATE that changes nothing, so a zero
// count alone does not mean the row is missing.
func (s *Store) mustExist(ctx context.Context, model any, query string, args ...any) error {
	var n int64
	if err := s.q(ctx).Model(model).Where(query, args...).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return gorm.ErrRecordNotFound
	}
	return nil
}
