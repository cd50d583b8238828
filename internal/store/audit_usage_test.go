package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// usageFixture is what the usage-chain tests record against.
type usageFixture struct {
	licenceID, departmentID int64
}

func newUsageFixture(t *testing.T, s *Store) usageFixture {
	t.Helper()
	ctx := testCtx(t)
	zs, err := s.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := s.LicencesByHolder(ctx, zs.ID)
	if err != nil {
		t.Fatal(err)
	}
	police, err := s.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
	if err != nil {
		t.Fatal(err)
	}
	return usageFixture{licenceID: ls[0].ID, departmentID: police.ID}
}

func (f usageFixture) record(i int) licence.UsageRecord {
	return licence.UsageRecord{
		LicenceID: f.licenceID, OfficerOpenID: demo.OfficerPolice, DepartmentID: f.departmentID,
		Purpose: demo.PurposeTrafficEnforcement, Scope: "basic", Result: "valid", ReasonCode: "ok",
		ClientIP: fmt.Sprintf("192.0.2.%d", i%250+1), At: demoNow.Add(time.Duration(i) * time.Second),
	}
}

func usageRows(t *testing.T, s *Store) []usageRecordRow {
	t.Helper()
	var rows []usageRecordRow
	if err := s.q(testCtx(t)).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func pending(t *testing.T, s *Store) int64 {
	t.Helper()
	n, err := s.PendingAudit(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUsageRecordsAreChainedLater: recording a verification writes the
// usage record alone; ChainPending then appends it, one entry per record
// holding all its columns, marks the record with its entry, and the chain
// verifies before and after.
func TestUsageRecordsAreChainedLater(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		f := newUsageFixture(t, s)
		entries := count(t, s, "audit_events")
		for i := range 3 {
			if err := s.RecordUsage(ctx, f.record(i)); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, s, "audit_events"); n != entries {
			t.Fatalf("recording usage wrote %d audit entries, want none until chained", n-entries)
		}
		if p := pending(t, s); p != 3 {
			t.Fatalf("pending = %d, want 3", p)
		}
		if n, err := s.VerifyAudit(ctx); err != nil || n != entries {
			t.Fatalf("VerifyAudit with records waiting = %d, %v; want %d, nil", n, err, entries)
		}
		if _, err := s.ChainPending(ctx, 0); err == nil {
			t.Fatal("ChainPending accepted a batch of 0")
		}
		for _, want := range []int{2, 1, 0} {
			if n, err := s.ChainPending(ctx, 2); err != nil || n != want {
				t.Fatalf("ChainPending(2) = %d, %v; want %d", n, err, want)
			}
		}
		if p := pending(t, s); p != 0 {
			t.Fatalf("pending after chaining = %d", p)
		}
		n, err := s.VerifyAudit(ctx)
		if err != nil || n != entries+3 {
			t.Fatalf("VerifyAudit = %d, %v; want %d", n, err, entries+3)
		}
		evs, err := s.AuditEvents(ctx, entries, 10)
		if err != nil || len(evs) != 3 {
			t.Fatal(evs, err)
		}
		for i, r := range usageRows(t, s) {
			e := evs[i]
			var d usageDetail
			if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
				t.Fatalf("entry %d detail %q: %v", e.Seq, e.Detail, err)
			}
			want := usageDetail{Usage: r.ID, Department: f.departmentID, Purpose: demo.PurposeTrafficEnforcement, Scope: "basic", Reason: "ok", IP: f.record(i).ClientIP}
			if r.AuditID == nil || *r.AuditID != e.Seq || d != want || e.Action != "verification.valid" ||
				e.Actor != audit.ActorOfficer(demo.OfficerPolice) || e.Object != fmt.Sprintf("licence:%d", f.licenceID) || !e.At.Equal(f.record(i).At) {
				t.Fatalf("record %+v chained as %+v", r, e)
			}
		}
	}))
}

// errRollback undoes a tampering test's edit.
var errRollback = errors.New("roll back")

