package oidc_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/preau-ent/preau/internal/web/browsertest"
)

// openid-client, an OpenID-certified relying-party library from the npm registry,
// exchanges a code Préau issued, verifies the ID token, reads userinfo, refreshes,
// and sees a replayed refresh token refused. Without Node or the package the test is
// skipped, or fails in CI.
func TestCertifiedRelyingParty(t *testing.T) {
	missing := func(what string) {
		if browsertest.InCI() {
			t.Fatalf("%s; CI=true, so the certified relying-party test may not skip", what)
		}
		t.Skipf("skipping the certified relying-party test: %s", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("no node in PATH (install Node.js)")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "rp"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		missing("openid-client is not installed (run `npm ci --prefix internal/oidc/testdata/rp`)")
	}
	e := setup(t)
	f := e.School
	verifier := oauth2.GenerateVerifier()
	u := e.authorize(t, e.As(f.Teacher), e.conf.AuthCodeURL("etat-node", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nonce-node")))
	cmd := exec.Command(node, "exchange.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ISSUER="+e.URL, "CLIENT_ID="+e.client.ID, "CLIENT_SECRET="+e.secret, "CALLBACK_URL="+u.String(),
		"VERIFIER="+verifier, "STATE=etat-node", "NONCE=nonce-node")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openid-client: %v\n%s", err, out)
	}
	var r struct {
		Claims    map[string]any
		Userinfo  map[string]any
		Refreshed bool
		Replay    string
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Claims["sub"] != f.Teacher.ID || r.Claims["nonce"] != "nonce-node" || r.Claims["ent_profil"] != "National_ENS" {
		t.Errorf("ID token claims: %v", r.Claims)
	}
	if r.Userinfo["preferred_username"] != f.Teacher.Login || !strings.Contains(strings.Join(toStrings(r.Userinfo["ent_structures"]), ","), "0690001A") {
		t.Errorf("userinfo: %v", r.Userinfo)
	}
	if !r.Refreshed || r.Replay != "invalid_grant" {
		t.Errorf("refreshed %v, replay %q", r.Refreshed, r.Replay)
	}
}

func toStrings(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
