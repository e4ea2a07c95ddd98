package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/demo"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// The demo's class blog: Paul Durand's, read by Sophie Martin, with her comment.
func TestDemoBlog(t *testing.T) {
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, app.Migrations...); err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(d, app.Options{Name: "Préau", BaseHost: "localhost", SpoolDir: filepath.Join(t.TempDir(), "spool"), FilesDir: filepath.Join(t.TempDir(), "files"),
		Account: account.Config{Argon: account.ArgonParams{MemoryKiB: 64, Time: 1, Threads: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	s := a.Services
	if _, err := demo.Load(ctx, demo.Services{Directory: s.Directory, Accounts: s.Accounts, Rights: s.Rights, Portals: s.Portals, Notify: s.Notify, Blog: s.Blog}, "localhost", 2026); err != nil {
		t.Fatal(err)
	}
	sophie, err := s.Directory.PersonByLogin(ctx, "sophie.martin")
	if err != nil {
		t.Fatal(err)
	}
	me := actor.Actor{PersonID: sophie.ID, Login: sophie.Login, Profile: sophie.Profile}
	blogs, err := s.Blog.List(ctx, me)
	if err != nil || len(blogs) != 1 || blogs[0].OwnerName != "Paul Durand" || blogs[0].Title != "Le blog de la 4e A" {
		t.Fatalf("Sophie's blogs: %v %+v", err, blogs)
	}
	_, posts, err := s.Blog.Posts(ctx, me, blogs[0].ID, 10)
	if err != nil || len(posts) != 1 || posts[0].Comments != 1 {
		t.Fatalf("posts: %v %+v", err, posts)
	}
}
