package reminder_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

// population describes n licences with every combination the sweep must
// tell apart, and computes the rows a correct sweep makes (the oracle).
type population struct {
	specs   []lic
	optOut  []bool
	extra   []bool // a second bound, subscribed account for the holder
	stages  map[string][]int
	daysOut []int
}

const (
	customType  = "91140522MA0000000X901" // stages [60, 15]
	defaultType = demo.TypeMarriageCertificate
)

func newPopulation(f *fixture, n int) *population {
	p := &population{stages: map[string][]int{
		demo.TypeDrivingLicence: {7, 30, 90},
		defaultType:             {7, 30, 90}, // '[]' in the catalogue: the configured default
		customType:              {15, 60},
	}}
	for i := 0; i < n; i++ {
		days := i%200 - 20
		s := lic{until: f.day(days), openid: fmt.Sprintf("o-%d", i), subscribed: true, typeCode: demo.TypeDrivingLicence}
		switch {
		case i%5 == 0:
			s.typeCode = customType
		case i%7 == 0:
			s.typeCode = defaultType
		}
		switch {
		case i%37 == 0:
			s.status = "revoked"
		case i%41 == 0:
			s.status = "suspended"
		}
		switch {
		case i%11 == 0:
			s.openid = ""
		case i%13 == 0:
			s.subscribed = false
		case i%17 == 0:
			s.unbound = true
		}
		if i%101 == 0 {
			s.until = nil
		}
		p.specs = append(p.specs, s)
		p.optOut = append(p.optOut, i%19 == 0)
		p.extra = append(p.extra, i%23 == 0)
		p.daysOut = append(p.daysOut, days)
	}
	return p
}

// seed writes the population and returns the licence ids.
func (p *population) seed(f *fixture) []int64 {
	f.exec(`INSERT INTO licence_types (code, name, holder_kind, fields, validity_years, reminder_stages, created_at)
VALUES (?, '测试许可证', 'person', '[]', 3, '[60,15]', ?)`, customType, time.Now().UTC())
	ids := f.seed(p.specs)
	var ov, av []string
	var oargs, aargs []any
	for i, id := range ids {
		if p.optOut[i] {
			ov = append(ov, "(?, ?, ?)")
			oargs = append(oargs, id, id, time.Now().UTC())
		}
		if p.extra[i] {
			av = append(av, "(?, ?, 1, ?)")
			aargs = append(aargs, fmt.Sprintf("o-extra-%d", i), id, time.Now().UTC())
		}
	}
	f.exec("INSERT INTO reminder_optouts (licence_id, holder_id, created_at) VALUES "+strings.Join(ov, ","), oargs...)
	f.exec("INSERT INTO accounts (openid, holder_id, subscribed, created_at) VALUES "+strings.Join(av, ","), aargs...)
	return ids
}

// want is the oracle: "licence/stage" → state.
func (p *population) want(ids []int64) map[string]string {
	out := map[string]string{}
	for i, s := range p.specs {
		reachable := (s.openid != "" && s.subscribed && !s.unbound) || p.extra[i]
		if s.status != "" || s.until == nil || !reachable || p.optOut[i] || p.daysOut[i] < 0 {
			continue
		}
		var due []int
		for _, st := range p.stages[s.typeCode] {
			if p.daysOut[i] <= st {
				due = append(due, st)
			}
		}
		for j, st := range due {
			state := "skipped"
			if j == 0 {
				state = "pending"
			}
			out[fmt.Sprintf("%d/%d", ids[i], st)] = state
		}
	}
	return out
}

func (f *fixture) stateMap() map[string]string {
	out := map[string]string{}
	for _, r := range f.rows("") {
		out[fmt.Sprintf("%d/%d", r.LicenceID, r.Stage)] = r.State
	}
	return out
}

