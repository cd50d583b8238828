package wechat

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	oacontext "github.com/silenceper/wechat/v2/officialaccount/context"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/officialaccount/server"
	"github.com/silenceper/wechat/v2/util"
)

// Template job statuses WeChat reports in TEMPLATESENDJOBFINISH.
const (
	TemplateStatusSuccess      = "success"
	TemplateStatusUserBlock    = "failed:user block"
	TemplateStatusSystemFailed = "failed: system failed"
)

const (
	// maxEventBody bounds a pushed message; WeChat's are a few hundred bytes.
	maxEventBody = 64 << 10
	// maxClockSkew bounds how old or new a push's timestamp may be. The
	// signature covers only token, timestamp and nonce, so without a bound a
	// signed query string seen once (in a proxy log, say) would stay usable.
	maxClockSkew = 5 * time.Minute
)

// EventSink receives the pushed events the platform acts on. Implementations
// must be idempotent: WeChat re-pushes an event when the answer is slow or
// not 200, and the handler answers 500 when the sink fails so it does.
type EventSink interface {
	Subscribed(ctx context.Context, openid string) error
	Unsubscribed(ctx context.Context, openid string) error
	// TemplateFinished reports the fate of a template message: status is
	// TemplateStatusSuccess, TemplateStatusUserBlock or TemplateStatusSystemFailed.
	TemplateFinished(ctx context.Context, openid string, msgID int64, status string) error
}

// NonceStore remembers the (timestamp, nonce) of each accepted push for as
// long as its timestamp is inside the window, shared by every instance
// (redisx.NewEventNonces). The signature covers only token, timestamp and nonce,
// so without this memory a signed URL seen once (in a proxy log, say) could
// carry a forged body, e.g. a fake unsubscribe that cancels a citizen's
// reminders, until the window closes.
type NonceStore interface {
	// Claim records key for ttl and reports whether it was new.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Release forgets key, so WeChat's retry of a push that failed here
	// is handled rather than taken for a replay.
	Release(ctx context.Context, key string) error
}

// EventHandler serves the account's server URL (GET/POST /wechat/events):
// GET is WeChat's URL check (echo echostr), POST carries events. It checks
// the signature itself and answers 403, because the SDK's Serve only returns
// an error on a bad signature and writes nothing.
type EventHandler struct {
	token  string
	aes    bool
	ctx    *oacontext.Context
	sink   EventSink
	nonces NonceStore
	log    *slog.Logger
	now    func() time.Time
}

// NewEventHandler returns the handler for opts.Token. When opts.EncodingAESKey
// is set, POSTs must be in safe mode (encrypt_type=aes), whose msg_signature
// also covers the body; plaintext pushes are then refused. Safe mode is the
// recommended setting in production.
func NewEventHandler(opts Options, sink EventSink, nonces NonceStore, log *slog.Logger) (*EventHandler, error) {
	if sink == nil {
		return nil, errors.New("wechat: event sink is nil")
	}
	if nonces == nil {
		return nil, errors.New("wechat: nonce store is nil")
	}
	if log == nil {
		return nil, errors.New("wechat: logger is nil")
	}
	if len(opts.Token) < 3 || len(opts.Token) > 32 {
		return nil, errors.New("wechat: Token must be 3-32 characters")
	}
	aes := opts.EncodingAESKey != ""
	if aes && (len(opts.EncodingAESKey) != 43 || opts.AppID == "") {
		return nil, errors.New("wechat: EncodingAESKey must be 43 characters and needs AppID")
	}
	quietSDKLogs()
	return &EventHandler{
		token: opts.Token,
		aes:   aes,
		// The SDK's server needs only the config; the access-token handle
		// stays nil because replies are never sent.
		ctx: &oacontext.Context{Config: &offconfig.Config{
			AppID:          opts.AppID,
			Token:          opts.Token,
			EncodingAESKey: opts.EncodingAESKey,
		}},
		sink:   sink,
		nonces: nonces,
		log:    log,
		now:    time.Now,
	}, nil
}

// ServeHTTP implements http.Handler; mount it for GET and POST.
func (h *EventHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if !h.validSignature(q.Get("signature"), q.Get("timestamp"), q.Get("nonce")) {
		h.log.WarnContext(r.Context(), "wechat event: bad or stale signature", "method", r.Method)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodGet {
		echo := q.Get("echostr")
		if echo == "" {
			http.Error(w, "missing echostr", http.StatusBadRequest)
			return
		}
		writePlain(w, echo)
		return
	}
	if h.aes && q.Get("encrypt_type") != "aes" {
		h.log.WarnContext(r.Context(), "wechat event: plaintext push refused in safe mode")
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxEventBody)
	nonce := q.Get("timestamp") + ":" + q.Get("nonce")
	fresh, err := h.nonces.Claim(r.Context(), nonce, 2*maxClockSkew)
	if err != nil {
		h.log.ErrorContext(r.Context(), "wechat event: nonce store failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !fresh {
		// Already handled: a replay, or WeChat's retry of a push that
		// succeeded here. Acknowledged, not acted on again.
		h.log.WarnContext(r.Context(), "wechat event: replayed push ignored")
		writePlain(w, "success")
		return
	}

	srv := server.NewServer(h.ctx)
	srv.Request = r
	// The SDK writes "success" (or, in safe mode, nothing) on its own; it
	// writes into a discarding writer so that a sink failure can still
	// become a 500 below.
	srv.Writer = &discardWriter{header: http.Header{}}
	var event string
	var sinkErr error
	srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
		event = string(m.Event)
		sinkErr = h.dispatch(r.Context(), m)
		return nil
	})
	if err := srv.Serve(); err != nil {
		h.release(r.Context(), nonce)
		h.log.WarnContext(r.Context(), "wechat event: unreadable push", "err", redact(err.Error()))
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if sinkErr != nil {
		h.release(r.Context(), nonce)
		h.log.ErrorContext(r.Context(), "wechat event: sink failed", "event", event, "err", sinkErr)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writePlain(w, "success")
}

func (h *EventHandler) release(ctx context.Context, nonce string) {
	if err := h.nonces.Release(ctx, nonce); err != nil {
		h.log.WarnContext(ctx, "wechat event: release nonce", "err", err)
	}
}

func (h *EventHandler) validSignature(sig, timestamp, nonce string) bool {
	if sig == "" || timestamp == "" || nonce == "" {
		return false
	}
	want := util.Signature(h.token, timestamp, nonce)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return false
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	skew := h.now().Sub(time.Unix(ts, 0))
	return skew <= maxClockSkew && skew >= -maxClockSkew
}

// dispatch hands the events the platform cares about to the sink; user
// messages and other events are acknowledged and dropped.
func (h *EventHandler) dispatch(ctx context.Context, m *message.MixMessage) error {
	if m.MsgType != message.MsgTypeEvent {
		return nil
	}
	openid := string(m.FromUserName)
	if openid == "" {
		h.log.WarnContext(ctx, "wechat event: no FromUserName", "event", string(m.Event))
		return nil
	}
	switch m.Event {
	case message.EventSubscribe:
		return h.sink.Subscribed(ctx, openid)
	case message.EventUnsubscribe:
		return h.sink.Unsubscribed(ctx, openid)
	case message.EventTemplateSendJobFinish:
		return h.sink.TemplateFinished(ctx, openid, m.TemplateMsgID, m.Status)
	}
	return nil
}

func writePlain(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, s)
}

// discardWriter swallows what the SDK's server writes.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
