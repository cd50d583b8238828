package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Key rotation re-seals, with the sealer's current keys, every sealed value
// and blind index made with an older one (the previous SM4/HMAC-SM3 pair or
// the legacy AES/HMAC-SHA256 pair). It needs no state of its own: sealed
// values and indexes name their key, so "still to do" is a WHERE clause,
// and a run that was interrupted simply starts again and finds less to do.
//
// It is safe while serving. Readers see either the old or the new value of
// a row, and both open (the serving instances hold the older keys too);
// lookups search every index. Each batch is a short transaction that takes
// only rows nobody else holds (MySQL: FOR UPDATE SKIP LOCKED under READ
// COMMITTED), so rotation never waits for a lock while holding one and
// cannot deadlock a request; a row skipped because it was busy is taken
// by the next pass.

// DefaultRotateBatch is the number of rows re-sealed per transaction.
const DefaultRotateBatch = 200

// maxRotatePasses bounds how often rotation walks a table again for rows
// that were busy or changed on the previous pass.
const maxRotatePasses = 5

// ErrRotateIncomplete is returned when rows still use an older key after
// every pass: something keeps writing with old keys (an instance not yet
// restarted with the new configuration) or holds rows locked.
var ErrRotateIncomplete = errors.New("store: rotate keys: rows still use older keys")

// ErrIndexKeyMissing is returned by CheckIndexKeys: rows carry blind
// indexes made with a key this instance does not hold.
var ErrIndexKeyMissing = errors.New("store: rows are indexed with a key this instance does not hold")

// CheckIndexKeys fails when a blind index in the database was made with an
// index key the sealer does not hold. Lookups by ID number or licence
// number would then miss those rows, and the next binding or import would
// create the holder or licence a second time; so an instance started
// without the keys a rotation still needs refuses to start instead. It
// reads only the two unique indexes.
func (s *Store) CheckIndexKeys(ctx context.Context) error {
	for _, c := range []struct{ table, column string }{{"holders", "id_number_idx"}, {"licences", "number_idx"}} {
		var ids []string
		// The key id is what precedes the first "."; a legacy index has none
		// and yields "" (SUBSTR with a negative length is empty on both
		// databases).
		q := fmt.Sprintf("SELECT DISTINCT SUBSTR(%[2]s, 1, INSTR(%[2]s, '.') - 1) FROM %[1]s", c.table, c.column)
		if err := s.q(ctx).Raw(q).Scan(&ids).Error; err != nil {
			return fmt.Errorf("store: check index keys of %s: %w", c.table, err)
		}
		for _, id := range ids {
			if s.sealer.HoldsIndexKey(id) {
				continue
			}
			if id == "" {
				return fmt.Errorf("%w: %s has indexes of the pre-SM3 HMAC-SHA256 key: set security.legacy_index_key (and legacy_data_key) until `bff keys rotate` has finished", ErrIndexKeyMissing, c.table)
			}
			return fmt.Errorf("%w: %s has indexes of index key id %s: set it as security.previous_index_key until `bff keys rotate` has finished", ErrIndexKeyMissing, c.table, id)
		}
	}
	return nil
}

// RotateProgress is reported after every batch: Done of Total rows of
// Table re-sealed so far in this run (Total counted when the table was
// reached).
type RotateProgress struct {
	Table       string
	Done, Total int64
}

// StaleRows counts, per table, the rows holding a value or an index made
// with a key other than the current one, in rotation order.
func (s *Store) StaleRows(ctx context.Context) ([]RotateProgress, error) {
	var out []RotateProgress
	for _, r := range s.resealers() {
		n, err := r.count(ctx, s)
		if err != nil {
			return nil, err
		}
		out = append(out, RotateProgress{Table: r.table, Total: n})
	}
	return out, nil
}

