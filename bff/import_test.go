package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCommand runs `bff import licences` as an operator would, on an
// embedded data directory: the summary is the last line of standard output,
// the exit status is 0 without rejected rows and 3 with them, flags may
// follow the file, and a dry run writes nothing.
func TestImportCommand(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "ELICENCE_DATA_DIR="+t.TempDir())
	dir := t.TempDir()
	const (
		estate = "121405220120805465"
		title  = estate + "001"
		head   = "type_code,licence_number,holder_name,holder_id_type,holder_id_number,holder_phone,issue_date,valid_from,valid_until,fields\n"
	)
	good := head +
		title + ",晋(2019)阳城县不动产权第0000101号,张三,111,140522198503120016,,2019-06-01,,,\"{\"\"right_holder\"\":\"\"张三\"\"}\"\n" +
		title + ",晋(2019)阳城县不动产权第0000102号,周七,111,11010519491231002x,13900000007,2019-06-02,2019-06-02,2049-06-01,{}\n"
	bad := good + title + ",晋(2019)阳城县不动产权第0000103号,吴八,111,110105194912310020,,2019-06-03,,,{}\n"
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) (stdout string, code int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = "..", env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			code = exit.ExitCode()
		default:
			t.Fatal(err)
		}
		if strings.Contains(errOut.String(), "140522198503120016") {
			t.Errorf("an ID number in the command's log: %s", errOut.String())
		}
		return out.String(), code
	}
	lastLine := func(s string) string {
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return lines[len(lines)-1]
	}

	goodPath := write("good.csv", good)
	out, code := run("import", "licences", "--department", estate, goodPath, "--dry-run")
	if code != 0 || lastLine(out) != "imported 2, unchanged 0, rejected 0" || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	out, code = run("import", "licences", goodPath, "--department", estate)
	if code != 0 || lastLine(out) != "imported 2, unchanged 0, rejected 0" {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	out, code = run("import", "licences", "--department", estate, goodPath)
	if code != 0 || lastLine(out) != "imported 0, unchanged 2, rejected 0" {
		t.Fatalf("re-import: exit %d\n%s", code, out)
	}
	badPath := write("bad.csv", bad)
	out, code = run("import", "licences", "--department", estate, badPath)
	if code != 3 || lastLine(out) != "imported 0, unchanged 2, rejected 1" {
		t.Fatalf("rejected row: exit %d\n%s", code, out)
	}
	errs, err := os.ReadFile(badPath + ".errors.csv")
	if err != nil || !strings.Contains(string(errs), "4,holder_id_number,invalid_id_number,") {
		t.Fatalf("error file: %v\n%s", err, errs)
	}

	for _, args := range [][]string{
		{"import", "licences", goodPath},                                       // no department
		{"import", "licences", "--department", estate},                         // no file
		{"import", "licences", "--department", estate, goodPath, "x"},          // two files
		{"import", "holders", "--department", estate, goodPath},                // unknown subcommand
		{"import", "licences", "--department", "91350100M000100Y43", goodPath}, // unknown department
	} {
		if _, code := run(args...); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
	}
}
