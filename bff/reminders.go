package main

import (
	"errors"
	"time"

	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/reminder/wxsender"
	"github.com/yangcheng-county/elicence/internal/store"
)

// errRemindersOff is what `remind` says when there is nothing it may send with.
var errRemindersOff = errors.New("remind: expiry reminders are off: wechat.expiry_template_id is empty (take the template id from the public account's template library)")

// reminderService builds the reminder dispatcher, or nil with a warning when
// no template id is configured: a county whose template is still awaiting
// approval must still be able to log citizens in and verify licences, so a
// blank id turns reminders off instead of stopping the server. Every other
// reminder setting is still checked and fails start-up.
func (a *app) reminderService(remStore *store.Reminders, now func() time.Time) (*reminder.Service, error) {
	if a.cfg.WeChat.ExpiryTemplateID == "" {
		a.log.Warn("expiry reminders are off: wechat.expiry_template_id is empty; set it to send them")
		return nil, nil
	}
	opts, err := reminder.OptionsFromConfig(a.cfg)
	if err != nil {
		return nil, err
	}
	metrics, err := reminder.NewMetrics(a.registry)
	if err != nil {
		return nil, err
	}
	sender, err := wxsender.New(a.wx)
	if err != nil {
		return nil, err
	}
	return reminder.NewService(reminder.Deps{Store: remStore, Sender: sender, Log: a.log, Metrics: metrics, Now: now}, opts)
}