// RotateKeys re-seals every stale row, batch rows per transaction
// (DefaultRotateBatch when batch < 1), calling progress after each batch.
// It returns the rows re-sealed per table; on error, those re-sealed
// before it, which stay re-sealed.
func (s *Store) RotateKeys(ctx context.Context, batch int, progress func(RotateProgress)) ([]RotateProgress, error) {
	if s.inTx {
		return nil, errors.New("store: rotate keys: not inside a transaction")
	}
	if batch < 1 {
		batch = DefaultRotateBatch
	}
	if progress == nil {
		progress = func(RotateProgress) {}
	}
	var out []RotateProgress
	for _, r := range s.resealers() {
		p, err := r.run(ctx, s, batch, progress)
		out = append(out, p)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// resealer knows one table's sealed columns: which rows are stale and how
// to re-seal one.
type resealer struct {
	table, pk string
	stale     string // the condition matching rows with an older key
	args      []any
	// next reads up to n stale rows after the cursor (nil: from the start)
	// and returns, per row, its key and the new column values.
	next func(ctx context.Context, tx *gorm.DB, after any, n int) ([]resealed, error)
}

type resealed struct {
	key any
	set map[string]any
}

func (s *Store) resealers() []resealer {
	sealed, index := s.sealer.SealedPrefix()+"%", s.sealer.IndexPrefix()+"%"
	return []resealer{
		newResealer(s, "holders", "id", "id, id_number_enc, phone_enc",
			"id_number_enc NOT LIKE ? OR id_number_idx NOT LIKE ? OR (phone_enc <> '' AND phone_enc NOT LIKE ?)",
			[]any{sealed, index, sealed}, s.resealHolder),
		newResealer(s, "licences", "id", "id, type_code, number_enc, face_enc",
			"number_enc NOT LIKE ? OR number_idx NOT LIKE ? OR face_enc NOT LIKE ?",
			[]any{sealed, index, sealed}, s.resealLicence),
		newResealer(s, "apps", "app_id", "app_id, secret_enc", "secret_enc NOT LIKE ?", []any{sealed}, s.resealApp),
	}
}

// newResealer builds a table's resealer around the row type R it reads:
// the select, locked where the database can skip busy rows, and the
// re-sealing of each row read.
func newResealer[R any](s *Store, table, pk, columns, stale string, args []any, reseal func(R) (resealed, error)) resealer {
	next := func(ctx context.Context, tx *gorm.DB, after any, n int) ([]resealed, error) {
		q := tx.Table(table).Select(columns).Where("("+stale+")", args...)
		if after != nil {
			q = q.Where(pk+" > ?", after)
		}
		if s.driver == DriverMySQL {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var rows []R
		if err := q.Order(pk).Limit(n).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: rotate keys: read %s: %w", table, err)
		}
		out := make([]resealed, 0, len(rows))
		for _, row := range rows {
			rs, err := reseal(row)
			if err != nil {
				return nil, err
			}
			out = append(out, rs)
		}
		return out, nil
	}
	return resealer{table: table, pk: pk, stale: stale, args: args, next: next}
}

func (r resealer) count(ctx context.Context, s *Store) (int64, error) {
	var n int64
	if err := s.q(ctx).Table(r.table).Where(r.stale, r.args...).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: rotate keys: count %s: %w", r.table, err)
	}
	return n, nil
}

// run re-seals the table's stale rows in passes of batches.
func (r resealer) run(ctx context.Context, s *Store, batch int, progress func(RotateProgress)) (RotateProgress, error) {
	p := RotateProgress{Table: r.table}
	total, err := r.count(ctx, s)
	if err != nil || total == 0 {
		return p, err
	}
	p.Total = total
	for pass := 0; pass < maxRotatePasses; pass++ {
		var after any
		for {
			n, last, err := r.batch(ctx, s, after, batch)
			if err != nil {
				return p, err
			}
			if last == nil {
				break
			}
			p.Done += n
			after = last
			progress(p)
		}
		left, err := r.count(ctx, s)
		if err != nil || left == 0 {
			return p, err
		}
	}
	left, err := r.count(ctx, s)
	if err != nil {
		return p, err
	}
	return p, fmt.Errorf("%w: %s: %d rows", ErrRotateIncomplete, r.table, left)
}

// batch re-seals up to n stale rows after the cursor in one transaction
// and returns how many it changed and the last key read (nil when none).
func (r resealer) batch(ctx context.Context, s *Store, after any, n int) (int64, any, error) {
	var (
		changed int64
		last    any
	)
	opts := &sql.TxOptions{}
	if s.driver == DriverMySQL {
		// No gap locks and no locks kept on rows the scan passes over:
		// requests inserting or reading beside the batch never wait on it.
		opts.Isolation = sql.LevelReadCommitted
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rows, err := r.next(ctx, tx, after, n)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		sqlText, args := r.update(rows)
		res := tx.Exec(sqlText, args...)
		if res.Error != nil {
			return fmt.Errorf("store: rotate keys: %s %v to %v: %w", r.table, rows[0].key, rows[len(rows)-1].key,
				mapErr(res.Error, gorm.ErrRecordNotFound))
		}
		changed, last = res.RowsAffected, rows[len(rows)-1].key
		return nil
	}, opts)
	if err != nil {
		return 0, nil, err
	}
	return changed, last, nil
}

