// Command testsum gives `make test` one closing line for all its suites.
//
//	go test -json ./... | go run ./internal/tools/testsum -go DIR/go.counts
//	go run ./internal/tools/testsum -report DIR
//
// With -go it reads `go test -json` on stdin and prints what plain `go test`
// prints (a line per package, the output of failing tests), then writes the
// counts of top-level tests to the file; it exits 1 if anything failed.
// With -report it reads the counts of every suite left in DIR (go.counts,
// the H5 unit tests' vitest log miniapp.log, the browser tests' node test
// log e2e.log, lint.status) and prints one line per suite, then the total
// as "N passed, N failed" on a line of its own.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	goCounts := flag.String("go", "", "read go test -json on stdin, write counts to this file")
	report := flag.String("report", "", "print the summary of the suites in this directory")
	flag.Parse()
	switch {
	case *goCounts != "":
		ok, err := filterGo(os.Stdin, os.Stdout, *goCounts)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsum:", err)
			os.Exit(2)
		}
		if !ok {
			os.Exit(1)
		}
	case *report != "":
		if !printReport(os.Stdout, *report) {
			os.Exit(1)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type counts struct{ passed, failed, skipped int }

// filterGo prints plain go test output from the JSON stream and records
// the counts of top-level tests.
func filterGo(r io.Reader, w io.Writer, countsFile string) (bool, error) {
	var c counts
	pkgFailed := false
	buffered := map[string][]string{} // package + test → output lines
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// Build errors and the like come through as plain text.
			fmt.Fprintln(w, string(line))
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output":
			if e.Test == "" {
				fmt.Fprint(w, e.Output)
			} else {
				buffered[key] = append(buffered[key], e.Output)
			}
		case "pass", "fail", "skip":
			if e.Test == "" {
				pkgFailed = pkgFailed || e.Action == "fail"
				continue
			}
			if e.Action == "fail" {
				fmt.Fprint(w, strings.Join(buffered[key], ""))
			}
			delete(buffered, key)
			if strings.Contains(e.Test, "/") {
				continue
			}
			switch e.Action {
			case "pass":
				c.passed++
			case "fail":
				c.failed++
			case "skip":
				c.skipped++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	if pkgFailed && c.failed == 0 {
		c.failed++ // a package that failed to build or panicked outside a test
	}
	err := os.WriteFile(countsFile, fmt.Appendf(nil, "%d %d %d\n", c.passed, c.failed, c.skipped), 0o644)
	return c.failed == 0 && !pkgFailed, err
}

var (
	vitestTests = regexp.MustCompile(`Tests\s+(?:(\d+) failed\s*\|\s*)?(?:(\d+) passed)?`)
	nodePass    = regexp.MustCompile(`(?m)^\S*\s*pass (\d+)\s*$`)
	nodeFail    = regexp.MustCompile(`(?m)^\S*\s*fail (\d+)\s*$`)
)

// printReport prints the suites' counts and the total; false if any
// suite failed or is missing.
func printReport(w io.Writer, dir string) bool {
	var total counts
	ok := true
	var parts []string
	add := func(name string, c counts, found bool) {
		if !found {
			parts = append(parts, name+": did not run")
			ok = false
			return
		}
		total.passed += c.passed
		total.failed += c.failed
		total.skipped += c.skipped
		ok = ok && c.failed == 0
		s := fmt.Sprintf("%s: %d passed, %d failed", name, c.passed, c.failed)
		if c.skipped > 0 {
			s += fmt.Sprintf(", %d skipped", c.skipped)
		}
		parts = append(parts, s)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "go.counts")); err == nil {
		f := strings.Fields(string(raw))
		c := counts{}
		if len(f) == 3 {
			c.passed, _ = strconv.Atoi(f[0])
			c.failed, _ = strconv.Atoi(f[1])
			c.skipped, _ = strconv.Atoi(f[2])
		}
		add("go", c, len(f) == 3)
	} else {
		add("go", counts{}, false)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "miniapp.log")); err == nil {
		ms := vitestTests.FindAllStringSubmatch(stripANSI(string(raw)), -1)
		c := counts{}
		if len(ms) > 0 {
			m := ms[len(ms)-1]
			c.failed, _ = strconv.Atoi(m[1])
			c.passed, _ = strconv.Atoi(m[2])
		}
		add("h5 unit", c, len(ms) > 0)
	} else {
		add("h5 unit", counts{}, false)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "e2e.log")); err == nil {
		text := stripANSI(string(raw))
		p, f := nodePass.FindAllStringSubmatch(text, -1), nodeFail.FindAllStringSubmatch(text, -1)
		c := counts{}
		if len(p) > 0 && len(f) > 0 {
			c.passed, _ = strconv.Atoi(p[len(p)-1][1])
			c.failed, _ = strconv.Atoi(f[len(f)-1][1])
		}
		add("browser", c, len(p) > 0 && len(f) > 0)
	} else {
		add("browser", counts{}, false)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "lint.status")); err == nil && strings.TrimSpace(string(raw)) == "0" {
		parts = append(parts, "lint: clean")
	} else {
		parts = append(parts, "lint: FAILED")
		ok = false
	}
	fmt.Fprintln(w, "suites: "+strings.Join(parts, "; "))
	fmt.Fprintf(w, "%d passed, %d failed\n", total.passed, total.failed)
	return ok
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }
