// Package blob keeps the files people upload (message attachments, images and files
// of published content) out of the database: the database holds their metadata and a
// key, the blob store holds the bytes. The embedded default is a folder of the data
// directory; keys are made by the store, so no user input ever becomes a path.
package blob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is returned for a key the store does not hold.
var ErrNotFound = errors.New("blob: fichier introuvable")

// ErrTooLarge is returned by Put when the content exceeds the given limit.
var ErrTooLarge = errors.New("blob: fichier trop volumineux")

// Stored describes what Put kept.
type Stored struct {
	Key    string // opaque, made by the store
	Size   int64
	SHA256 string // hex digest of the content
}

// Store keeps blobs as files under one folder, two levels of fan-out deep.
type Store struct {
	root string
}

// NewDisk opens (and creates) a store in dir.
func NewDisk(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("dossier des fichiers %s : %w", dir, err)
	}
	return &Store{root: dir}, nil
}

// Put copies r into a new blob, refusing content longer than limit bytes (limit ≤ 0:
// no limit). The blob appears whole or not at all: it is written to a temporary file
// and renamed into place.
func (s *Store) Put(ctx context.Context, r io.Reader, limit int64) (Stored, error) {
	key, err := newKey()
	if err != nil {
		return Stored{}, err
	}
	path := s.path(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Stored{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return Stored{}, err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	h := sha256.New()
	src := r
	if limit > 0 {
		src = io.LimitReader(r, limit+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, src})
	if err == nil && limit > 0 && n > limit {
		err = ErrTooLarge
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Stored{}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Stored{}, err
	}
	return Stored{Key: key, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Open returns the content of a blob.
func (s *Store) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if !validKey(key) {
		return nil, ErrNotFound
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Delete removes a blob; deleting a missing blob is not an error, so that clean-ups
// can be retried.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !validKey(key) {
		return nil
	}
	err := os.Remove(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Walk calls fn with every key the store holds (for orphan clean-ups).
func (s *Store) Walk(ctx context.Context, fn func(key string) error) error {
	return filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !validKey(d.Name()) {
			return nil
		}
		return fn(d.Name())
	})
}

func (s *Store) path(key string) string {
	return filepath.Join(s.root, key[:2], key[2:4], key)
}

// newKey makes 128 random bits in hex: unguessable, so a key alone never grants
// access, and spread evenly over the fan-out folders.
func newKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func validKey(key string) bool {
	if len(key) != 32 {
		return false
	}
	return strings.Trim(key, "0123456789abcdef") == ""
}

// ctxReader stops a long copy when the request that feeds it is gone.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
