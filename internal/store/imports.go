package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/secure"
)

// Compile-time check: the store is what a stock import writes to.
var _ importer.Store = (*Store)(nil)

// importSerialPrefix starts the GB/T 36904 serial of every imported
// licence, so imported and issued identifiers never meet.
const importSerialPrefix = "IM"

// importRow is one batch item with the values computed once in Go: the
// blind indexes that find its licence and its holder. The current index
// comes first in each list; the others are searched too while a key
// rotation runs.
type importRow struct {
	item       importer.Item
	key        string // type code + current number index: the licence's identity
	holderKey  string // ID type + current ID number index: the holder's identity
	numberIdxs []string
	holderIdxs []string
}

// ImportBatch implements importer.Store. It reads the current versions of
// the batch's licence numbers and its holders with one query per type and
// ID type, classifies every item, and (unless b.DryRun) writes the new
// holders and licences with multi-row INSERTs, a licence_events line each
// (action import) and one audit event, all in one transaction. A batch
// that imports nothing writes nothing, not even an audit event: nothing
// changed.
//
// An item whose type and number already have a current version is
// Unchanged when that version has the same holder, issuer, dates and face
// fields, and a Conflict otherwise: an import never overwrites a licence,
// whose changes go through its lifecycle.
func (s *Store) ImportBatch(ctx context.Context, b importer.Batch) ([]importer.Outcome, error) {
	rows := make([]importRow, len(b.Items))
	for i, it := range b.Items {
		r := it.Req
		idn := licence.NormaliseIDNumber(r.Holder.IDType, r.Holder.IDNumber)
		rows[i] = importRow{item: it, numberIdxs: s.licenceNumberIndexes(r.TypeCode, r.Number),
			holderIdxs: s.holderIndexes(idn)}
		rows[i].item.Req.Holder.IDNumber = idn
		rows[i].key = r.TypeCode + "\x00" + rows[i].numberIdxs[0]
		rows[i].holderKey = r.Holder.IDType + "\x00" + rows[i].holderIdxs[0]
	}
	if b.DryRun {
		outs, _, err := s.classifyImport(ctx, b.Issuer, rows)
		return outs, err
	}
	var outs []importer.Outcome
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		outs, err = tx.writeImport(ctx, b, rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: import batch: %w", err)
	}
	return outs, nil
}

func (s *Store) writeImport(ctx context.Context, b importer.Batch, rows []importRow) ([]importer.Outcome, error) {
	outs, holders, err := s.classifyImport(ctx, b.Issuer, rows)
	if err != nil {
		return nil, err
	}
	var fresh []importRow
	for i, o := range outs {
		if o == importer.Imported {
			fresh = append(fresh, rows[i])
		}
	}
	if len(fresh) == 0 {
		return outs, nil
	}
	if err := s.insertHolders(ctx, fresh, holders); err != nil {
		return nil, err
	}
	now := utc(time.Now())
	identifiers, err := s.insertLicences(ctx, b, fresh, holders, now)
	if err != nil {
		return nil, err
	}
	if err := s.insertImportEvents(ctx, identifiers, b.Actor, now); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("file=%s rows=%d-%d imported=%d unchanged_or_conflicting=%d",
		b.Source, b.Items[0].Row, b.Items[len(b.Items)-1].Row, len(fresh), len(rows)-len(fresh))
	_, err = s.AppendAudit(ctx, audit.Event{At: now, Actor: b.Actor, Action: "licence.import",
		Object: "department:" + b.Issuer.USCC, Detail: detail})
	return outs, err
}

// classifyImport decides each row's outcome and returns the holders
// already on record by holder key.
func (s *Store) classifyImport(ctx context.Context, issuer licence.Department, rows []importRow) ([]importer.Outcome, map[string]int64, error) {
	current, err := s.currentByIndex(ctx, rows)
	if err != nil {
		return nil, nil, err
	}
	holders, err := s.holdersByIndex(ctx, rows)
	if err != nil {
		return nil, nil, err
	}
	outs := make([]importer.Outcome, len(rows))
	for i, r := range rows {
		cur, exists := current[r.key]
		switch {
		case !exists:
			outs[i] = importer.Imported
		case s.sameImport(cur, r, issuer, holders):
			outs[i] = importer.Unchanged
		default:
			outs[i] = importer.Conflict
		}
	}
	return outs, holders, nil
}

// sameImport reports whether the current version cur says what row r says.
func (s *Store) sameImport(cur licenceRow, r importRow, issuer licence.Department, holders map[string]int64) bool {
	req := r.item.Req
	if cur.IssuerID != issuer.ID || cur.HolderID != holders[r.holderKey] ||
		!sameDay(dateOf(req.IssuedOn), cur.IssuedOn) || !sameDay(dateOf(req.ValidFrom), cur.ValidFrom) ||
		!sameDay(datePtr(req.ValidUntil), cur.ValidUntil) {
		return false
	}
	fj, err := s.sealer.Decrypt(sealLicenceFace, cur.FaceEnc)
	if err != nil {
		return false
	}
	face := map[string]string{}
	if err := json.Unmarshal([]byte(fj), &face); err != nil {
		return false
	}
	return maps.Equal(face, nonNilFace(req.Fields))
}

func sameDay(a, b civilDate) bool {
	return a.Valid == b.Valid && (!a.Valid || a.Time.Equal(b.Time))
}

func nonNilFace(f map[string]string) map[string]string {
	if f == nil {
		return map[string]string{}
	}
	return f
}

// currentByIndex loads the current versions of the rows' licences by row
// key, one query per type so each uses ix_licences_number.
func (s *Store) currentByIndex(ctx context.Context, rows []importRow) (map[string]licenceRow, error) {
	byType := map[string][]string{}
	keyOf := map[string]string{} // type code + any index → row key
	for _, r := range rows {
		t := r.item.Req.TypeCode
		byType[t] = append(byType[t], r.numberIdxs...)
		for _, idx := range r.numberIdxs {
			keyOf[t+"\x00"+idx] = r.key
		}
	}
	out := make(map[string]licenceRow, len(rows))
	for typeCode, idx := range byType {
		var found []licenceRow
		if err := s.q(ctx).Where("type_code = ? AND number_idx IN ? AND superseded_by IS NULL", typeCode, idx).
			Find(&found).Error; err != nil {
			return nil, fmt.Errorf("store: import: current licences: %w", err)
		}
		for _, l := range found {
			out[keyOf[l.TypeCode+"\x00"+l.NumberIdx]] = l
		}
	}
	return out, nil
}

// holdersByIndex finds the rows' holders by ID type and blind index, by
// holder key.
func (s *Store) holdersByIndex(ctx context.Context, rows []importRow) (map[string]int64, error) {
	byType := map[string][]string{}
	keyOf := map[string]string{} // ID type + any index → holder key
	for _, r := range rows {
		t := r.item.Req.Holder.IDType
		byType[t] = append(byType[t], r.holderIdxs...)
		for _, idx := range r.holderIdxs {
			keyOf[t+"\x00"+idx] = r.holderKey
		}
	}
	out := make(map[string]int64, len(rows))
	for idType, idx := range byType {
		var found []struct {
			ID          int64
			IDNumberIdx string
		}
		if err := s.q(ctx).Model(&holderRow{}).Select("id, id_number_idx").
			Where("id_type = ? AND id_number_idx IN ?", idType, idx).Find(&found).Error; err != nil {
			return nil, fmt.Errorf("store: import: holders: %w", err)
		}
		for _, h := range found {
			out[keyOf[idType+"\x00"+h.IDNumberIdx]] = h.ID
		}
	}
	return out, nil
}

