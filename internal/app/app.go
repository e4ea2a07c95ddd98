// Package app wires Préau's services together over one database: the command line,
// the server and the tests all build the application the same way.
package app

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/cas"
	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/csvfeed"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/federation"
	"github.com/preau-ent/preau/internal/forum"
	"github.com/preau-ent/preau/internal/letters"
	"github.com/preau-ent/preau/internal/messaging"
	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/oidc"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/blob"
	"github.com/preau-ent/preau/internal/platform/config"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/i18n"
	"github.com/preau-ent/preau/internal/platform/mail"
	"github.com/preau-ent/preau/internal/platform/pubsub"
	"github.com/preau-ent/preau/internal/portal"
	"github.com/preau-ent/preau/internal/rights"
	"github.com/preau-ent/preau/internal/saml"
	"github.com/preau-ent/preau/internal/web"
	assets "github.com/preau-ent/preau/web"
)

// Migrations lists every service's migrations in dependency order.
var Migrations = []db.Migrations{
	directory.Migrations, account.Migrations, rights.Migrations, commrules.Migrations, portal.Migrations, audit.Migrations,
	aaf.Migrations,
	connector.Migrations, cas.Migrations, oidc.Migrations, saml.Migrations, federation.Migrations,
	messaging.Migrations, notify.Migrations, chat.Migrations, news.Migrations,
	blog.Migrations, faq.Migrations, forum.Migrations,
}

// Catalog is the deployment's application catalog, in dashboard order.
var Catalog = []rights.App{
	{ID: "messagerie", Path: "/messagerie", Icon: "messagerie", Profiles: directory.Profiles},
	{ID: "annuaire", Path: "/annuaire", Icon: "annuaire", Profiles: directory.Profiles},
	{ID: "actualites", Path: "/actualites", Icon: "actualites", Profiles: directory.Profiles},
	{ID: "moncompte", Path: "/mon-compte", Icon: "moncompte", Profiles: directory.Profiles},
	{ID: chat.AppID, Path: "/discussions", Icon: "discussions", Profiles: directory.Profiles},
	{ID: blog.AppID, Path: "/blogs", Icon: "blogs", Profiles: directory.Profiles},
	{ID: "faq", Path: "/faq", Icon: "faq", Profiles: directory.Profiles},
	{ID: "forums", Path: "/forums", Icon: "forums", Profiles: directory.Profiles},
	{ID: "administration", Path: "/admin", Icon: "administration", AdminOnly: true},
}

// App is the wired application.
type App struct {
	DB       *db.DB
	Services web.Services
	Server   *web.Server
	Registry *prometheus.Registry
	bus      pubsub.PubSub // real-time events between instances
	poster   *poster       // notifications posted after the services' transactions
	stopOnce sync.Once
}

// Options tune what Build makes.
type Options struct {
	Name          string
	BaseHost      string
	Mail          mail.Sender // nil: a spool in SpoolDir
	SpoolDir      string
	FilesDir      string // the blob store of uploaded files (attachments, images)
	Account       account.Config
	SecureCookies bool
	TrustProxy    bool
	MaxInflight   int
	AAF           aaf.Options // grace period and purge delay of the directory feeds
	CAS           cas.Config
	OIDC          oidc.Config       // its SecretKey encrypts the signing keys
	SAML          saml.Config       // its SecretKey defaults to OIDC's
	Federation    federation.Config // its SecretKey defaults to OIDC's
	Mailbox       messaging.Config
	ScanCommand   string // checks every attachment (file on stdin; non-zero exit refuses it)

	// Notify tunes notifications; its PortalURL defaults to http://<BaseHost>.
	Notify notify.Config
}

