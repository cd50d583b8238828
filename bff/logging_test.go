package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestLoggerScrubsIDAndPhoneNumbers(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "info", "json")
	log.Info("lookup failed", "error", errors.New("holder 140522198503120016 phone 13800000001 not found"))
	out := buf.String()
	for _, secret := range []string{"140522198503120016", "13800000001"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log line leaks %s: %s", secret, out)
		}
	}
	if !strings.Contains(out, "1405**********0016") || !strings.Contains(out, "138****0001") {
		t.Fatalf("masked forms missing: %s", out)
	}
}
