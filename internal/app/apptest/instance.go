package apptest

import (
	"net/http/httptest"
	"net/url"
	"os"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/platform/db"
)

// Instance starts a second instance of the application on the kit's database, as
// several stand behind a load balancer: on PostgreSQL it has its own connection pool,
// event bus and HTTP server, and shares only the database. The fixture is the kit's.
// On SQLite the instances share the pool (one file, one process): real-time events
// do not cross between them there, as in production.
func (k *Kit) Instance() *Kit {
	k.T.Helper()
	d := k.App.DB
	if d.Dialect == db.Postgres {
		var name string
		k.must(d.QueryRowContext(k.Ctx, `SELECT current_database()`).Scan(&name))
		u, err := url.Parse(os.Getenv("PREAU_TEST_POSTGRES"))
		k.must(err)
		u.Path = "/" + name
		if d, err = db.Open(k.Ctx, u.String()); err != nil {
			k.T.Fatal(err)
		}
		k.T.Cleanup(func() { d.Close() })
	}
	a, err := app.Build(d, k.opts)
	k.must(err)
	srv := httptest.NewServer(a.Server.Handler())
	k.T.Cleanup(srv.Close)
	k.T.Cleanup(a.Stop)
	return &Kit{T: k.T, App: a, Server: srv, URL: srv.URL, Sys: k.Sys, Ctx: k.Ctx, School: k.School, opts: k.opts}
}