// update is one UPDATE writing a batch's new values: per column a CASE
// over the rows' keys, the column left as it is for a row without a new
// value for it (a holder without a phone). One statement instead of one
// per row keeps the batch's transaction, and so its locks, short.
func (r resealer) update(rows []resealed) (string, []any) {
	var cols []string
	seen := map[string]bool{}
	for _, row := range rows {
		for c := range row.set {
			if !seen[c] {
				seen[c] = true
				cols = append(cols, c)
			}
		}
	}
	sort.Strings(cols)
	var (
		sb   strings.Builder
		args []any
	)
	sb.WriteString("UPDATE " + r.table + " SET ")
	for i, c := range cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(c + " = CASE " + r.pk)
		for _, row := range rows {
			if v, ok := row.set[c]; ok {
				sb.WriteString(" WHEN ? THEN ?")
				args = append(args, row.key, v)
			}
		}
		sb.WriteString(" ELSE " + c + " END")
	}
	sb.WriteString(" WHERE " + r.pk + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(rows)), ", ") + ")")
	for _, row := range rows {
		args = append(args, row.key)
	}
	return sb.String(), args
}

func (s *Store) resealHolder(r holderRow) (resealed, error) {
	idn, err := s.sealer.Decrypt(sealHolderIDNumber, r.IDNumberEnc)
	if err != nil {
		return resealed{}, fmt.Errorf("store: rotate keys: holder %d id number: %w", r.ID, err)
	}
	idEnc, err := s.sealer.Encrypt(sealHolderIDNumber, idn)
	if err != nil {
		return resealed{}, err
	}
	set := map[string]any{"id_number_enc": idEnc, "id_number_idx": s.holderIndexes(idn)[0]}
	if r.PhoneEnc != "" {
		if set["phone_enc"], err = s.reseal(sealHolderPhone, r.PhoneEnc); err != nil {
			return resealed{}, fmt.Errorf("store: rotate keys: holder %d phone: %w", r.ID, err)
		}
	}
	return resealed{key: r.ID, set: set}, nil
}

func (s *Store) resealLicence(r licenceRow) (resealed, error) {
	num, err := s.sealer.Decrypt(sealLicenceNumber, r.NumberEnc)
	if err != nil {
		return resealed{}, fmt.Errorf("store: rotate keys: licence %d number: %w", r.ID, err)
	}
	numEnc, err := s.sealer.Encrypt(sealLicenceNumber, num)
	if err != nil {
		return resealed{}, err
	}
	face, err := s.reseal(sealLicenceFace, r.FaceEnc)
	if err != nil {
		return resealed{}, fmt.Errorf("store: rotate keys: licence %d face: %w", r.ID, err)
	}
	return resealed{key: r.ID, set: map[string]any{
		"number_enc": numEnc, "number_idx": s.licenceNumberIndex(r.TypeCode, num), "face_enc": face,
	}}, nil
}

func (s *Store) resealApp(r appRow) (resealed, error) {
	secret, err := s.reseal(appSecretField(r.AppID), r.SecretEnc)
	if err != nil {
		return resealed{}, fmt.Errorf("store: rotate keys: app %s secret: %w", r.AppID, err)
	}
	return resealed{key: r.AppID, set: map[string]any{"secret_enc": secret}}, nil
}

// reseal opens a value and seals it again with the current key.
func (s *Store) reseal(field, sealed string) (string, error) {
	plain, err := s.sealer.Decrypt(field, sealed)
	if err != nil {
		return "", err
	}
	return s.sealer.Encrypt(field, plain)
}
