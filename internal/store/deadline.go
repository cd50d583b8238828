package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/yangcheng-county/elicence/internal/deadline"
)

// Instance keys under which the deadline callbacks keep the statement's
// original context and the cancel function of the bounded one.
const (
	deadlineOrig   = "elicence:deadline_orig"
	deadlineCancel = "elicence:deadline_cancel"
)

// registerDeadlines bounds every statement whose context carries a
// deadline.Budget (an API request's does): reads by Budget.Read, writes by
// Budget.Write. Done here, once, rather than in each repository method, so
// no query can forget it. The drivers honour the context: go-sql-driver
// closes a connection whose statement overran, and database/sql gives up
// waiting for a pooled connection, so a hung server costs a request one
// budget, not the outage.
func registerDeadlines(db *gorm.DB) error {
	read := func(b deadline.Budget) time.Duration { return b.Read }
	write := func(b deadline.Budget) time.Duration { return b.Write }
	cb := db.Callback()
	regs := []error{
		cb.Query().Before("*").Register("elicence:deadline", bound(read)),
		cb.Query().After("*").Register("elicence:deadline_release", release),
		// Rows are read after the row callbacks return, so that bounded
		// context must outlive them: it is left to its own timer.
		cb.Row().Before("*").Register("elicence:deadline", bound(read)),
		cb.Create().Before("*").Register("elicence:deadline", bound(write)),
		cb.Create().After("*").Register("elicence:deadline_release", release),
		cb.Update().Before("*").Register("elicence:deadline", bound(write)),
		cb.Update().After("*").Register("elicence:deadline_release", release),
		cb.Delete().Before("*").Register("elicence:deadline", bound(write)),
		cb.Delete().After("*").Register("elicence:deadline_release", release),
		cb.Raw().Before("*").Register("elicence:deadline", bound(write)),
		cb.Raw().After("*").Register("elicence:deadline_release", release),
	}
	for _, err := range regs {
		if err != nil {
			return fmt.Errorf("store: register deadlines: %w", err)
		}
	}
	return nil
}

func bound(pick func(deadline.Budget) time.Duration) func(*gorm.DB) {
	return func(db *gorm.DB) {
		ctx := db.Statement.Context
		b, ok := deadline.From(ctx)
		if !ok || pick(b) <= 0 {
			return
		}
		bounded, cancel := deadline.Bound(ctx, pick(b))
		db.InstanceSet(deadlineOrig, ctx)
		db.InstanceSet(deadlineCancel, cancel)
		db.Statement.Context = bounded
	}
}

// release cancels the bounded context and puts the original back, so a
// chain reused after this statement does not carry a spent deadline.
func release(db *gorm.DB) {
	if v, ok := db.InstanceGet(deadlineCancel); ok {
		v.(context.CancelFunc)()
	}
	if v, ok := db.InstanceGet(deadlineOrig); ok {
		db.Statement.Context = v.(context.Context)
	}
}

// defaultDialTimeout bounds connecting when the DSN sets no timeout=.
const defaultDialTimeout = 5 * time.Second

// openMySQL opens the pool and waits, under ctx, for the server to answer.
// gorm's MySQL dialector asks the server version under a context of its own
// that never ends, so a server that accepts connections and never answers
// would hang start-up there: the first connection is made here instead,
// where ctx bounds it, and the dialector reuses it.
func openMySQL(ctx context.Context, cfg *mysqldriver.Config) (*sql.DB, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultDialTimeout
	}
	conn, err := mysqldriver.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open mysql %s: %w", cfg.Addr, err)
	}
	return db, nil
}
