package token

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteKeyFile writes content to a new file at path with mode 0600. It fails with an error
// matching fs.ErrExist when path already exists, so an existing key is never overwritten.
//
// The content is written to a temporary file in the same directory and then hard-linked
// to path: linking is as exclusive as O_EXCL, and a concurrent reader never sees a
// half-written key. Where hard links are unsupported it falls back to O_EXCL.
func WriteKeyFile(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*.tmp") // CreateTemp uses mode 0600
	if err != nil {
		return keyFileErr(path, err)
	}
	defer os.Remove(tmp.Name())
	if err := writeAndClose(tmp, content); err != nil {
		return keyFileErr(path, err)
	}
	err = os.Link(tmp.Name(), path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return keyFileErr(path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the operator's key file path
	if err != nil {
		return keyFileErr(path, err)
	}
	if err := writeAndClose(f, content); err != nil {
		_ = os.Remove(path) // the write's error is the one to report
		return keyFileErr(path, err)
	}
	return nil
}

// keyFileErr names the key file the operator gave, never the temporary file beside it
// (.key-4065196895.tmp), which they never named and cannot find: the system error is
// taken out of its path error and put after path.
func keyFileErr(path string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return existsError{path}
	}
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("write key file %s: %w", path, err)
}

// existsError is WriteKeyFile's refusal of an existing file; it matches fs.ErrExist.
type existsError struct{ path string }

func (e existsError) Error() string {
	return e.path + " already exists (a key file is never overwritten)"
}

func (e existsError) Is(target error) bool { return target == fs.ErrExist }

func writeAndClose(f *os.File, content []byte) error {
	_, err := f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// LoadOrCreateKeyFile reads the alg key at path or, when there is no file there, generates
// one and writes it with WriteKeyFile, reporting created=true. When two processes race to
// create it, exactly one writes and the other reads the winner's key.
func LoadOrCreateKeyFile(path, alg string) (key *Key, created bool, err error) {
	key, err = readKeyFile(path, alg)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	content, err := GenerateKey(alg)
	if err != nil {
		return nil, false, err
	}
	err = WriteKeyFile(path, content)
	if errors.Is(err, fs.ErrExist) {
		key, err = readKeyFile(path, alg)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	key, err = ParseKey(alg, content)
	return key, err == nil, err
}

func readKeyFile(path, alg string) (*Key, error) {
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's --signing-key-file
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := ParseKey(alg, data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}
