// Package wxsender adapts the WeChat client to reminder.Sender. It lives
// apart from package reminder so the domain does not depend on the WeChat
// SDK: dependencies point from adapters to the domain.
package wxsender

import (
	"context"
	"errors"
	"fmt"

	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/wechat"
)

// Client is the part of *wechat.Client the adapter uses.
type Client interface {
	SendTemplate(ctx context.Context, msg wechat.TemplateMessage) (int64, error)
}

// Sender sends reminders through a WeChat client.
type Sender struct{ c Client }

var _ reminder.Sender = (*Sender)(nil)

// New wraps c.
func New(c Client) (*Sender, error) {
	if c == nil {
		return nil, errors.New("wxsender: client is nil")
	}
	return &Sender{c: c}, nil
}

// SendTemplate sends m. WeChat's errcodes come back as *reminder.SendError
// (wrapping the client's error); failures to reach WeChat (network, HTTP
// 5xx, timeouts) are marked fault.Unavailable, which the reminder policy
// treats as transient.
func (s *Sender) SendTemplate(ctx context.Context, m reminder.Message) (int64, error) {
	id, err := s.c.SendTemplate(ctx, wechat.TemplateMessage{
		ToUser: m.ToUser, TemplateID: m.TemplateID, URL: m.URL, Data: m.Data, ClientMsgID: m.ClientMsgID,
	})
	if err == nil {
		return id, nil
	}
	var apiErr *wechat.APIError
	if errors.As(err, &apiErr) {
		return 0, fmt.Errorf("%w (%w)", &reminder.SendError{Code: apiErr.Code, Msg: apiErr.Msg}, err)
	}
	return 0, fault.Unavailable("wechat", err)
}