// insertHolders creates the holders of rows that are not on record yet,
// one multi-row INSERT, and adds their ids to holders. A holder created by
// a concurrent import in the meantime is kept, not duplicated.
func (s *Store) insertHolders(ctx context.Context, rows []importRow, holders map[string]int64) error {
	var (
		values  [][]any
		missing []importRow
		queued  = map[string]bool{}
		now     = utc(time.Now())
	)
	for _, r := range rows {
		if _, ok := holders[r.holderKey]; ok || queued[r.holderKey] {
			continue
		}
		queued[r.holderKey] = true
		h := r.item.Req.Holder
		idEnc, err := s.sealer.Encrypt(sealHolderIDNumber, h.IDNumber)
		if err != nil {
			return fmt.Errorf("store: import: %w", err)
		}
		var phoneEnc string
		if h.Phone != "" {
			if phoneEnc, err = s.sealer.Encrypt(sealHolderPhone, h.Phone); err != nil {
				return fmt.Errorf("store: import: %w", err)
			}
		}
		kind := h.Kind
		if kind == "" {
			kind, _ = licence.HolderKindOf(h.IDType)
		}
		values = append(values, []any{string(kind), strings.TrimSpace(h.Name), h.IDType, idEnc, r.holderIdxs[0], phoneEnc, now})
		missing = append(missing, r)
	}
	if len(values) == 0 {
		return nil
	}
	ignore := " ON CONFLICT DO NOTHING"
	if s.driver == DriverMySQL {
		ignore = " ON DUPLICATE KEY UPDATE id = id"
	}
	if err := s.insertValues(ctx, "holders",
		[]string{"kind", "name", "id_type", "id_number_enc", "id_number_idx", "phone_enc", "created_at"}, values, ignore); err != nil {
		return fmt.Errorf("store: import: insert holders: %w", err)
	}
	found, err := s.holdersByIndex(ctx, missing)
	if err != nil {
		return err
	}
	for _, r := range missing {
		id, ok := found[r.holderKey]
		if !ok {
			return fmt.Errorf("store: import: holder of row %d not found after insert", r.item.Row)
		}
		holders[r.holderKey] = id
	}
	return nil
}

// licenceColumns are the columns an import writes; lineage_id and
// superseded_by stay NULL, as on every first version.
var licenceColumns = []string{
	"identifier", "number_enc", "number_idx", "type_code", "holder_id", "issuer_id", "issued_on", "valid_from",
	"valid_until", "status", "annotations", "version", "face_enc", "seal", "created_at", "updated_at", "origin",
	"seal_id", "seal_cert_id", "signed_at", "signature",
}

// insertLicences writes version 1 of each row's licence with one multi-row
// INSERT and returns their identifiers. The identifier's serial comes from the
// licence number's blind index, so the same licence always gets the same
// identifier: two imports of one file racing each other collide on the
// identifier's unique key instead of creating the licence twice.
func (s *Store) insertLicences(ctx context.Context, b importer.Batch, rows []importRow, holders map[string]int64, now time.Time) ([]string, error) {
	issuer := b.Issuer
	if b.Sign == nil {
		return nil, errors.New("store: import: batch without a signer")
	}
	names, err := s.holderNames(ctx, holders)
	if err != nil {
		return nil, err
	}
	values := make([][]any, len(rows))
	identifiers := make([]string, len(rows))
	for i, r := range rows {
		req := r.item.Req
		id, err := ident.LicenceIdentifier(req.TypeCode, issuer.USCC, importSerial(r.numberIdxs[0]), 1)
		if err != nil {
			return nil, fmt.Errorf("store: import: row %d: %w", r.item.Row, err)
		}
		numEnc, err := s.sealer.Encrypt(sealLicenceNumber, req.Number)
		if err != nil {
			return nil, fmt.Errorf("store: import: %w", err)
		}
		fj, err := json.Marshal(nonNilFace(req.Fields))
		if err != nil {
			return nil, fmt.Errorf("store: import: %w", err)
		}
		faceEnc, err := s.sealer.Encrypt(sealLicenceFace, string(fj))
		if err != nil {
			return nil, fmt.Errorf("store: import: %w", err)
		}
		// Signed as the version reads back: the holder as on record,
		// the dates as calendar days.
		holder := req.Holder
		holder.ID = holders[r.holderKey]
		holder.Name = names[holder.ID]
		l := licence.Licence{Identifier: id, Number: req.Number, TypeCode: req.TypeCode, HolderID: holder.ID, IssuerID: issuer.ID,
			IssuedOn: req.IssuedOn, ValidFrom: req.ValidFrom, ValidUntil: req.ValidUntil, Status: licence.StatusValid,
			Version: 1, Face: nonNilFace(req.Fields)}
		sig, err := b.Sign(l, holder)
		if err != nil {
			return nil, fmt.Errorf("store: import: row %d: %w", r.item.Row, err)
		}
		sr := licenceRow{}.withSignature(sig)
		identifiers[i] = id
		values[i] = []any{id, numEnc, r.numberIdxs[0], req.TypeCode, holder.ID, issuer.ID,
			dateOf(req.IssuedOn), dateOf(req.ValidFrom), datePtr(req.ValidUntil), string(licence.StatusValid), "[]", 1,
			faceEnc, sr.Seal, now, now, licence.ActionImport, sr.SealID, sr.SealCertID, sr.SignedAt, sr.Signature}
	}
	if err := s.insertValues(ctx, "licences", licenceColumns, values, ""); err != nil {
		return nil, fmt.Errorf("store: import: insert licences: %w", mapErr(err, licence.ErrNotFound))
	}
	return identifiers, nil
}

