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

// Embedded mode's key files in the data directory. keyFile holds the SM4
// data key and the HMAC-SM3 index key; legacyKeyFile is where earlier
// versions kept their AES-256 and HMAC-SHA256 keys, read (never written)
// so an existing data directory stays readable until `bff keys rotate`.
const (
	keyFile       = "keys.gm"
	legacyKeyFile = "keys"
)

// keyring is every key the field sealer may need: the current pair, the
// pair being retired by a rotation, and the pre-SM4 pair. Only the current
// pair is required.
type keyring struct {
	data, index             []byte
	prevData, prevIndex     []byte
	legacyData, legacyIndex []byte
}

// sealer builds the field sealer from the keyring.
func (k keyring) sealer() (*secure.Sealer, error) {
	var opts []secure.Option
	if k.prevData != nil || k.prevIndex != nil {
		opts = append(opts, secure.WithPrevious(k.prevData, k.prevIndex))
	}
	if k.legacyData != nil || k.legacyIndex != nil {
		opts = append(opts, secure.WithLegacy(k.legacyData, k.legacyIndex))
	}
	return secure.NewSealer(k.data, k.index, opts...)
}

// loadKeys returns the keyring. Production takes it from the configuration
// (the environment); embedded mode generates the current pair once into
// {data_dir}/keys.gm so a newcomer needs no secrets and a restart can still
// read what it wrote, and picks up {data_dir}/keys of an older version as
// the legacy pair.
func loadKeys(cfg config.Config) (keyring, error) {
	s := cfg.Security
	var (
		k   keyring
		err error
	)
	for _, f := range []struct {
		name string
		raw  string
		size int
		dst  *[]byte
	}{
		{"security.data_key", s.DataKey, secure.DataKeySize, &k.data},
		{"security.index_key", s.IndexKey, secure.IndexKeySize, &k.index},
		{"security.previous_data_key", s.PreviousDataKey, secure.DataKeySize, &k.prevData},
		{"security.previous_index_key", s.PreviousIndexKey, secure.IndexKeySize, &k.prevIndex},
		{"security.legacy_data_key", s.LegacyDataKey, secure.LegacyKeySize, &k.legacyData},
		{"security.legacy_index_key", s.LegacyIndexKey, secure.LegacyKeySize, &k.legacyIndex},
	} {
		if f.raw == "" {
			continue
		}
		if *f.dst, err = secure.ParseKey(f.raw, f.size); err != nil {
			return keyring{}, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if k.data != nil && k.index != nil {
		return k, nil
	}
	if cfg.Mode == "production" {
		return keyring{}, errors.New("security.data_key and security.index_key are required in production")
	}
	if k.data, k.index, err = embeddedKeys(cfg.DataDir); err != nil {
		return keyring{}, err
	}
	if k.legacyData == nil && k.legacyIndex == nil {
		path := filepath.Join(cfg.DataDir, legacyKeyFile)
		raw, err := os.ReadFile(path)
		switch {
		case err == nil:
			if k.legacyData, k.legacyIndex, err = parseKeyFile(path, raw, secure.LegacyKeySize, secure.LegacyKeySize); err != nil {
				return keyring{}, err
			}
		case !errors.Is(err, fs.ErrNotExist):
			return keyring{}, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return k, nil
}

// embeddedKeys reads {data_dir}/keys.gm, creating it on first use.
func embeddedKeys(dataDir string) (dataKey, indexKey []byte, err error) {
	path := filepath.Join(dataDir, keyFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		return parseKeyFile(path, raw, secure.DataKeySize, secure.IndexKeySize)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if dataKey, err = secure.GenerateKey(secure.DataKeySize); err != nil {
		return nil, nil, err
	}
	if indexKey, err = secure.GenerateKey(secure.IndexKeySize); err != nil {
		return nil, nil, err
	}
	body := hex.EncodeToString(dataKey) + "\n" + hex.EncodeToString(indexKey) + "\n"
	// Write a temporary file and hard-link it into place: the link either
	// creates the key file whole or fails because another process (serve
	// and remind --once starting together on a fresh data directory) got
	// there first, in which case its keys are the ones to use. Nobody ever
	// reads a half-written file.
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data_dir: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, "keys-*")
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
	return parseKeyFile(path, raw, secure.DataKeySize, secure.IndexKeySize)
}

// parseKeyFile reads a key file: the data key, then the index key, in hex,
// one a line.
func parseKeyFile(path string, raw []byte, dataSize, indexSize int) (dataKey, indexKey []byte, err error) {
	lines := strings.Fields(string(raw))
	if len(lines) != 2 {
		return nil, nil, fmt.Errorf("%s: want two hex keys, one a line", path)
	}
	if dataKey, err = secure.ParseKey(lines[0], dataSize); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if indexKey, err = secure.ParseKey(lines[1], indexSize); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return dataKey, indexKey, nil
}
