package oidc

import (
	"context"

	"github.com/go-jose/go-jose/v4"
)

// Signing keys: RSA 2048, RS256 (what every relying party accepts), kept by a
// keyring.Ring in oidc_keys: encrypted at rest under the deployment's secret key, a new
// one every RotateEvery, older ones published in the JWKS for KeepFor so that tokens
// they signed still verify.

// JWKS is the public key set relying parties verify tokens with.
func (s *Service) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := s.ring.Keys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.ID, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return set, nil
}

// signer signs with the newest key.
func (s *Service) signer(ctx context.Context) (jose.Signer, error) {
	keys, err := s.ring.Keys(ctx)
	if err != nil {
		return nil, err
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: keys[0].Private, KeyID: keys[0].ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
}