// Build wires the services over an open, migrated database.
func Build(d *db.DB, o Options) (*App, error) {
	if o.Name == "" {
		o.Name = "Préau"
	}
	if o.BaseHost == "" {
		o.BaseHost = "localhost"
	}
	catalogFS, err := fs.Sub(assets.I18n, "i18n")
	if err != nil {
		return nil, err
	}
	catalog, err := i18n.Load(catalogFS)
	if err != nil {
		return nil, fmt.Errorf("catalogue de messages : %w", err)
	}
	if o.SAML.SecretKey == nil {
		o.SAML.SecretKey = o.OIDC.SecretKey
	}
	if o.Federation.SecretKey == nil {
		o.Federation.SecretKey = o.OIDC.SecretKey
	}
	var spool *mail.Spool
	sender := o.Mail
	if sender == nil {
		if o.SpoolDir == "" {
			return nil, fmt.Errorf("ni SMTP ni dossier de courriels configuré")
		}
		spool = mail.NewSpool(o.SpoolDir, "ne-pas-repondre@"+o.BaseHost)
		sender = spool
	}
	if o.FilesDir == "" {
		return nil, fmt.Errorf("aucun dossier de fichiers configuré")
	}
	blobs, err := blob.NewDisk(o.FilesDir)
	if err != nil {
		return nil, err
	}
	// Notifications come first: the services that post events are given it.
	if o.Notify.PortalURL == "" {
		o.Notify.PortalURL = "http://" + o.BaseHost
	}
	if o.Notify.Name == "" {
		o.Notify.Name = o.Name
	}
	notifications := notify.New(d, sender, catalog, o.Notify)
	posts := newPoster(notifications)
	al := audit.New(d)
	rs := rights.New(d, al, Catalog)
	comm := commrules.New(d, al, rs)
	dir := directory.New(d, al, rs, comm)
	acc := account.New(d, al, dir, rs, sender, o.Account)
	portals := portal.New(d, al, rs, dir, o.BaseHost, o.Name)
	connectors := connector.New(d, al, rs)
	feeds := aaf.New(d, dir, al, rs, o.AAF)
	mailbox := messaging.New(d, al, rs, comm, blobs, o.Mailbox)
	mailbox.Scan = messaging.CommandScanner(o.ScanCommand)
	mailbox.Notify = posts.hook(notify.KindMessage)
	// Real-time events: in process on SQLite, LISTEN/NOTIFY between the instances
	// sharing a PostgreSQL database.
	busCtx, cancelBus := context.WithTimeout(context.Background(), 30*time.Second)
	bus, err := pubsub.For(busCtx, d)
	cancelBus()
	if err != nil {
		return nil, err
	}
	chats := chat.New(d, al, rs, comm, dir, bus)
	chats.Notify = posts.hook(notify.KindChat)
	publications := news.New(d, al, rs, dir, blobs)
	publications.Notify = posts.hook(notify.KindPublication)
	svc := web.Services{DB: d, Blobs: blobs, Audit: al, Rights: rs, Comm: comm, Directory: dir, Accounts: acc, Portals: portals, Spool: spool, Catalog: catalog, AAF: feeds,
		CSV: csvfeed.New(d, dir, al, rs), Letters: letters.New(d, dir, acc, rs),
		Connectors: connectors, CAS: cas.New(d, al, dir, connectors, o.CAS), OIDC: oidc.New(d, al, dir, connectors, o.OIDC), SAML: saml.New(d, al, dir, connectors, o.SAML),
		Messaging: mailbox, Chat: chats, ChatHub: chat.NewHub(chats), News: publications,
		Federation: federation.New(d, al, rs, dir, o.Federation), Notify: notifications}
	svc.Blog = newBlogs(d, al, rs, dir, blobs, posts)
	svc.FAQ = faq.New(d, al, rs, dir)
	svc.Forum = forum.New(d, al, rs, svc.Blog.MayCreate)
	svc.Moderation = moderation.Registry{"actualites": publications, "blogs": svc.Blog, "forums": svc.Forum, "messagerie": mailbox, "discussions": chats}
	wirePublishing(&svc, publications, posts)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewDBStatsCollector(d.DB, "preau"))
	srv, err := web.New(svc, web.Options{SecureCookies: o.SecureCookies, TrustProxy: o.TrustProxy, MaxInflight: o.MaxInflight, SessionIdle: o.Account.SessionIdle, Registry: reg})
	if err != nil {
		svc.ChatHub.Close()
		bus.Close()
		return nil, err
	}
	return &App{DB: d, Services: svc, Server: srv, Registry: reg, bus: bus, poster: posts}, nil
}

// Open opens and migrates the configured database and builds the application.
func Open(ctx context.Context, c *config.Config) (*App, error) {
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("dossier de données %s : %w", c.DataDir, err)
	}
	d, err := db.Open(ctx, c.Database)
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx, Migrations...); err != nil {
		d.Close()
		return nil, fmt.Errorf("migrations : %w", err)
	}
	secret, err := c.LoadSecretKey()
	if err != nil {
		d.Close()
		return nil, err
	}
	o := Options{Name: c.Name, BaseHost: c.BaseHost, SpoolDir: filepath.Join(c.DataDir, "mail-spool"), FilesDir: filepath.Join(c.DataDir, "files"), SecureCookies: c.SecureCookies,
		TrustProxy: c.TrustProxy, MaxInflight: c.MaxInflight, Account: account.Config{SessionIdle: c.SessionIdle},
		AAF: aaf.Options{Grace: c.AAFGrace, PurgeAfter: c.AAFPurge}, OIDC: oidc.Config{SecretKey: secret},
		SAML:        saml.Config{SecretKey: secret, IDEnt: c.GARIDEnt},
		Mailbox:     messaging.Config{FileLimit: int64(c.MailAttachmentMB) * messaging.MiB, MessageLimit: int64(c.MailAttachmentMB) * messaging.MiB, Quota: int64(c.MailQuotaMB) * messaging.MiB},
		ScanCommand: c.ScanCommand}
	o.Notify = notify.Config{PortalURL: c.PortalURL(), Retention: c.NotifyRetention}
	if strings.TrimSpace(c.SMTPHost) != "" {
		o.Mail = mail.NewSMTP(c.SMTPHost, c.SMTPPort, c.SMTPUser, c.SMTPPassword, c.MailFrom)
	}
	a, err := Build(d, o)
	if err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// Stop ends the background work that holds database connections: the live streams
// of the instant messaging and the listening connection of the event bus. Close calls
// it; tests that close the database themselves call it first.
func (a *App) Stop() {
	a.stopOnce.Do(func() {
		a.Services.ChatHub.Close()
		a.bus.Close()
		a.poster.close()
	})
}

// Close stops the background work and releases the database.
func (a *App) Close() error {
	a.Stop()
	return a.DB.Close()
}
