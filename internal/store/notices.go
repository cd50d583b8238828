package store

import (
	"context"
	"fmt"

	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/reminder"
)

// enqueueNotices queues a status notice for the change recorded as history
// row eventID: one pending outbox row (kind notice) per account bound to
// the holder that follows the public account, unless the holder switched
// messages off for any version of the licence. It runs inside the change's
// transaction, so a change that commits is announced exactly once and a
// change that rolls back is not announced at all. The dispatcher sends the
// rows like expiry reminders (docs/REMINDERS.md).
func (s *Store) enqueueNotices(ctx context.Context, l licence.Licence, lineage, eventID int64, h licence.HistoryEntry) error {
	insert, conflict := "INSERT IGNORE INTO", ""
	if s.driver == DriverSQLite {
		insert, conflict = "INSERT INTO", reminderConflict
	}
	q := insert + ` reminders (licence_id, stage, expiry_date, licence_version, openid, state, attempts,
  next_attempt_at, created_at, updated_at, kind, event_id, action, licence_status, notice_to)
SELECT ?, 0, ?, ?, a.openid, ?, 0, ?, ?, ?, ?, ?, ?, ?, a.openid
FROM accounts a
WHERE a.holder_id = ? AND a.subscribed = 1
  AND NOT EXISTS (SELECT 1 FROM reminder_optouts o JOIN licences x ON x.id = o.licence_id
    WHERE o.holder_id = a.holder_id AND COALESCE(x.lineage_id, x.id) = ?)` + conflict
	now := utc(h.At)
	err := s.q(ctx).Exec(q, l.ID, dateOf(h.EffectiveAt), l.Version, string(reminder.StatePending), now, now, now,
		string(reminder.KindNotice), eventID, h.Action, string(h.ToStatus), l.HolderID, lineage).Error
	if err != nil {
		return fmt.Errorf("store: licence %d notice: %w", l.ID, err)
	}
	return nil
}