// TestReminderConcurrentSweeps: five instances sweep 10,000 licences at
// once; the outbox holds exactly the due rows, each once.
func TestReminderConcurrentSweeps(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		p := newPopulation(f, 10_000)
		ids := p.seed(f)
		want := p.want(ids)

		var svcs []*reminder.Service
		for i := 0; i < 5; i++ {
			svc, _ := f.service(f.open(), func(o *reminder.Options) { o.Worker = fmt.Sprintf("sweeper-%d", i) })
			svcs = append(svcs, svc)
		}
		start := make(chan struct{})
		errs := make(chan error, len(svcs))
		results := make(chan reminder.SweepResult, len(svcs))
		var wg sync.WaitGroup
		for _, svc := range svcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := svc.Sweep(context.Background())
				errs <- err
				results <- res
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		close(results)
		for err := range errs {
			if err != nil {
				t.Fatalf("sweep: %v", err)
			}
		}
		var inserted int64
		for r := range results {
			inserted += r.Pending + r.Skipped
		}
		got := f.stateMap()
		pending := 0
		for _, s := range want {
			if s == "pending" {
				pending++
			}
		}
		if pending < 1000 {
			t.Fatalf("the population has only %d due licences: the test would prove little", pending)
		}
		if len(got) != len(want) || int64(len(want)) != inserted {
			t.Fatalf("%d rows (sweeps reported %d inserted), want %d", len(got), inserted, len(want))
		}
		for k, w := range want {
			if got[k] != w {
				t.Fatalf("row %s = %q, want %q", k, got[k], w)
			}
		}
		var n int
		if err := f.raw.QueryRowContext(f.ctx, "SELECT COUNT(*) FROM reminders").Scan(&n); err != nil || n != len(want) {
			t.Fatalf("COUNT(*) = %d, %v; want %d", n, err, len(want))
		}
		t.Logf("%d licences, %d due, %d rows", len(ids), pending, n)
	})
}

// seedDue seeds n licences 3 days from expiry, sweeps them (stage 7
// pending, 30 and 90 skipped) and returns the pending rows' ids.
func seedDue(t *testing.T, f *fixture, n int) []int64 {
	t.Helper()
	specs := make([]lic, n)
	for i := range specs {
		specs[i] = lic{until: f.day(3), openid: fmt.Sprintf("o-%d", i), subscribed: true}
	}
	f.seed(specs)
	svc, _ := f.service(nil, nil)
	res, err := svc.Sweep(context.Background())
	if err != nil || res.Pending != int64(n) {
		t.Fatalf("sweep: %+v, %v", res, err)
	}
	var ids []int64
	for _, r := range f.rows("state = 'pending'") {
		ids = append(ids, r.ID)
	}
	return ids
}

// startChild starts a dispatcher process: this test binary in child mode.
func startChild(t *testing.T, f *fixture, worker string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEnv+"=1", childDriver+"="+f.driver, childDSN+"="+f.dsn, childFake+"="+fakeURL,
		childRedis+"="+f.redis.Key(), childWorker+"="+worker)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dispatcher process: %v", err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, &out
}

// TestReminderDispatcherProcesses: three dispatcher processes drain 5,000
// rows; the fake counts exactly one send per client_msg_id.
func TestReminderDispatcherProcesses(t *testing.T) {
	f := newFixture(t, store.DriverMySQL)
	f.clock.Set(time.Now()) // the processes run on the real clock
	ids := seedDue(t, f, 5000)

	type proc struct {
		cmd *exec.Cmd
		out *bytes.Buffer
	}
	var procs []proc
	for i := 0; i < 3; i++ {
		cmd, out := startChild(t, f, fmt.Sprintf("dispatcher-%d", i))
		procs = append(procs, proc{cmd, out})
	}
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("dispatcher %d: %v\n%s", i, err, p.out)
		}
	}
	st := fake.Stats()
	if st.SendsAccepted != len(ids) || st.Messages != len(ids) {
		t.Fatalf("fake accepted %d sends, recorded %d messages; want %d each", st.SendsAccepted, st.Messages, len(ids))
	}
	for _, id := range ids {
		if n := sendCount(id); n != 1 {
			t.Fatalf("row %d sent %d times", id, n)
		}
	}
	byWorker := map[string]int{}
	for _, r := range f.rows("stage = 7") {
		if r.State != "sent" {
			t.Fatalf("row not sent: %+v", r)
		}
		byWorker[r.LeasedBy]++
	}
	t.Logf("rows per dispatcher: %v", byWorker)
}

