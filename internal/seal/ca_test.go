package seal_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/yangcheng-county/elicence/internal/seal"
)

// TestLocalCAOnce: processes starting together on a fresh data directory
// all end up with the one CA that was written first, whole; a later start
// reads it back; the file is the owner's alone.
func TestLocalCAOnce(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ca, err := seal.OpenLocalCA(dir)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = ca.Certificate().Raw
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("start %d has another CA", i)
		}
	}
	again, err := seal.OpenLocalCA(dir)
	if err != nil || !bytes.Equal(again.Certificate().Raw, got[0]) {
		t.Fatalf("reopened: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "seal-ca.pem"))
	if err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("seal-ca.pem mode %v, %v", fi.Mode(), err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
