// Command preau is the whole of Préau in one binary: the server, the migrations, the
// demo, the administration commands and the load benchmark.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/demo"
	"github.com/preau-ent/preau/internal/platform/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Préau — espace numérique de travail

Utilisation : preau <commande> [options]

Commandes :
  serve     lance le serveur web (--demo charge la démonstration au premier lancement)
  migrate   applique les migrations de la base de données
  demo      charge la communauté scolaire de démonstration ;
            demo aaf --persons N écrit un export AAF synthétique
  import    import aaf DOSSIER : importe un export AAF complet ou delta
  admin     administration : create-superadmin, reset-password, unlock
  bench     mesure la charge (tableau de bord, annuaire, connexions) sur un annuaire généré
  version   affiche la version

Chaque commande accepte -h pour ses options. Toutes les options ont une variable
d'environnement PREAU_* équivalente.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(ctx, args)
	case "migrate":
		err = migrate(ctx, args)
	case "demo":
		if len(args) > 0 && args[0] == "aaf" {
			err = demoAAF(args[1:], os.Stdout)
		} else {
			err = loadDemo(ctx, args, os.Stdout)
		}
	case "import":
		err = importCmd(ctx, args, os.Stdout)
	case "admin":
		err = admin(ctx, args, os.Stdout)
	case "bench":
		err = runBench(ctx, args, os.Stdout)
	case "version":
		fmt.Println(versionString())
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "commande inconnue : %s\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "preau :", err)
		os.Exit(1)
	}
}

func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		v += " (" + info.GoVersion + ")"
	}
	return "preau " + v
}

// parse reads a subcommand's flags (the configuration's plus its own).
func parse(name string, args []string, extra func(fs *flag.FlagSet)) (*config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("preau "+name, flag.ContinueOnError)
	cfg := config.Flags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	cfg.Finish()
	setupLogging(cfg)
	return cfg, fs, nil
}

func setupLogging(c *config.Config) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}

func serve(ctx context.Context, args []string) error {
	var withDemo bool
	cfg, _, err := parse("serve", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&withDemo, "demo", os.Getenv("PREAU_DEMO") == "1", "charge la démonstration si elle n'est pas encore chargée (PREAU_DEMO=1)")
	})
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if withDemo {
		if err := printDemo(ctx, a, cfg, os.Stdout); err != nil && !errors.Is(err, demo.ErrAlreadyLoaded) {
			return err
		}
	}
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.Server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go a.Server.Housekeeping(ctx)
	if cfg.AAFDrop != "" {
		slog.Info("dossier de dépôt AAF surveillé", "dossier", cfg.AAFDrop)
		go a.Services.AAF.Watch(ctx, cfg.AAFDrop, time.Minute)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("Préau écoute", "adresse", "http://"+cfg.Addr, "portail", cfg.BaseHost, "base", redact(cfg.Database), "version", version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("arrêt en cours")
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// redact hides a PostgreSQL password in logs.
func redact(url string) string {
	if at := strings.LastIndex(url, "@"); at > 0 && strings.Contains(url, "://") {
		return url[:strings.Index(url, "://")+3] + "…" + url[at:]
	}
	return url
}

func migrate(ctx context.Context, args []string) error {
	cfg, _, err := parse("migrate", args, nil)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg) // Open migrates
	if err != nil {
		return err
	}
	fmt.Println("Base de données à jour.")
	return a.Close()
}

func loadDemo(ctx context.Context, args []string, out io.Writer) error {
	cfg, _, err := parse("demo", args, nil)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	return printDemo(ctx, a, cfg, out)
}

func printDemo(ctx context.Context, a *app.App, cfg *config.Config, out io.Writer) error {
	s := a.Services
	logins, err := demo.Load(ctx, demo.Services{Directory: s.Directory, Accounts: s.Accounts, Rights: s.Rights, Portals: s.Portals, Notify: s.Notify, Chat: s.Chat, Messaging: s.Messaging, News: s.News, Blog: s.Blog}, cfg.BaseHost, 2026)
	if err != nil {
		return err
	}
	port := cfg.Addr[strings.LastIndex(cfg.Addr, ":"):]
	fmt.Fprintf(out, "Démonstration chargée. Mot de passe de tous les comptes ci-dessous : %s\n", demo.Password)
	for _, l := range logins {
		fmt.Fprintf(out, "  %-24s %s\n", l.Login, l.Who)
	}
	fmt.Fprintf(out, "Portails : http://%s%s (défaut), http://%s.%s%s (collège), http://%s.%s%s (lycée), http://%s.%s%s (école), http://region.%s%s (Région)\n",
		cfg.BaseHost, port, strings.ToLower(demo.UAICollege), cfg.BaseHost, port, strings.ToLower(demo.UAILycee), cfg.BaseHost, port,
		strings.ToLower(demo.UAIEcole), cfg.BaseHost, port, cfg.BaseHost, port)
	return nil
}
