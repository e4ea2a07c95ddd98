package config

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func TestSecretKey(t *testing.T) {
	dir := t.TempDir()
	c := &Config{DataDir: dir}
	k1, err := c.LoadSecretKey()
	if err != nil || len(k1) != 32 {
		t.Fatalf("made key: %v %d", err, len(k1))
	}
	fi, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, fi.Mode())
	}
	k2, err := c.LoadSecretKey()
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("the key changed between starts: %v", err)
	}
	want := bytes.Repeat([]byte{7}, 32)
	c.SecretKey = base64.StdEncoding.EncodeToString(want)
	if k, err := c.LoadSecretKey(); err != nil || !bytes.Equal(k, want) {
		t.Fatalf("PREAU_SECRET_KEY: %v", err)
	}
	for _, bad := range []string{"pas du base64", base64.StdEncoding.EncodeToString([]byte("trop court"))} {
		c.SecretKey = bad
		if _, err := c.LoadSecretKey(); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
