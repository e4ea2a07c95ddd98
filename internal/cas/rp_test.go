package cas_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// rp is the small relying-party application of testdata/rp, protected by connect-cas2
// (an independent CAS client from the npm registry), running on loopback.
type rp struct {
	URL    string
	output *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRP starts the relying party against the CAS server at casURL. Without Node or
// the npm packages (`npm ci --prefix internal/cas/testdata/rp`) the test is skipped,
// or fails in CI.
func startRP(t *testing.T, casURL string) *rp {
	t.Helper()
	missing := func(what string) {
		if browsertest.InCI() {
			t.Fatalf("%s; CI=true, so the independent CAS client test may not skip", what)
		}
		t.Skipf("skipping the independent CAS client test: %s", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("no node in PATH (install Node.js)")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "rp"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "connect-cas2")); err != nil {
		missing("connect-cas2 is not installed (run `npm ci --prefix internal/cas/testdata/rp`)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(node, "app.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "CAS_URL="+casURL)
	out := &syncBuffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("relying party output:\n%s", out.String())
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if sc.Text() == "listening" {
				ready <- true
			}
		}
		io.Copy(out, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("the relying party did not start:\n%s", out.String())
	}
	return &rp{URL: fmt.Sprintf("http://127.0.0.1:%d", port), output: out}
}

// register makes the relying party a CAS connector of the deployment.
func (r *rp) register(t *testing.T, k *apptest.Kit) connector.Connector {
	t.Helper()
	c, err := k.App.Services.Connectors.Create(k.Ctx, k.Sys, connector.Input{Name: "Service de test", Icon: "classe-virtuelle", URL: r.URL + "/",
		Protocol: connector.CAS, Attributes: []string{"uid", "nom", "prenom", "ENTPersonProfils", "ENTPersonStructRattachRNE", "ENTEleveClasses"},
		SingleLogout: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A real CAS client, connect-cas2, signs a pupil in through Préau, receives the
// attributes, refuses a forged ticket, and is logged out by Préau's single logout.
func TestIndependentCASClient(t *testing.T) {
	k := apptest.New(t)
	relying := startRP(t, k.URL)
	relying.register(t, k)
	f := k.School

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// Not signed in: the client sends the browser to Préau's login form.
	resp, body := get(relying.URL + "/moi.json")
	if resp.Request.URL.Path != "/cas/login" || !strings.Contains(html.UnescapeString(body), "Connexion au service « Service de test »") {
		t.Fatalf("not at Préau's login form: %s\n%s", resp.Request.URL, body)
	}
	service := resp.Request.URL.Query().Get("service")
	if service != relying.URL+"/cas/validate" {
		t.Fatalf("service %q", service)
	}

	// The password, then Préau → the client's validation → its page.
	resp, err := browser.PostForm(k.URL+"/cas/login", url.Values{"service": {service}, "login": {f.Pupil.Login}, "password": {apptest.Password}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var me struct {
		User       string
		Attributes map[string][]string
	}
	if err := json.Unmarshal(b, &me); err != nil || resp.Request.URL.String() != relying.URL+"/moi.json" {
		t.Fatalf("after login at %s: %v\n%s", resp.Request.URL, err, b)
	}
	if me.User != f.Pupil.Login {
		t.Fatalf("user %q", me.User)
	}
	for name, want := range map[string]string{"uid": f.Pupil.Login, "nom": "Martin", "prenom": "Léa", "ENTPersonProfils": "National_ELV",
		"ENTPersonStructRattachRNE": "0690001A", "ENTEleveClasses": "0690001A$4e A", "isFromNewLogin": "true"} {
		if got := strings.Join(me.Attributes[name], "|"); got != want {
			t.Errorf("the client got %s = %q, want %q", name, got, want)
		}
	}

	// A forged ticket: Préau refuses it and so does the client.
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(relying.URL + "/cas/validate?ticket=ST-" + strings.Repeat("f", 52))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged ticket: the client answered %d", resp.StatusCode)
	}

	// Logging out of Préau logs out of the service (single logout).
	c := k.Client()
	c.HTTP.Jar = jar
	if resp, _ := c.Post("/deconnexion", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	resp, _ = get(relying.URL + "/moi.json")
	if resp.Request.URL.Path != "/cas/login" {
		t.Fatalf("still signed in to the service after logging out of Préau: %s", resp.Request.URL)
	}
}