// TestChainedUsageTamperingIsDetected: once chained, a usage record that
// is edited, deleted or unmarked, or a mark moved to hide a waiting
// record or to claim another entry, fails VerifyAudit at the entry
// concerned. Each edit runs in a transaction that VerifyAudit reads
// through and that is rolled back afterwards.
func TestChainedUsageTamperingIsDetected(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		f := newUsageFixture(t, s)
		for i := range 3 {
			if err := s.RecordUsage(ctx, f.record(i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.ChainPending(ctx, 10); err != nil {
			t.Fatal(err)
		}
		// An entry of another kind after them, and a record still waiting.
		other, err := s.AppendAudit(ctx, audit.Event{Actor: "cli:test", Action: "officer.add", Object: "department:1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecordUsage(ctx, f.record(3)); err != nil {
			t.Fatal(err)
		}
		rows := usageRows(t, s)
		chained, waiting := rows[1], rows[3]
		seq := *chained.AuditID
		if n, err := s.VerifyAudit(ctx); err != nil || n != other.Seq {
			t.Fatalf("VerifyAudit before tampering = %d, %v", n, err)
		}

		tests := []struct {
			name    string
			sql     string
			args    []any
			wantSeq int64
		}{
			{"edited purpose", "UPDATE usage_records SET purpose = ? WHERE id = ?", []any{demo.PurposeAccidentHandling, chained.ID}, seq},
			{"edited result", "UPDATE usage_records SET result = 'invalid' WHERE id = ?", []any{chained.ID}, seq},
			{"edited client IP", "UPDATE usage_records SET client_ip = '198.51.100.7' WHERE id = ?", []any{chained.ID}, seq},
			{"edited time", "UPDATE usage_records SET at = ? WHERE id = ?", []any{demoNow.Add(-time.Hour), chained.ID}, seq},
			{"edited officer", "UPDATE usage_records SET officer_openid = ? WHERE id = ?", []any{demo.OfficerHousing, chained.ID}, seq},
			{"deleted", "DELETE FROM usage_records WHERE id = ?", []any{chained.ID}, seq},
			{"unmarked", "UPDATE usage_records SET audit_id = NULL WHERE id = ?", []any{chained.ID}, seq},
			{"marked as audited in its own transaction", "UPDATE usage_records SET audit_id = 0 WHERE id = ?", []any{chained.ID}, seq},
			{"waiting record claims a chained record's entry", "UPDATE usage_records SET audit_id = ? WHERE id = ?", []any{seq, waiting.ID}, seq},
			{"waiting record claims another kind of entry", "UPDATE usage_records SET audit_id = ? WHERE id = ?", []any{other.Seq, waiting.ID}, other.Seq},
			{"waiting record claims an entry past the end", "UPDATE usage_records SET audit_id = ? WHERE id = ?", []any{other.Seq + 5, waiting.ID}, other.Seq + 1},
			{"waiting record hidden as audited in its own transaction", "UPDATE usage_records SET audit_id = 0 WHERE id = ?", []any{waiting.ID}, other.Seq + 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InTx(ctx, func(tx *Store) error {
					if err := tx.q(ctx).Exec(tt.sql, tt.args...).Error; err != nil {
						return err
					}
					_, err := tx.VerifyAudit(ctx)
					var te *TamperError
					if !errors.As(err, &te) || !errors.Is(err, ErrAuditTampered) || te.Seq != tt.wantSeq {
						return fmt.Errorf("VerifyAudit = %w, want tampering at entry %d", err, tt.wantSeq)
					}
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					t.Fatal(err)
				}
			})
		}
		if _, err := s.VerifyAudit(ctx); err != nil {
			t.Fatalf("VerifyAudit after the rolled-back edits: %v", err)
		}
	}))
}

// insertUsageRow inserts a usage record as builds before deferred
// chaining did, naming no audit_id (the column may not exist yet; when it
// does, its default marks the row), and returns its id.
func insertUsageRow(ctx context.Context, s *Store, u licence.UsageRecord) (int64, error) {
	if err := s.q(ctx).Exec(`INSERT INTO usage_records (licence_id, officer_openid, department_id, purpose, scope, result, reason_code, client_ip, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.LicenceID, u.OfficerOpenID, u.DepartmentID, u.Purpose, u.Scope, u.Result, u.ReasonCode, u.ClientIP, utc(u.At)).Error; err != nil {
		return 0, err
	}
	var id int64
	err := s.q(ctx).Raw("SELECT MAX(id) FROM usage_records").Scan(&id).Error
	return id, err
}

// writeOwnTxUsage writes a usage record as builds before deferred
// chaining did (and an older instance still does during a rolling
// upgrade): the row and its entry in the same transaction.
func writeOwnTxUsage(t *testing.T, s *Store, u licence.UsageRecord) int64 {
	t.Helper()
	ctx := testCtx(t)
	var id int64
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if id, err = insertUsageRow(ctx, tx, u); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, audit.Event{At: u.At, Actor: audit.ActorOfficer(u.OfficerOpenID), Action: "verification." + u.Result,
			Object: fmt.Sprintf("licence:%d", u.LicenceID),
			Detail: fmt.Sprintf("department=%d purpose=%s scope=%s reason=%s usage=%d", u.DepartmentID, u.Purpose, u.Scope, u.ReasonCode, id)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestOwnTransactionUsageRecords: a record audited in its own transaction
// (an earlier build, or an older instance during a rolling upgrade) is not
// chained again, verifies beside chained ones, and is still checked
// against its entry.
func TestOwnTransactionUsageRecords(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		f := newUsageFixture(t, s)
		own := writeOwnTxUsage(t, s, f.record(0))
		if err := s.RecordUsage(ctx, f.record(1)); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ChainPending(ctx, 10); err != nil || n != 1 {
			t.Fatalf("ChainPending = %d, %v; want only the new record", n, err)
		}
		rows := usageRows(t, s)
		if rows[0].AuditID == nil || *rows[0].AuditID != 0 {
			t.Fatalf("own-transaction record marked %v, want 0", rows[0].AuditID)
		}
		if _, err := s.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
		err := s.InTx(ctx, func(tx *Store) error {
			if err := tx.q(ctx).Exec("UPDATE usage_records SET reason_code = 'expired' WHERE id = ?", own).Error; err != nil {
				return err
			}
			if _, err := tx.VerifyAudit(ctx); !errors.Is(err, ErrAuditTampered) {
				return fmt.Errorf("edited own-transaction record: VerifyAudit = %w", err)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
	}))
}

// TestMigrationMarksEarlierUsageRecords: migration 0008 marks the records
// an earlier entry names as audited in their own transaction and leaves a
// record no entry names (from before verifications were audited) to the
// chainer.
func TestMigrationMarksEarlierUsageRecords(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := testCtx(t)
			s := openStore(t, b.name, b.dsn(t), false)
			ms, err := loadMigrations(b.name)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.createMigrationsTable(ctx); err != nil {
				t.Fatal(err)
			}
			// Every migration but 0008, so that today's code can seed the
			// demo data: Migrate then applies 0008 alone, as an upgrade would.
			for _, m := range ms {
				if m.version != 8 {
					if err := s.apply(ctx, m); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := demo.Seed(ctx, TxAs[demo.Repository](s), demoNow); err != nil {
				t.Fatal(err)
			}
			f := newUsageFixture(t, s)
			audited := writeOwnTxUsage(t, s, f.record(0))
			// A purpose holding "usage=" must not confuse the migration.
			tricky := f.record(1)
			tricky.Purpose = "核对 usage=1 记录"
			audited2 := writeOwnTxUsage(t, s, tricky)
			if _, err := insertUsageRow(ctx, s, f.record(2)); err != nil {
				t.Fatal(err)
			}

			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			marks := map[int64]string{}
			for _, r := range usageRows(t, s) {
				marks[r.ID] = "waiting"
				if r.AuditID != nil {
					marks[r.ID] = fmt.Sprint(*r.AuditID)
				}
			}
			if marks[audited] != "0" || marks[audited2] != "0" || len(marks) != 3 || pending(t, s) != 1 {
				t.Fatalf("marks after migration = %v", marks)
			}
			if _, err := s.VerifyAudit(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := s.ChainPending(ctx, 10); err != nil || n != 1 {
				t.Fatalf("ChainPending = %d, %v", n, err)
			}
			if _, err := s.VerifyAudit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestChainersRace: two instances (connection pools of their own) chain
// while officers' records and other audited changes keep arriving. Every
// record is chained exactly once, whichever instance took it: the chain
// verifies (every entry names its record and every record's mark its
// entry) and holds one entry per record.
func TestChainersRace(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := testCtx(t)
			dsn := b.dsn(t)
			s := openStore(t, b.name, dsn, true)
			if err := demo.Seed(ctx, TxAs[demo.Repository](s), demoNow); err != nil {
				t.Fatal(err)
			}
			other := openStore(t, b.name, dsn, false)
			f := newUsageFixture(t, s)
			before := count(t, s, "audit_events")

			const writers, each, appends = 3, 30, 20
			var wg sync.WaitGroup
			errs := make(chan error, writers+3)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						if err := s.RecordUsage(ctx, f.record(w*each+i)); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range appends {
					if _, err := other.AppendAudit(ctx, audit.Event{Actor: "cli:test", Action: "test.append", Object: fmt.Sprint(i)}); err != nil {
						errs <- err
						return
					}
				}
			}()
			writing := make(chan struct{})
			go func() { wg.Wait(); close(writing) }()

			var chained [2]int
			var chainers sync.WaitGroup
			for i, st := range []*Store{s, other} {
				chainers.Add(1)
				go func() {
					defer chainers.Done()
					for {
						done := false
						select {
						case <-writing:
							done = true
						default:
						}
						// Small batches, so the two take turns often.
						n, err := st.ChainPending(ctx, 7)
						chained[i] += n
						if err != nil {
							errs <- err
							return
						}
						if done && n == 0 {
							return
						}
					}
				}()
			}
			chainers.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if t.Failed() {
				return
			}
			if chained[0]+chained[1] != writers*each || pending(t, s) != 0 {
				t.Fatalf("chained %v, %d waiting; want %d in all", chained, pending(t, s), writers*each)
			}
			n, err := s.VerifyAudit(ctx)
			if err != nil || n != before+writers*each+appends {
				t.Fatalf("VerifyAudit = %d, %v; want %d", n, err, before+writers*each+appends)
			}
			t.Logf("chained by each instance: %v", chained)
		})
	}
}
