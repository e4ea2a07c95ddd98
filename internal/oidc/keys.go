package oidc

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

	"github.com/go-jose/go-jose/v4"

	"github.com/preau-ent/preau/internal/platform/ids"
)

// Signing keys: RSA 2048, RS256 (what every relying party accepts). The private key is
// stored encrypted with AES-256-GCM under the deployment's secret key, so that a copy
// of the database alone signs nothing. A new key is made every RotateEvery; older keys
// stay published in the JWKS for KeepFor so that tokens they signed still verify.

type signingKey struct {
	id      string
	created time.Time
	private *rsa.PrivateKey
}

// keyring caches the keys read from the database for a minute: another instance's
// rotation shows within that time.
type keyring struct {
	mu     sync.Mutex
	keys   []signingKey // newest first
	loaded time.Time
}

func (s *Service) seal(plain []byte) ([]byte, error) {
	gcm, err := s.gcm()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, []byte("preau-oidc-key")), nil
}

func (s *Service) open(sealed []byte) ([]byte, error) {
	gcm, err := s.gcm()
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("clé chiffrée tronquée")
	}
	return gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte("preau-oidc-key"))
}

func (s *Service) gcm() (cipher.AEAD, error) {
	if len(s.cfg.SecretKey) != 32 {
		return nil, errors.New("clé secrète du déploiement absente ou de mauvaise taille (32 octets attendus)")
	}
	block, err := aes.NewCipher(s.cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// signingKeys returns the published keys, newest first, making a new one when the
// newest is older than RotateEvery, and dropping those older than KeepFor.
func (s *Service) signingKeys(ctx context.Context) ([]signingKey, error) {
	s.ring.mu.Lock()
	defer s.ring.mu.Unlock()
	now := s.cfg.Now()
	fresh := len(s.ring.keys) > 0 && now.Sub(s.ring.loaded) < time.Minute && now.Sub(s.ring.keys[0].created) < s.cfg.RotateEvery
	if fresh {
		return s.ring.keys, nil
	}
	keys, err := s.loadKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || now.Sub(keys[0].created) >= s.cfg.RotateEvery {
		k, err := s.newKey(ctx)
		if err != nil {
			return nil, err
		}
		keys = append([]signingKey{k}, keys...)
	}
	s.ring.keys, s.ring.loaded = keys, now
	return keys, nil
}

func (s *Service) loadKeys(ctx context.Context) ([]signingKey, error) {
	now := s.cfg.Now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oidc_keys WHERE created_at < $1`, now.Add(-s.cfg.RotateEvery-s.cfg.KeepFor).UnixMilli()); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, created_at, private_sealed FROM oidc_keys ORDER BY created_at DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []signingKey
	for rows.Next() {
		var k signingKey
		var created int64
		var sealed []byte
		if err := rows.Scan(&k.id, &created, &sealed); err != nil {
			return nil, err
		}
		der, err := s.open(sealed)
		if err != nil {
			return nil, fmt.Errorf("clé de signature %s illisible (clé secrète changée ?) : %w", k.id, err)
		}
		if k.private, err = x509.ParsePKCS1PrivateKey(der); err != nil {
			return nil, err
		}
		k.created = time.UnixMilli(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *Service) newKey(ctx context.Context) (signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signingKey{}, err
	}
	sealed, err := s.seal(x509.MarshalPKCS1PrivateKey(priv))
	if err != nil {
		return signingKey{}, err
	}
	k := signingKey{id: ids.Random(12), created: s.cfg.Now(), private: priv}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oidc_keys(id, created_at, private_sealed) VALUES ($1,$2,$3)`, k.id, k.created.UnixMilli(), sealed)
	return k, err
}

// JWKS is the public key set relying parties verify tokens with.
func (s *Service) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := s.signingKeys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.private.PublicKey, KeyID: k.id, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return set, nil
}

// signer signs with the newest key.
func (s *Service) signer(ctx context.Context) (jose.Signer, error) {
	keys, err := s.signingKeys(ctx)
	if err != nil {
		return nil, err
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: keys[0].private, KeyID: keys[0].id}},
		(&jose.SignerOptions{}).WithType("JWT"))
}
