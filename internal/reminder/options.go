package reminder

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/config"
)

// Message fields a template keyword can be mapped to (wechat.expiry_keywords).
const (
	FieldLicenceName = "licence_name" // the licence type's name, e.g. 机动车驾驶证
	FieldHolderName  = "holder_name"  // masked for persons: 张*
	FieldExpiryDate  = "expiry_date"  // last valid day, 2006年1月2日
	FieldDaysLeft    = "days_left"    // whole days until the expiry date, digits only
	FieldIssuer      = "issuer"       // the issuing department
)

var knownFields = []string{FieldLicenceName, FieldHolderName, FieldExpiryDate, FieldDaysLeft, FieldIssuer}

// Message fields of a status notice (reminder.change_keywords), besides
// licence_name, holder_name, issuer and expiry_date (for a notice: the
// licence's last valid day after the change, or 长期).
const (
	FieldChange     = "change"      // what happened, in words: 暂扣, 吊销, 注销, 撤销, 延续有效期
	FieldStatus     = "status"      // the status the change left, in words: 暂扣, 有效, …
	FieldChangeDate = "change_date" // the day the change took effect, 2006年1月2日
)

var noticeFields = []string{FieldLicenceName, FieldHolderName, FieldIssuer, FieldExpiryDate, FieldChange, FieldStatus, FieldChangeDate}

// Options are the reminder settings, read once from the configuration.
type Options struct {
	Location *time.Location
	// DailyAt is the sweep time, in minutes after midnight in Location.
	DailyAt int
	Quiet   QuietHours
	// Stages are the default days-before-expiry for types without their own.
	Stages      []int
	MaxAttempts int
	BatchSize   int
	Lease       time.Duration
	RetryBase   time.Duration
	// RetryMax caps the exponential backoff.
	RetryMax     time.Duration
	PollInterval time.Duration

	TemplateID string
	// Keywords maps template keywords (thing1, time3, …) to message fields.
	Keywords map[string]string
	// ChangeTemplateID and ChangeKeywords are the template of status
	// notices, mapped the same way.
	ChangeTemplateID string
	ChangeKeywords   map[string]string
	// PublicURL is the H5's base URL; a message links to
	// {PublicURL}/licences/{id}.
	PublicURL string
	// Worker names this process in leased_by; empty picks host-pid-random.
	Worker string
}

// OptionsFromConfig reads the reminder, template and public URL settings.
func OptionsFromConfig(c config.Config) (Options, error) {
	loc, err := time.LoadLocation(c.Reminder.TimeZone)
	if err != nil {
		return Options{}, fmt.Errorf("reminder: time zone %q: %w", c.Reminder.TimeZone, err)
	}
	daily, err := config.ParseClock(c.Reminder.DailyAt)
	if err != nil {
		return Options{}, fmt.Errorf("reminder: daily_at: %w", err)
	}
	var q QuietHours
	if c.Reminder.QuietHours != "" {
		start, end, err := config.ParseQuietHours(c.Reminder.QuietHours)
		if err != nil {
			return Options{}, fmt.Errorf("reminder: quiet_hours: %w", err)
		}
		q = QuietHours{Start: start, End: end, Set: true}
	}
	o := Options{
		Location:     loc,
		DailyAt:      daily,
		Quiet:        q,
		Stages:       slices.Clone(c.Reminder.Stages),
		MaxAttempts:  c.Reminder.MaxAttempts,
		BatchSize:    c.Reminder.BatchSize,
		Lease:        c.Reminder.Lease,
		RetryBase:    c.Reminder.RetryBase,
		PollInterval: c.Reminder.PollInterval,
		TemplateID:   c.WeChat.ExpiryTemplateID,
		Keywords:     c.WeChat.ExpiryKeywords,
		PublicURL:    c.PublicURL,

		ChangeTemplateID: c.Reminder.ChangeTemplateID,
		ChangeKeywords:   c.Reminder.ChangeKeywords,
	}
	return o, o.normalise()
}

// normalise fills defaults and rejects what would make every send fail.
func (o *Options) normalise() error {
	var errs []error
	if o.Location == nil {
		errs = append(errs, errors.New("reminder: Location is nil"))
	}
	if len(o.Stages) == 0 {
		o.Stages = []int{90, 30, 7}
	}
	for _, s := range o.Stages {
		if s < 1 {
			errs = append(errs, fmt.Errorf("reminder: stage %d is not a positive number of days", s))
		}
	}
	if o.MaxAttempts < 1 {
		errs = append(errs, errors.New("reminder: MaxAttempts must be at least 1"))
	}
	if o.BatchSize < 1 {
		errs = append(errs, errors.New("reminder: BatchSize must be at least 1"))
	}
	if o.Lease <= 0 || o.RetryBase <= 0 || o.PollInterval <= 0 {
		errs = append(errs, errors.New("reminder: Lease, RetryBase and PollInterval must be positive"))
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 6 * time.Hour
	}
	errs = append(errs, checkTemplate("wechat.expiry_template_id", o.TemplateID, "wechat.expiry_keywords", o.Keywords, knownFields)...)
	errs = append(errs, checkTemplate("reminder.change_template_id", o.ChangeTemplateID, "reminder.change_keywords", o.ChangeKeywords, noticeFields)...)
	if u, err := url.Parse(o.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("reminder: public URL %q is not an absolute http(s) URL", o.PublicURL))
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.Worker == "" {
		o.Worker = defaultWorker()
	}
	return errors.Join(errs...)
}

// checkTemplate rejects a template setting that would make every send of
// its messages fail or show nothing.
func checkTemplate(idKey, id, kwKey string, keywords map[string]string, fields []string) []error {
	var errs []error
	if id == "" {
		errs = append(errs, fmt.Errorf("reminder: %s is empty", idKey))
	}
	if len(keywords) == 0 {
		errs = append(errs, fmt.Errorf("reminder: %s is empty", kwKey))
	}
	for kw, field := range keywords {
		// first and remark were removed from template messages in 2023-05;
		// WeChat ignores them, so configuring them is a mistake.
		if kw == "" || kw == "first" || kw == "remark" {
			errs = append(errs, fmt.Errorf("reminder: %s: keyword %q is not allowed", kwKey, kw))
		}
		if !slices.Contains(fields, field) {
			errs = append(errs, fmt.Errorf("reminder: %s.%s: unknown field %q (want one of %s)", kwKey, kw, field, strings.Join(fields, ", ")))
		}
	}
	return errs
}

// defaultWorker names a dispatcher uniquely enough for leased_by: the host
// and pid tell an operator which process held a row, the random part keeps
// two dispatchers of one process apart.
func defaultWorker() string {
	host, _ := os.Hostname()
	if len(host) > 32 {
		host = host[:32]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
