package store

import (
	"github.com/yangcheng-county/elicence/internal/audit"

	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
)

var errBoom = errors.New("boom")

func TestInTxRollsBackEverything(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		before := tableCounts(t, s)
		const idn = "11010519491231002X"

		tests := []struct {
			name string
			fn   func(tx *Store) error
		}{
			{"error", func(tx *Store) error {
				h, err := tx.CreateHolder(ctx, licence.Holder{Kind: licence.HolderPerson, Name: "赵六", IDType: IDTypeResident, IDNumber: idn})
				if err != nil {
					return err
				}
				if _, err := tx.AppendAudit(ctx, audit.Event{Actor: "admin:test", Action: "holder.create", Object: fmt.Sprintf("holder:%d", h.ID)}); err != nil {
					return err
				}
				// Inside the transaction the new rows are visible.
				if _, err := tx.HolderByIDNumber(ctx, IDTypeResident, idn); err != nil {
					return fmt.Errorf("not visible inside the transaction: %w", err)
				}
				return errBoom
			}},
			{"nested error", func(tx *Store) error {
				return tx.InTx(ctx, func(inner *Store) error {
					if _, err := inner.AppendAudit(ctx, audit.Event{Actor: "admin:test", Action: "x"}); err != nil {
						return err
					}
					if err := inner.SetSubscribed(ctx, demo.CitizenZhangsan, false); err != nil {
						return err
					}
					return errBoom
				})
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := s.InTx(ctx, tt.fn); !errors.Is(err, errBoom) {
					t.Fatalf("InTx = %v, want the closure's error", err)
				}
				if after := tableCounts(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("rows changed by a rolled-back transaction: %v -> %v", before, after)
				}
			})
		}
		t.Run("panic", func(t *testing.T) {
			func() {
				defer func() {
					if recover() == nil {
						t.Fatal("panic did not propagate")
					}
				}()
				_ = s.InTx(ctx, func(tx *Store) error {
					if _, err := tx.AppendAudit(ctx, audit.Event{Actor: "admin:test", Action: "x"}); err != nil {
						return err
					}
					panic("boom")
				})
			}()
			if after := tableCounts(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("rows changed by a panicking transaction: %v -> %v", before, after)
			}
		})
		if _, err := s.HolderByIDNumber(ctx, IDTypeResident, idn); !errors.Is(err, licence.ErrNotFound) {
			t.Fatalf("rolled-back holder is visible: %v", err)
		}
		if a, _ := s.Get(ctx, demo.CitizenZhangsan); !a.Subscribed {
			t.Fatal("rolled-back subscription change is visible")
		}

		// The commit path keeps both the change and its audit event.
		err := s.InTx(ctx, func(tx *Store) error {
			if err := tx.SetSubscribed(ctx, demo.CitizenZhangsan, false); err != nil {
				return err
			}
			_, err := tx.AppendAudit(ctx, audit.Event{Actor: "wechat", Action: "account.unsubscribe", Object: "account:" + demo.CitizenZhangsan})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := s.Get(ctx, demo.CitizenZhangsan); a.Subscribed {
			t.Fatal("committed change is missing")
		}
		if n := count(t, s, "audit_events"); n != before["audit_events"]+1 {
			t.Fatalf("audit events = %d, want %d", n, before["audit_events"]+1)
		}
		if _, err := s.VerifyAudit(ctx); err != nil {
			t.Fatalf("VerifyAudit after rollbacks and a commit: %v", err)
		}
	}))
}

func TestAuditChainVerifiesAndDetectsTampering(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		reset := func(t *testing.T) {
			t.Helper()
			db := s.db.WithContext(ctx)
			if err := db.Exec("DELETE FROM audit_events").Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("UPDATE audit_head SET last_id = 0, last_hash = ? WHERE id = 1", genesisHash).Error; err != nil {
				t.Fatal(err)
			}
			at := time.Date(2025, 7, 1, 8, 0, 0, 987654321, time.UTC)
			for i := 1; i <= 5; i++ {
				ev, err := s.AppendAudit(ctx, audit.Event{At: at.Add(time.Duration(i) * time.Minute), Actor: "officer:" + demo.OfficerPolice,
					Action: "licence.verify", Object: fmt.Sprintf("licence:%d", i), Detail: `{"result":"valid"}`})
				if err != nil {
					t.Fatal(err)
				}
				if ev.Seq != int64(i) || len(ev.Hash) != 64 || ev.PrevHash == ev.Hash {
					t.Fatalf("appended %+v", ev)
				}
			}
		}
		reset(t)
		n, err := s.VerifyAudit(ctx)
		if err != nil || n != 5 {
			t.Fatalf("VerifyAudit = %d, %v; want 5, nil", n, err)
		}
		evs, err := s.AuditEvents(ctx, 0, 0)
		if err != nil || len(evs) != 5 {
			t.Fatalf("AuditEvents = %d, %v", len(evs), err)
		}
		if evs[0].PrevHash != genesisHash || evs[1].PrevHash != evs[0].Hash || evs[0].At.Nanosecond()%1000 != 0 {
			t.Fatalf("chain links wrong or time not truncated to µs: %+v", evs[:2])
		}

		tests := []struct {
			name string
			sql  string
			args []any
		}{
			{"edited detail", "UPDATE audit_events SET detail = ? WHERE id = 3", []any{`{"result":"invalid"}`}},
			{"edited actor", "UPDATE audit_events SET actor = ? WHERE id = 1", []any{"officer:someone-else"}},
			{"edited time", "UPDATE audit_events SET at = ? WHERE id = 2", []any{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}},
			{"rehashed row", "UPDATE audit_events SET detail = 'x', hash = ? WHERE id = 2", []any{genesisHash[:63] + "1"}},
			{"deleted middle row", "DELETE FROM audit_events WHERE id = 3", nil},
			{"deleted last row", "DELETE FROM audit_events WHERE id = 5", nil},
			{"head rewound", "UPDATE audit_head SET last_id = 4 WHERE id = 1", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				reset(t)
				if err := s.db.WithContext(ctx).Exec(tt.sql, tt.args...).Error; err != nil {
					t.Fatal(err)
				}
				if _, err := s.VerifyAudit(ctx); !errors.Is(err, ErrAuditTampered) {
					t.Fatalf("VerifyAudit = %v, want ErrAuditTampered", err)
				}
			})
		}
		t.Run("fork refused", func(t *testing.T) {
			reset(t)
			err := s.db.WithContext(ctx).Exec("INSERT INTO audit_events (id, at, actor, action, object, detail, prev_hash, hash) VALUES (99, ?, 'x', 'x', 'x', '', ?, ?)",
				time.Now().UTC(), evs[0].Hash, genesisHash).Error
			if err == nil {
				t.Fatal("a second event linking to the same predecessor was accepted")
			}
		})
	})
}

func TestAuditConcurrentAppendsKeepOneChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		const workers, each = 6, 5
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					err := s.InTx(ctx, func(tx *Store) error {
						_, err := tx.AppendAudit(ctx, audit.Event{Actor: fmt.Sprintf("worker:%d", w), Action: "test.append", Object: fmt.Sprint(i)})
						return err
					})
					if err != nil {
						errs <- err
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("append: %v", err)
		}
		if n, err := s.VerifyAudit(ctx); err != nil || n != workers*each {
			t.Fatalf("VerifyAudit = %d, %v; want %d", n, err, workers*each)
		}
	})
}
