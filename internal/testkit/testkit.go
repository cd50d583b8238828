// Package testkit holds helpers shared by tests across packages: a clock a
// test can set and move, and a buffer that captures log output written from
// several goroutines. It is imported only from _test files, so production
// code never depends on it.
package testkit

import (
	"bytes"
	"sync"
	"time"
)

// Clock is a settable test clock. Services take its Now method as their time
// source, so a test decides what "now" is; it is safe for concurrent use
// because handlers and workers read it while the test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads t until it is set or moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t, forwards or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock on by d (back if d is negative). It is named after
// time.Time.Add, as the clocks it replaced were.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// LogBuffer collects log output written from several goroutines (a server's
// handlers, a worker pool, a child process's stdout and stderr), which a bare
// bytes.Buffer would race on. The zero value is ready to use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it implements io.Writer for slog handlers and exec.Cmd.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
