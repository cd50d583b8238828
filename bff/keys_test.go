package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/secure"
)

// TestEmbeddedKeysAreSharedByConcurrentStarts: two processes starting on a
// fresh data directory at once must seal with the same keys, or one of them
// writes ID numbers the other cannot read.
func TestEmbeddedKeysAreSharedByConcurrentStarts(t *testing.T) {
	cfg := config.Config{Mode: "embedded", DataDir: t.TempDir()}
	const n = 8
	got := make([]keyring, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := loadKeys(cfg)
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if !bytes.Equal(got[i].data, got[0].data) || !bytes.Equal(got[i].index, got[0].index) {
			t.Fatalf("start %d got different keys", i)
		}
	}
	k := got[0]
	if len(k.data) != secure.DataKeySize || len(k.index) != secure.IndexKeySize || k.legacyData != nil {
		t.Fatalf("bad keys: %x %x legacy %x", k.data, k.index, k.legacyData)
	}
	again, err := loadKeys(cfg)
	if err != nil || !bytes.Equal(again.data, k.data) {
		t.Fatalf("restart read other keys: %v", err)
	}
	if _, err := k.sealer(); err != nil {
		t.Fatal(err)
	}
}

// TestEmbeddedKeepsLegacyKeys: a data directory from before SM4 holds its
// AES and HMAC-SHA256 keys in {data_dir}/keys; they become the legacy pair,
// so what was written with them still reads, and new SM4 keys are made.
func TestEmbeddedKeepsLegacyKeys(t *testing.T) {
	dir := t.TempDir()
	oldData, oldIndex := strings.Repeat("11", 32), strings.Repeat("22", 32)
	if err := os.WriteFile(filepath.Join(dir, "keys"), []byte(oldData+"\n"+oldIndex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := loadKeys(config.Config{Mode: "embedded", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(k.legacyData) != oldData || hex.EncodeToString(k.legacyIndex) != oldIndex || len(k.data) != secure.DataKeySize {
		t.Fatalf("keyring %+v", k)
	}
	if _, err := k.sealer(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys"), []byte(oldData+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadKeys(config.Config{Mode: "embedded", DataDir: dir}); err == nil {
		t.Fatal("a damaged legacy key file was accepted")
	}
}

func TestKeysFromConfiguration(t *testing.T) {
	sec := config.Security{
		DataKey: strings.Repeat("01", 16), IndexKey: strings.Repeat("02", 32),
		PreviousDataKey: strings.Repeat("03", 16), PreviousIndexKey: strings.Repeat("04", 32),
		LegacyDataKey: strings.Repeat("05", 32), LegacyIndexKey: strings.Repeat("06", 32),
	}
	k, err := loadKeys(config.Config{Mode: "production", Security: sec})
	if err != nil {
		t.Fatal(err)
	}
	if k.prevData[0] != 3 || k.prevIndex[0] != 4 || k.legacyData[0] != 5 || k.legacyIndex[0] != 6 {
		t.Fatalf("keyring %+v", k)
	}
	if _, err := k.sealer(); err != nil {
		t.Fatal(err)
	}
	sec.PreviousDataKey = strings.Repeat("03", 32)
	if _, err := loadKeys(config.Config{Mode: "production", Security: sec}); err == nil || !strings.Contains(err.Error(), "security.previous_data_key") {
		t.Fatalf("a wrong-sized previous key: %v", err)
	}
}

func TestProductionNeedsKeys(t *testing.T) {
	if _, err := loadKeys(config.Config{Mode: "production", DataDir: t.TempDir()}); err == nil {
		t.Fatal("production started without keys")
	}
}
