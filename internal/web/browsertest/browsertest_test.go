package browsertest

import (
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const goodPage = `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>Connexion — Préau</title></head>
<body>
<header><p>Collège Jean Moulin</p></header>
<main>
<h1>Connexion</h1>
<form method="post" action="/login">
  <p><label for="login">Identifiant</label>
  <input id="login" name="login" type="text" autocomplete="username" required></p>
  <p><label for="profile">Profil</label>
  <select id="profile" name="profile">
    <option value="eleve">Élève</option>
    <option value="parent">Responsable</option>
  </select></p>
  <p><button type="submit" id="go" name="action" value="login">Se connecter</button></p>
</form>
<p><button type="button" id="reveal">Afficher l'aide</button></p>
<p id="help" hidden>Demandez votre code d'activation au secrétariat.</p>
<script src="/app.js"></script>
</main>
</body>
</html>`

const appJS = `document.getElementById("reveal").addEventListener("click", () => {
	setTimeout(() => { document.getElementById("help").hidden = false; }, 100);
});`

// badPage has an image without alternative text and a field without a label:
// both are serious or critical for axe-core.
const badPage = `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>Page fautive</title></head>
<body>
<main>
<h1>Page fautive</h1>
<img src="/logo.png">
<form><input type="text" name="q"></form>
</main>
</body>
</html>`

// pngPixel is a 1×1 transparent PNG.
var pngPixel = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

type hostLog struct {
	mu    sync.Mutex
	hosts []string
}

func (h *hostLog) add(s string) { h.mu.Lock(); h.hosts = append(h.hosts, s); h.mu.Unlock() }
func (h *hostLog) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.hosts...)
}

func (h *hostLog) has(s string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.hosts {
		if x == s {
			return true
		}
	}
	return false
}

