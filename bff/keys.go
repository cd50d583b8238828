package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/secure"
)

// loadKeys returns the field-encryption and blind-index keys. Production
// takes them from the configuration (the environment); embedded mode
// generates them once into {data_dir}/keys so a newcomer needs no secrets and
// a restart can still read what it wrote.
func loadKeys(cfg config.Config) (dataKey, indexKey []byte, err error) {
	if cfg.Security.DataKey != "" && cfg.Security.IndexKey != "" {
		if dataKey, err = secure.ParseKey(cfg.Security.DataKey); err != nil {
			return nil, nil, fmt.Errorf("security.data_key: %w", err)
		}
		if indexKey, err = secure.ParseKey(cfg.Security.IndexKey); err != nil {
			return nil, nil, fmt.Errorf("security.index_key: %w", err)
		}
		return dataKey, indexKey, nil
	}
	if cfg.Mode == "production" {
		return nil, nil, errors.New("security.data_key and security.index_key are required in production")
	}
	path := filepath.Join(cfg.DataDir, "keys")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if dataKey, err = secure.GenerateKey(); err != nil {
			return nil, nil, err
		}
		if indexKey, err = secure.GenerateKey(); err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("data_dir: %w", err)
		}
		body := hex.EncodeToString(dataKey) + "\n" + hex.EncodeToString(indexKey) + "\n"
		// O_EXCL: when two processes start on a fresh data directory at
		// once (serve and remind --once), only one writes keys; the other
		// reads them below, so both seal with the same key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			_, werr := f.WriteString(body)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return nil, nil, fmt.Errorf("write %s: %w", path, werr)
			}
			return dataKey, indexKey, nil
		case !errors.Is(err, fs.ErrExist):
			return nil, nil, fmt.Errorf("write %s: %w", path, err)
		}
		raw, err = readKeyFile(path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	lines := strings.Fields(string(raw))
	if len(lines) != 2 {
		return nil, nil, fmt.Errorf("%s: want two hex keys, one a line", path)
	}
	if dataKey, err = secure.ParseKey(lines[0]); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if indexKey, err = secure.ParseKey(lines[1]); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return dataKey, indexKey, nil
}

// readKeyFile reads the key file another process has just created, waiting
// briefly for it to finish writing both lines.
func readKeyFile(path string) ([]byte, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		raw, err := os.ReadFile(path)
		if err != nil || len(strings.Fields(string(raw))) == 2 || time.Now().After(deadline) {
			return raw, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
