package main

import (
	"io"
	"log/slog"
	"regexp"
)

// newLogger builds the one structured logger of the process. Its
// ReplaceAttr is a last line of defence: code must not log ID numbers or
// phone numbers, and should one slip into an error string, it is masked here.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: scrubAttr}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

var (
	residentIDPattern = regexp.MustCompile(`\b(\d{4})\d{10}(\d{3}[\dXx])\b`)
	phonePattern      = regexp.MustCompile(`\b(1[3-9]\d)\d{4}(\d{4})\b`)
)

func scrubAttr(_ []string, a slog.Attr) slog.Attr {
	var s string
	switch a.Value.Kind() {
	case slog.KindString:
		s = a.Value.String()
	case slog.KindAny:
		err, ok := a.Value.Any().(error)
		if !ok {
			return a
		}
		s = err.Error()
	default:
		return a
	}
	s = residentIDPattern.ReplaceAllString(s, "$1**********$2")
	s = phonePattern.ReplaceAllString(s, "$1****$2")
	a.Value = slog.StringValue(s)
	return a
}
