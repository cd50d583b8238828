package reminder

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the reminder series on /metrics. The gauges are refreshed by
// the scheduler after each pass, so they read the shared queue whichever
// instance sent the rows.
type Metrics struct {
	Sent         prometheus.Counter
	Failed       prometheus.Counter
	Dead         prometheus.Counter
	QueueDepth   prometheus.Gauge
	OldestDueAge prometheus.Gauge
}

// NewMetrics registers the reminder series on reg (the registry that serves
// /metrics; a fresh prometheus.NewRegistry() for one-shot commands).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("reminder: metrics registerer is nil")
	}
	m := &Metrics{
		Sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "elicence_reminders_sent_total", Help: "Expiry reminders accepted by WeChat.",
		}),
		Failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "elicence_reminders_failed_total", Help: "Expiry reminders refused permanently by WeChat (never retried).",
		}),
		Dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "elicence_reminders_dead_total", Help: "Expiry reminders given up after the maximum number of attempts.",
		}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "elicence_reminder_queue_depth", Help: "Outbox rows pending or being sent.",
		}),
		OldestDueAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "elicence_reminder_oldest_due_age_seconds", Help: "How long the oldest due pending reminder has waited (0 when none is due).",
		}),
	}
	for _, c := range []prometheus.Collector{m.Sent, m.Failed, m.Dead, m.QueueDepth, m.OldestDueAge} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