func newServer(t *testing.T) (*httptest.Server, *hostLog) {
	hosts := &hostLog{}
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			// A strict policy, as Préau's pages have: the harness must
			// work under it (axe-core is injected through DevTools).
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		hosts.add(r.Host)
		page(goodPage)(w, r)
	})
	mux.HandleFunc("GET /bad", page(badPage))
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, appJS)
	})
	mux.HandleFunc("GET /logo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(pngPixel)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "who", Value: r.PostForm.Get("login"), Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/welcome?profile="+r.PostForm.Get("profile")+"&action="+r.PostForm.Get("action"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /welcome", func(w http.ResponseWriter, r *http.Request) {
		who := "personne"
		if c, err := r.Cookie("who"); err == nil {
			who = c.Value
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Accueil</title></head>
<body><main><h1 id="hello">Bonjour %s</h1><p id="profile">%s</p><p id="action">%s</p></main></body></html>`,
			html.EscapeString(who), html.EscapeString(r.URL.Query().Get("profile")), html.EscapeString(r.URL.Query().Get("action")))
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "introuvable", http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, hosts
}

func pngSize(t *testing.T, path string) (w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Width, cfg.Height
}

func TestHostURL(t *testing.T) {
	for _, c := range []struct{ in, host, want string }{
		{"http://127.0.0.1:41234", "0750001a.localhost", "http://0750001a.localhost:41234"},
		{"http://127.0.0.1:41234/path?q=1", "region.localhost", "http://region.localhost:41234/path?q=1"},
		{"https://127.0.0.1", "a.localhost", "https://a.localhost"},
		{"http://[::1]:8080", "b.localhost", "http://b.localhost:8080"},
	} {
		if got := HostURL(c.in, c.host); got != c.want {
			t.Errorf("HostURL(%q, %q) = %q, want %q", c.in, c.host, got, c.want)
		}
	}
}

func TestFileName(t *testing.T) {
	if got, want := fileName("TestLogin/parent d'élève"), "TestLogin_parent_d__l_ve"; got != want {
		t.Errorf("fileName = %q, want %q", got, want)
	}
}

func TestHelpers(t *testing.T) {
	srv, hosts := newServer(t)
	shots := t.TempDir()
	t.Setenv("PREAU_SCREENSHOTS", shots)
	b := New(t)

	// A portal chosen by Host: Chromium resolves *.localhost to loopback.
	portal := HostURL(srv.URL, "0750001a.localhost")
	b.Navigate(portal + "/")
	if b.Status() != http.StatusOK {
		t.Errorf("Status = %d, want 200", b.Status())
	}
	port := strings.TrimPrefix(HostURL(srv.URL, ""), "http://:")
	if !hosts.has("0750001a.localhost:" + port) {
		t.Errorf("the server saw the hosts %v, want 0750001a.localhost:%s", hosts.list(), port)
	}
	if got, want := b.Location(), portal+"/"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got := b.Title(); got != "Connexion — Préau" {
		t.Errorf("Title = %q", got)
	}
	if got := b.Text("h1"); got != "Connexion" {
		t.Errorf("Text(h1) = %q", got)
	}
	if !strings.Contains(b.HTML(), `<label for="login">Identifiant</label>`) {
		t.Error("HTML does not hold the label")
	}
	if !b.Exists("#go") || b.Exists("#nothing") || b.Count("option") != 2 {
		t.Error("Exists or Count is wrong")
	}

	// Click, then wait for what the script reveals.
	b.Click("#reveal")
	b.WaitVisible("#help")
	if got := b.Text("#help"); !strings.Contains(got, "code d'activation") {
		t.Errorf("Text(#help) = %q", got)
	}

	// The good page passes the accessibility check.
	b.CheckA11y(t)
	if p := b.Screenshot("login"); filepath.Base(p) != "TestHelpers-login.png" {
		t.Errorf("screenshot saved as %s", p)
	}
	if fi, err := os.Stat(filepath.Join(shots, "TestHelpers-login.png")); err != nil || fi.Size() < 1000 {
		t.Errorf("screenshot: %v", err)
	} else if w, h := pngSize(t, filepath.Join(shots, "TestHelpers-login.png")); w != ViewportWidth || h != ViewportHeight {
		t.Errorf("screenshot is %d×%d, want %d×%d", w, h, ViewportWidth, ViewportHeight)
	}

	// Fill a form (typing replaces what the field held) and submit it with
	// its button: the server's redirect is followed and the button's
	// name/value is sent.
	b.Fill("#login", "brouillon")
	b.Fill("#login", "jeanne.dupont")
	if got := b.Value("#login"); got != "jeanne.dupont" {
		t.Errorf("Value(#login) = %q", got)
	}
	b.Fill("#profile", "Responsable") // by the option's text
	b.Submit("#go")
	if got := b.Text("#hello"); got != "Bonjour jeanne.dupont" {
		t.Errorf("after Submit, #hello = %q", got)
	}
	if got := b.Text("#profile") + "/" + b.Text("#action"); got != "parent/login" {
		t.Errorf("after Submit, profile/action = %q", got)
	}
	if !strings.HasPrefix(b.Location(), portal+"/welcome") || b.Status() != http.StatusOK {
		t.Errorf("after Submit: %s (%d)", b.Location(), b.Status())
	}

	// A second tab shares the cookies; an incognito tab does not.
	same := b.NewTab()
	same.Navigate(portal + "/welcome")
	if got := same.Text("#hello"); got != "Bonjour jeanne.dupont" {
		t.Errorf("NewTab: #hello = %q", got)
	}
	other := b.NewIncognito()
	other.Navigate(portal + "/welcome")
	if got := other.Text("#hello"); got != "Bonjour personne" {
		t.Errorf("NewIncognito: #hello = %q", got)
	}

	// An HTTP error is a status, not a failure.
	other.Navigate(srv.URL + "/missing")
	if other.Status() != http.StatusNotFound {
		t.Errorf("Status = %d, want 404", other.Status())
	}
}

func TestA11yDetectsViolations(t *testing.T) {
	srv, _ := newServer(t)
	b := New(t)
	b.Navigate(srv.URL + "/bad")
	vs, err := b.A11yViolations()
	if err != nil {
		if InCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	found := map[string]Violation{}
	for _, v := range vs {
		found[v.ID] = v
		t.Logf("violation: %s", v)
	}
	for _, id := range []string{"image-alt", "label"} {
		v, ok := found[id]
		switch {
		case !ok:
			t.Errorf("axe-core did not report %q on the bad page", id)
		case !v.Blocking():
			t.Errorf("%s has impact %q, want serious or critical", id, v.Impact)
		case len(v.Targets) == 0:
			t.Errorf("%s has no target", id)
		}
	}

	// The good page has no violation at all, even after a navigation (axe is
	// injected again into the new document).
	b.Navigate(srv.URL + "/")
	vs, err = b.A11yViolations()
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 0 {
		t.Errorf("the good page has violations: %v", vs)
	}

	// CheckA11y itself fails its test on the bad page, naming the rules.
	b.Navigate(srv.URL + "/bad")
	ft := &fakeT{TB: t}
	b.CheckA11y(ft)
	for _, want := range []string{"2 serious or critical", "image-alt (critical)", "label (critical)", "at img", "/bad"} {
		if !strings.Contains(ft.errors, want) {
			t.Errorf("CheckA11y's failure lacks %q: %q", want, ft.errors)
		}
	}
}

// TestTimeoutMessage checks that a helper that times out fails its test with
// the helper, the selector and the current URL.
func TestTimeoutMessage(t *testing.T) {
	srv, _ := newServer(t)
	t.Setenv("PREAU_SCREENSHOTS", t.TempDir())
	b := New(t)
	b.Navigate(srv.URL + "/")

	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.WithT(ft).WithTimeout(300 * time.Millisecond).WaitVisible("#never")
	}()
	<-done
	if !strings.Contains(ft.msg, `WaitVisible("#never") failed at `+srv.URL+"/") || !strings.Contains(ft.msg, "timed out after 300ms") {
		t.Errorf("failure message: %q", ft.msg)
	}
	if !strings.Contains(ft.msg, "TestTimeoutMessage-failure.png") {
		t.Errorf("no failure screenshot in the message: %q", ft.msg)
	}
}

// fakeT records a Fatalf and ends its goroutine, as testing.T does.
type fakeT struct {
	testing.TB
	msg    string
	errors string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errors += fmt.Sprintf(format, args...)
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
