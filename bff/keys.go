package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	if err == nil {
		return parseKeyFile(path, raw)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if dataKey, err = secure.GenerateKey(); err != nil {
		return nil, nil, err
	}
	if indexKey, err = secure.GenerateKey(); err != nil {
		return nil, nil, err
	}
	body := hex.EncodeToString(dataKey) + "\n" + hex.EncodeToString(indexKey) + "\n"
	// Write a temporary file and hard-link it into place: the link either
	// creates the key file whole or fails because another process (serve
	// and remind --once starting together on a fresh data directory) got
	// there first, in which case its keys are the ones to use. Nobody ever
	// reads a half-written file.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data_dir: %w", err)
	}
	tmp, err := os.CreateTemp(cfg.DataDir, "keys-*")
	if err != nil {
		return nil, nil, fmt.Errorf("data_dir: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		return dataKey, indexKey, nil
	case !errors.Is(err, fs.ErrExist):
		return nil, nil, fmt.Errorf("write %s: %w", path, err)
	}
	if raw, err = os.ReadFile(path); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parseKeyFile(path, raw)
}

// parseKeyFile reads the two hex keys of {data_dir}/keys.
func parseKeyFile(path string, raw []byte) (dataKey, indexKey []byte, err error) {
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
