package store

import (
	"context"
	"errors"
	"fmt"

	mysqldriver "github.com/go-sql-driver/mysql"
)

// TxAs adapts InTx to a domain package's transaction port, which names its
// own repository interface R (catalogue.TxFunc, demo.TxFunc): fn gets the
// transaction as an R. The ports' writes are idempotent (create what is
// missing, update what differs), so when the transaction loses a race with
// another instance writing the same rows (two processes seeding one fresh
// database: a unique key taken, or a MySQL deadlock between the two
// inserts), fn runs again on a fresh transaction and finds them there.
func TxAs[R any](s *Store) func(ctx context.Context, fn func(tx R) error) error {
	return func(ctx context.Context, fn func(tx R) error) error {
		run := func(tx *Store) error {
			r, ok := any(tx).(R)
			if !ok {
				var zero R
				return fmt.Errorf("store: %T does not implement %T", tx, &zero)
			}
			return fn(r)
		}
		err := s.InTx(ctx, run)
		for try := 1; try < txAttempts && lostRace(err); try++ {
			err = s.InTx(ctx, run)
		}
		return err
	}
}

// lostRace reports an error that retrying the whole transaction cures.
func lostRace(err error) bool {
	var my *mysqldriver.MySQLError
	return errors.Is(err, ErrDuplicate) || errors.As(err, &my) && my.Number == mysqlDeadlock
}

// txAttempts bounds the runs of one TxAs call. The loser of a deadlock may
// retry before the winner commits and then meet its rows as duplicates;
// the third run reads them committed.
const txAttempts = 3

// mysqlDeadlock is ER_LOCK_DEADLOCK: InnoDB rolled the transaction back.
const mysqlDeadlock = 1213
