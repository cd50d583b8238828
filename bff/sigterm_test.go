package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMUnderLoadFailsNoRequest: workers write through A (the reminder
// switch of a licence, a database write) as fast as it answers; A gets
// SIGTERM mid-run. A balancer in front polls A's /readyz as Kubernetes or a
// cloud load balancer does and sends requests to B once A is not ready (or
// refuses connections). Every request sent to A must be answered 200: A
// drains for http.drain_delay with /readyz at 503 before its listener
// closes. Afterwards A restarts and serves again.
func TestSIGTERMUnderLoadFailsNoRequest(t *testing.T) {
	// Ten readiness polls fit in the drain delay, however loaded the machine.
	a, b := startPair(t, "ELICENCE_HTTP_DRAIN_DELAY=2s")
	zhang := a.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")
	licence := drivingLicence(t, zhang)

	var aReady, sawDraining atomic.Bool
	aReady.Store(true)
	stopPolling := pollReadiness(a, &aReady, &sawDraining)
	defer stopPolling()

	const workers = 8
	var (
		stop              atomic.Bool
		okA, okB, movedTo atomic.Int32
		mu                sync.Mutex
		failures          []string
		wg                sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A new connection per request, as nginx makes to the replicas:
			// with kept-alive connections a client can write a request onto
			// a connection the draining server is closing as idle (the
			// HTTP/1.1 keep-alive race, which proxies retry), and the client
			// could not tell that from a request the server dropped.
			client := &http.Client{Jar: zhang.client.Jar, Timeout: 10 * time.Second,
				Transport: &http.Transport{DisableKeepAlives: true}}
			target := a
			for i := 0; !stop.Load() && i < 5000; i++ {
				if target == a && !aReady.Load() {
					target = b
					movedTo.Add(1)
				}
				body := fmt.Sprintf(`{"enabled":%t}`, (i+w)%2 == 0)
				req, _ := http.NewRequest("PUT", target.url+"/api/v1/licences/"+licence+"/reminders", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					if target == a && notAccepted(err) {
						target = b
						movedTo.Add(1)
						continue
					}
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %v", target.url, err))
					mu.Unlock()
					continue
				}
				resp.Body.Close()
				switch {
				case resp.StatusCode != 200:
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: status %d", target.url, resp.StatusCode))
					mu.Unlock()
				case target == a:
					okA.Add(1)
				default:
					okB.Add(1)
				}
			}
		}()
	}
	waitFor(t, func() bool { return okA.Load() >= 100 }, "100 answers from A")
	a.signal(syscall.SIGTERM)
	if err := a.wait(30 * time.Second); err != nil {
		t.Errorf("A after SIGTERM: %v", err)
	}
	waitFor(t, func() bool { return movedTo.Load() == workers }, "every worker on B")
	afterB := okB.Load()
	waitFor(t, func() bool { return okB.Load() >= afterB+50 }, "50 more answers from B")
	stop.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d failed requests (%d answered by A, %d by B), first: %v", len(failures), okA.Load(), okB.Load(), failures[:min(5, len(failures))])
	}
	if !strings.Contains(a.logs.String(), "draining") || !strings.Contains(a.logs.String(), "shutting down") {
		t.Fatalf("A did not drain on SIGTERM:\n%s", a.logs.String())
	}
	if !sawDraining.Load() {
		t.Fatal("the balancer never saw A's /readyz answer 503 while it drained")
	}

	a.restart(t)
	var me struct {
		RealnameVerified bool `json:"realname_verified"`
	}
	if code := zhang.call("GET", "/api/v1/me", nil, &me); code != 200 || !me.RealnameVerified {
		t.Fatalf("A after restart, same session: %d %+v", code, me)
	}
}

// pollReadiness is the balancer's health check: every 100 ms it asks s's
// /readyz and sets ready to whether it answered 200; draining records a 503
// answer (as opposed to a closed port). It stops when the returned func is
// called.
func pollReadiness(s *server, ready, draining *atomic.Bool) (stop func()) {
	done := make(chan struct{})
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			resp, err := client.Get(s.url + "/readyz")
			if err != nil {
				ready.Store(false)
				continue
			}
			resp.Body.Close()
			ready.Store(resp.StatusCode == http.StatusOK)
			if resp.StatusCode == http.StatusServiceUnavailable {
				draining.Store(true)
			}
		}
	}()
	return func() { close(done) }
}

// notAccepted reports whether err means the server never took the request:
// nothing listens any more.
func notAccepted(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// waitFor polls cond for up to 60 s.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
