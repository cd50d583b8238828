package main

import (
	"bytes"
	"sync"
	"testing"

	"github.com/yangcheng-county/elicence/internal/config"
)

// TestEmbeddedKeysAreSharedByConcurrentStarts: two processes starting on a
// fresh data directory at once must seal with the same keys, or one of them
// writes ID numbers the other cannot read.
func TestEmbeddedKeysAreSharedByConcurrentStarts(t *testing.T) {
	cfg := config.Config{Mode: "embedded", DataDir: t.TempDir()}
	const n = 8
	data := make([][]byte, n)
	index := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, x, err := loadKeys(cfg)
			if err != nil {
				t.Error(err)
			}
			data[i], index[i] = d, x
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if !bytes.Equal(data[i], data[0]) || !bytes.Equal(index[i], index[0]) {
			t.Fatalf("start %d got different keys", i)
		}
	}
	if bytes.Equal(data[0], index[0]) || len(data[0]) != 32 {
		t.Fatalf("bad keys: %x %x", data[0], index[0])
	}
	again, _, err := loadKeys(cfg)
	if err != nil || !bytes.Equal(again, data[0]) {
		t.Fatalf("restart read other keys: %v", err)
	}
}

func TestProductionNeedsKeys(t *testing.T) {
	if _, _, err := loadKeys(config.Config{Mode: "production", DataDir: t.TempDir()}); err == nil {
		t.Fatal("production started without keys")
	}
}