// TestReminderDispatcherKilled: a dispatcher process is killed with SIGKILL
// mid-send; a fresh dispatcher finishes. Nothing is lost, and the only rows
// sent twice are rows that were leased (in flight) at the kill, each logged
// as a resend.
func TestReminderDispatcherKilled(t *testing.T) {
	f := newFixture(t, store.DriverMySQL)
	f.clock.Set(time.Now())
	ids := seedDue(t, f, 5000)

	cmd, out := startChild(t, f, "doomed")
	waitFor(t, "the dispatcher process to send 1,000 messages", func() bool { return fake.Stats().SendsAccepted >= 1000 })
	// Freeze the process inside a send (the fake holds the next request for
	// a few seconds), then kill it there: that message is in flight.
	if err := fake.InjectFault(fakewx.Fault{Path: sendPath, Delay: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dispatcher to be inside a send", func() bool { return len(fake.PendingFaults()) == 0 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the dispatcher finished before it was killed\n%s", out)
	}
	var inFlight []int64
	for _, r := range f.rows("state = 'sending'") {
		inFlight = append(inFlight, r.ID)
	}
	if len(inFlight) == 0 {
		t.Fatal("no row was leased at the kill")
	}
	// The fake finishes the held request after the client vanished, as
	// WeChat would: that message was delivered though never recorded.
	waitFor(t, "the held send to be accepted", func() bool {
		return slices.ContainsFunc(inFlight, func(id int64) bool { return sendCount(id) == 1 })
	})

	// A fresh dispatcher, once the dead one's leases have run out.
	f.clock.Set(time.Now().Add(defaultOptions().Lease + time.Minute))
	svc, _ := f.service(nil, func(o *reminder.Options) { o.Quiet = reminder.QuietHours{}; o.Worker = "fresh" })
	sum := drainAll(t, f, svc)
	if sum.Resent != len(inFlight) {
		t.Fatalf("resent %d rows, %d were in flight", sum.Resent, len(inFlight))
	}

	logged := map[int64]bool{}
	for _, rec := range records(f.logs, "resending row that was in flight") {
		logged[int64(rec["row_id"].(float64))] = true
	}
	var dup []int64
	for _, id := range ids {
		n := sendCount(id)
		switch {
		case n == 0:
			t.Fatalf("row %d lost", id)
		case n > 1:
			dup = append(dup, id)
			if !slices.Contains(inFlight, id) || n != 2 {
				t.Fatalf("row %d sent %d times but was not in flight at the kill", id, n)
			}
		}
	}
	for _, id := range inFlight {
		if !logged[id] {
			t.Fatalf("in-flight row %d was resent without the log line", id)
		}
	}
	for _, r := range f.rows("stage = 7") {
		if r.State != "sent" {
			t.Fatalf("row not sent: %+v", r)
		}
	}
	// Every duplicate send was dropped by client_msg_id: one message each.
	if st := fake.Stats(); st.Messages != len(ids) {
		t.Fatalf("%d messages recorded for %d rows", st.Messages, len(ids))
	}
	sort.Slice(dup, func(i, j int) bool { return dup[i] < dup[j] })
	t.Logf("%d rows in flight at the kill, %d sent twice (dropped by WeChat as duplicates): %v", len(inFlight), len(dup), dup)
}

// TestReminderConcurrentDispatchersSQLite: the single-writer claim on SQLite
// splits the queue between dispatchers of one process.
func TestReminderConcurrentDispatchersSQLite(t *testing.T) {
	f := newFixture(t, store.DriverSQLite)
	ids := seedDue(t, f, 600)
	var svcs []*reminder.Service
	for i := 0; i < 3; i++ {
		svc, _ := f.service(f.open(), func(o *reminder.Options) { o.Worker = fmt.Sprintf("d%d", i); o.BatchSize = 20 })
		svcs = append(svcs, svc)
	}
	for try := 0; try < 5 && (try == 0 || len(f.rows("state = 'pending'")) > 0); try++ {
		f.clock.Add(time.Duration(try) * time.Hour) // past the backoff of a send that timed out
		var wg sync.WaitGroup
		errs := make(chan error, len(svcs))
		for _, svc := range svcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var sum reminder.Summary
				errs <- svc.Drain(context.Background(), &sum)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range ids {
		if n := sendCount(id); n != 1 {
			t.Fatalf("row %d sent %d times", id, n)
		}
	}
}
