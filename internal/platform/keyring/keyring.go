// Package keyring keeps the signing keys of Préau's identity servers (OpenID Connect,
// SAML): RSA 2048 keys stored in a table of the server's own, their private part
// encrypted with AES-256-GCM under the deployment's secret key, so that a copy of the
// database alone signs nothing. A new key is made every RotateEvery; older keys stay
// published for KeepFor so that what they signed still verifies.
//
// The table has the columns (id TEXT PRIMARY KEY, created_at BIGINT, private_sealed
// {{bytes}}).
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// Config tunes a key ring.
type Config struct {
	SecretKey   []byte        // 32 bytes: encrypts the private keys at rest
	RotateEvery time.Duration // a new key after this long
	KeepFor     time.Duration // how long a replaced key stays published
	Now         func() time.Time
}

// Key is one signing key.
type Key struct {
	ID      string
	Created time.Time
	Private *rsa.PrivateKey
}

// Ring reads, makes and rotates the keys of one table. It caches them for a minute:
// another instance's rotation shows within that time.
type Ring struct {
	db    *db.DB
	table string // a constant of the calling package, never user input
	aad   []byte // binds a sealed key to its use
	cfg   Config

	mu     sync.Mutex
	keys   []Key // newest first
	loaded time.Time
}

// New returns the ring of keys stored in table; purpose is authenticated with each
// sealed key, so that a key sealed for one use does not open for another.
func New(d *db.DB, table, purpose string, cfg Config) *Ring {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Ring{db: d, table: table, aad: []byte(purpose), cfg: cfg}
}

func (r *Ring) seal(plain []byte) ([]byte, error) { return Seal(r.cfg.SecretKey, r.aad, plain) }

func (r *Ring) open(sealed []byte) ([]byte, error) { return Open(r.cfg.SecretKey, r.aad, sealed) }

// Seal encrypts a secret to store (AES-256-GCM under the deployment's secret key,
// nonce first); purpose is authenticated with it.
func Seal(secretKey, purpose, plain []byte) ([]byte, error) {
	gcm, err := newGCM(secretKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, purpose), nil
}

// Open decrypts what Seal made for the same purpose.
func Open(secretKey, purpose, sealed []byte) ([]byte, error) {
	gcm, err := newGCM(secretKey)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("secret chiffré tronqué")
	}
	return gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], purpose)
}

func newGCM(secretKey []byte) (cipher.AEAD, error) {
	if len(secretKey) != 32 {
		return nil, errors.New("clé secrète du déploiement absente ou de mauvaise taille (32 octets attendus)")
	}
	block, err := aes.NewCipher(secretKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Keys returns the published keys, newest first, making a new one when the newest is
// older than RotateEvery (or there is none), and dropping those older than KeepFor.
func (r *Ring) Keys(ctx context.Context) ([]Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	if len(r.keys) > 0 && now.Sub(r.loaded) < time.Minute && now.Sub(r.keys[0].Created) < r.cfg.RotateEvery {
		return r.keys, nil
	}
	keys, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || now.Sub(keys[0].Created) >= r.cfg.RotateEvery {
		k, err := r.newKey(ctx)
		if err != nil {
			return nil, err
		}
		keys = append([]Key{k}, keys...)
	}
	r.keys, r.loaded = keys, now
	return keys, nil
}

// Rotate makes a new key at once (an operator's decision, after a suspected leak or
// before the planned date); the previous ones stay published for KeepFor.
func (r *Ring) Rotate(ctx context.Context) (Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, err := r.newKey(ctx)
	if err != nil {
		return Key{}, err
	}
	r.keys, r.loaded = nil, time.Time{}
	return k, nil
}

func (r *Ring) load(ctx context.Context) ([]Key, error) {
	now := r.cfg.Now()
	if _, err := r.db.ExecContext(ctx, `DELETE FROM `+r.table+` WHERE created_at < $1`, now.Add(-r.cfg.RotateEvery-r.cfg.KeepFor).UnixMilli()); err != nil {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx, `SELECT id, created_at, private_sealed FROM `+r.table+` ORDER BY created_at DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		var created int64
		var sealed []byte
		if err := rows.Scan(&k.ID, &created, &sealed); err != nil {
			return nil, err
		}
		der, err := r.open(sealed)
		if err != nil {
			return nil, fmt.Errorf("clé de signature %s illisible (clé secrète changée ?) : %w", k.ID, err)
		}
		if k.Private, err = x509.ParsePKCS1PrivateKey(der); err != nil {
			return nil, err
		}
		k.Created = time.UnixMilli(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (r *Ring) newKey(ctx context.Context) (Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Key{}, err
	}
	sealed, err := r.seal(x509.MarshalPKCS1PrivateKey(priv))
	if err != nil {
		return Key{}, err
	}
	k := Key{ID: ids.Random(12), Created: r.cfg.Now(), Private: priv}
	_, err = r.db.ExecContext(ctx, `INSERT INTO `+r.table+`(id, created_at, private_sealed) VALUES ($1,$2,$3)`, k.ID, k.Created.UnixMilli(), sealed)
	return k, err
}