// holderNames reads the names on record of the holders, one query.
func (s *Store) holderNames(ctx context.Context, holders map[string]int64) (map[int64]string, error) {
	ids := make([]int64, 0, len(holders))
	for _, id := range holders {
		ids = append(ids, id)
	}
	var found []struct {
		ID   int64
		Name string
	}
	if err := s.q(ctx).Model(&holderRow{}).Select("id, name").Where("id IN ?", ids).Find(&found).Error; err != nil {
		return nil, fmt.Errorf("store: import: holder names: %w", err)
	}
	out := make(map[int64]string, len(found))
	for _, h := range found {
		out[h.ID] = h.Name
	}
	return out, nil
}

// importSerial turns a licence number's blind index (its 64 hex digits)
// into a GB/T 36904 serial: the prefix and the first 80 bits in base 36.
// The index is keyed, so the serial reveals nothing of the number.
func importSerial(numberIdx string) string {
	n, _ := new(big.Int).SetString(secure.IndexDigest(numberIdx)[:20], 16)
	return importSerialPrefix + strings.ToUpper(n.Text(36))
}

// insertImportEvents writes the history line of each imported licence
// (version 1 came to be, valid, by import) with one INSERT … SELECT over
// the identifiers just written, so the new ids need not travel to Go and
// back.
func (s *Store) insertImportEvents(ctx context.Context, identifiers []string, actor string, now time.Time) error {
	res := s.q(ctx).Exec(`INSERT INTO licence_events
(lineage_id, licence_id, version, action, from_status, to_status, annotations, reason, actor, effective_at, at)
SELECT id, id, version, ?, '', status, '[]', '', ?, ?, ? FROM licences WHERE identifier IN ?`,
		licence.ActionImport, actor, now, now, identifiers)
	if res.Error != nil {
		return fmt.Errorf("store: import: history: %w", res.Error)
	}
	if res.RowsAffected != int64(len(identifiers)) {
		return fmt.Errorf("store: import: history: %d lines for %d licences", res.RowsAffected, len(identifiers))
	}
	return nil
}

// insertValues runs one multi-row INSERT INTO table (cols) VALUES (…), …
// with suffix appended (an ON CONFLICT clause). Batches stay far below the
// drivers' placeholder limits (65,535 on MySQL, 32,766 on SQLite).
func (s *Store) insertValues(ctx context.Context, table string, cols []string, values [][]any, suffix string) error {
	var sb strings.Builder
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	sb.Grow(len(table) + 32 + len(values)*(len(tuple)+2) + len(suffix))
	sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(values)*len(cols))
	for i, v := range values {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(tuple)
		args = append(args, v...)
	}
	sb.WriteString(suffix)
	return s.q(ctx).Exec(sb.String(), args...).Error
}
