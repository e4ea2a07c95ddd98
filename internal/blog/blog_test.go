package blog_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/rights"
)

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

type env struct {
	*apptest.Kit
	svc *blog.Service
}

func newEnv(t *testing.T) *env {
	k := apptest.New(t)
	return &env{Kit: k, svc: k.App.Services.Blog}
}

func (e *env) must(err error) {
	e.T.Helper()
	if err != nil {
		e.T.Fatal(err)
	}
}

// classGroup returns the group of a profile in the fixture's class ("Parents de 4e A").
func (e *env) classGroup(profile string) directory.Group {
	e.T.Helper()
	gs, err := e.App.Services.Directory.Groups(e.Ctx, e.School.College.ID, directory.GroupClassProfile)
	e.must(err)
	for _, g := range gs {
		if g.ClassID == e.School.Class.ID && g.Profile == profile {
			return g
		}
	}
	e.T.Fatalf("no %s group in the class", profile)
	return directory.Group{}
}

// classBlog is the teacher's class blog: the class's pupils contribute, its parents read.
func (e *env) classBlog(moderated bool) blog.Blog {
	e.T.Helper()
	f := e.School
	b, err := e.svc.Create(e.Ctx, as(f.Teacher), blog.Input{StructureID: f.College.ID, Title: "Le blog de la 4e A", Moderated: moderated})
	e.must(err)
	e.must(e.svc.Share(e.Ctx, as(f.Teacher), b.ID, rights.Grantee{Kind: "group", ID: e.classGroup(directory.Eleve).ID}, rights.Contribute))
	e.must(e.svc.Share(e.Ctx, as(f.Teacher), b.ID, rights.Grantee{Kind: "group", ID: e.classGroup(directory.Responsable).ID}, rights.Read))
	return b
}

func TestRights(t *testing.T) {
	e := newEnv(t)
	f := e.School
	if _, err := e.svc.Create(e.Ctx, as(f.Pupil), blog.Input{StructureID: f.College.ID, Title: "x"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a pupil created a blog: %v", err)
	}
	if _, err := e.svc.Create(e.Ctx, as(f.Teacher), blog.Input{StructureID: f.Lycee.ID, Title: "x"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a teacher created a blog in another school: %v", err)
	}
	b := e.classBlog(false)

	// A reader (the parent) reads but cannot post; a contributor (a pupil) posts, and
	// the post waits for the owner; someone outside the shares does not see the blog.
	if _, err := e.svc.CreatePost(e.Ctx, as(f.Parent), b.ID, blog.PostInput{Title: "t", Body: "<p>x</p>"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a reader posted: %v", err)
	}
	sub, err := e.svc.CreatePost(e.Ctx, as(f.Pupil), b.ID, blog.PostInput{Title: "Sortie au musée", Body: "<p>Compte rendu</p>"})
	e.must(err)
	if sub.State != blog.Submitted {
		t.Fatalf("a contributor's post is %s", sub.State)
	}
	if _, _, err := e.svc.GetPost(e.Ctx, as(f.Parent), sub.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("a reader saw a post waiting for the owner: %v", err)
	}
	if err := e.svc.PublishPost(e.Ctx, as(f.Pupil), sub.ID); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a contributor published: %v", err)
	}
	e.must(e.svc.PublishPost(e.Ctx, as(f.Teacher), sub.ID))
	if _, _, err := e.svc.GetPost(e.Ctx, as(f.Parent), sub.ID); err != nil {
		t.Fatalf("the reader cannot read the published post: %v", err)
	}
	if _, err := e.svc.Get(e.Ctx, as(f.OtherPupil), b.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("someone outside the shares read the blog: %v", err)
	}
	if _, _, err := e.svc.GetPost(e.Ctx, as(f.OtherPupil), sub.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("someone outside the shares read a post: %v", err)
	}
	if _, _, err := e.svc.GetPost(e.Ctx, actor.Actor{}, sub.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("anonymous read a private blog: %v", err)
	}
	list, err := e.svc.List(e.Ctx, as(f.Parent))
	e.must(err)
	if len(list) != 1 || list[0].ID != b.ID || list[0].CanWrite() {
		t.Fatalf("the parent's blogs: %+v", list)
	}
	if list, _ := e.svc.List(e.Ctx, as(f.OtherPupil)); len(list) != 0 {
		t.Fatalf("an outsider lists %d blogs", len(list))
	}

	// Public: anyone reads published posts, nobody anonymous comments.
	_, err = e.svc.Update(e.Ctx, as(f.Teacher), b.ID, blog.Input{Title: b.Title, Public: true})
	e.must(err)
	if _, _, err := e.svc.GetPost(e.Ctx, actor.Actor{}, sub.ID); err != nil {
		t.Fatalf("anonymous cannot read a public blog: %v", err)
	}
	if _, err := e.svc.AddComment(e.Ctx, actor.Actor{}, sub.ID, "spam"); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("anonymous commented: %v", err)
	}
	if _, err := e.svc.Update(e.Ctx, as(f.Pupil), b.ID, blog.Input{Title: "pris"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a contributor changed the blog: %v", err)
	}
	// Shares stay inside the blog's school.
	if err := e.svc.Share(e.Ctx, as(f.Teacher), b.ID, rights.Grantee{Kind: "person", ID: f.OtherPupil.ID}, rights.Read); err == nil {
		t.Fatal("shared with a pupil of another school")
	}
}

func TestCommentModeration(t *testing.T) {
	e := newEnv(t)
	f := e.School
	b := e.classBlog(true)
	post, err := e.svc.CreatePost(e.Ctx, as(f.Teacher), b.ID, blog.PostInput{Title: "Bienvenue", Body: "<p>Bonjour</p>"})
	e.must(err)
	if post.State != blog.Published {
		t.Fatalf("the owner's post is %s", post.State)
	}
	c, err := e.svc.AddComment(e.Ctx, as(f.Parent), post.ID, "Merci pour ce blog <b>!</b>")
	e.must(err)
	if c.State != blog.Pending {
		t.Fatalf("a comment on a moderated blog is %s", c.State)
	}
	seen := func(p directory.Person) int {
		cs, err := e.svc.Comments(e.Ctx, as(p), post.ID)
		e.must(err)
		return len(cs)
	}
	if seen(f.Pupil) != 0 || seen(f.Parent) != 1 || seen(f.Teacher) != 1 {
		t.Fatalf("pending comment seen by pupil %d, author %d, owner %d", seen(f.Pupil), seen(f.Parent), seen(f.Teacher))
	}
	if err := e.svc.ApproveComment(e.Ctx, as(f.Parent), c.ID); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("the author approved their comment: %v", err)
	}
	e.must(e.svc.ApproveComment(e.Ctx, as(f.Teacher), c.ID))
	if seen(f.Pupil) != 1 {
		t.Fatal("the approved comment is not shown")
	}
	// Not moderated: comments appear at once.
	e2, err := e.svc.Update(e.Ctx, as(f.Teacher), b.ID, blog.Input{Title: b.Title})
	e.must(err)
	if e2.Moderated {
		t.Fatal("still moderated")
	}
	c2, err := e.svc.AddComment(e.Ctx, as(f.Pupil), post.ID, "Super")
	e.must(err)
	if c2.State != blog.Published {
		t.Fatalf("comment on an open blog is %s", c2.State)
	}
	e.must(e.svc.DeleteComment(e.Ctx, as(f.Teacher), c2.ID))
	if seen(f.Pupil) != 1 {
		t.Fatal("the deleted comment is still shown")
	}
}

func TestSanitizingAndFiles(t *testing.T) {
	e := newEnv(t)
	f := e.School
	b := e.classBlog(false)
	hostile := `<p onclick="alert(1)">Salut</p><script>alert(2)</script><img src="javascript:alert(3)" alt="x"><a href="javascript:alert(4)">lien</a><iframe src="//evil"></iframe><svg onload=alert(5)>`
	post, err := e.svc.CreatePost(e.Ctx, as(f.Teacher), b.ID, blog.PostInput{Title: "Piège", Body: hostile})
	e.must(err)
	_, got, err := e.svc.GetPost(e.Ctx, as(f.Parent), post.ID)
	e.must(err)
	low := strings.ToLower(string(got.Body))
	for _, bad := range []string{"<script", "onclick", "javascript:", "<iframe", "<svg", "onload"} {
		if strings.Contains(low, bad) {
			t.Fatalf("stored body keeps %q: %s", bad, got.Body)
		}
	}
	if !strings.Contains(string(got.Body), "Salut") {
		t.Fatalf("the text is lost: %s", got.Body)
	}

	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 200)...)
	if _, err := e.svc.AddFile(e.Ctx, as(f.Parent), b.ID, "photo.png", bytes.NewReader(png)); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a reader uploaded: %v", err)
	}
	var inv *actor.InvalidError
	if _, err := e.svc.AddFile(e.Ctx, as(f.Teacher), b.ID, "image.png", strings.NewReader(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)); !errors.As(err, &inv) {
		t.Fatalf("an SVG was accepted: %v", err)
	}
	file, err := e.svc.AddFile(e.Ctx, as(f.Teacher), b.ID, "photo.png", bytes.NewReader(png))
	e.must(err)
	_, rc, public, err := e.svc.OpenFile(e.Ctx, as(f.Parent), file.ID)
	e.must(err)
	data, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(data, png) || public {
		t.Fatalf("file read back: %d bytes, public %v", len(data), public)
	}
	if _, _, _, err := e.svc.OpenFile(e.Ctx, as(f.OtherPupil), file.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("an outsider opened the file: %v", err)
	}
}

func TestReportAndModeration(t *testing.T) {
	e := newEnv(t)
	f := e.School
	b := e.classBlog(false)
	post, err := e.svc.CreatePost(e.Ctx, as(f.Teacher), b.ID, blog.PostInput{Title: "Sortie", Body: "<p>Rendez-vous à 8 h</p>"})
	e.must(err)
	c, err := e.svc.AddComment(e.Ctx, as(f.Pupil), post.ID, "Propos déplacé")
	e.must(err)
	e.must(e.svc.Report(e.Ctx, as(f.Parent), "comment", c.ID, "Insultant"))
	e.must(e.svc.Report(e.Ctx, as(f.Classmate), "post", post.ID, "Erreur d'horaire"))
	if err := e.svc.Report(e.Ctx, as(f.OtherPupil), "post", post.ID, "x"); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("an outsider reported: %v", err)
	}

	if r, err := e.svc.Reports(e.Ctx, as(f.Teacher)); err != nil || len(r) != 0 {
		t.Fatalf("a teacher sees the queue: %v %d", err, len(r))
	}
	reports, err := e.svc.Reports(e.Ctx, as(f.Head)) // the college's local administrator
	e.must(err)
	if len(reports) != 2 {
		t.Fatalf("queue: %+v", reports)
	}
	var onComment, onPost blog.Report
	for _, r := range reports {
		if r.Kind == "comment" {
			onComment = r
		} else {
			onPost = r
		}
	}
	if onComment.Excerpt != "Propos déplacé" || onComment.PostID != post.ID || onPost.Excerpt != "Sortie" {
		t.Fatalf("reports: %+v %+v", onComment, onPost)
	}
	if err := e.svc.Resolve(e.Ctx, as(f.Teacher), onComment.ID, true, ""); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a non-moderator resolved: %v", err)
	}
	e.must(e.svc.Resolve(e.Ctx, as(f.Head), onComment.ID, true, "Propos insultants"))
	e.must(e.svc.Resolve(e.Ctx, as(f.Head), onPost.ID, false, "Rien à redire"))
	if cs, _ := e.svc.Comments(e.Ctx, as(f.Teacher), post.ID); len(cs) != 0 {
		t.Fatalf("the removed comment is still shown: %+v", cs)
	}
	if _, _, err := e.svc.GetPost(e.Ctx, as(f.Parent), post.ID); err != nil {
		t.Fatalf("the dismissed report removed the post: %v", err)
	}
	if r, _ := e.svc.Reports(e.Ctx, as(f.Head)); len(r) != 0 {
		t.Fatalf("queue after resolving: %+v", r)
	}
	if err := e.svc.Resolve(e.Ctx, as(f.Head), onPost.ID, true, ""); err == nil {
		t.Fatal("a closed report was resolved again")
	}

	entries, err := e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "blog", Limit: 500})
	e.must(err)
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
		if en.Action == "blog.moderation.remove" && (en.ActorID != f.Head.ID || en.TargetID != c.ID || en.Details["note"] != "Propos insultants") {
			t.Fatalf("removal audited as %+v", en)
		}
	}
	for _, want := range []string{"blog.report", "blog.moderation.remove", "blog.report.dismiss"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("no %s in the audit log: %v", want, actions)
		}
	}
}

func TestNotifyReaders(t *testing.T) {
	e := newEnv(t)
	f := e.School
	b := e.classBlog(false)
	_, err := e.svc.CreatePost(e.Ctx, as(f.Teacher), b.ID, blog.PostInput{Title: "Nouvelles", Body: "<p>Bonjour</p>"})
	e.must(err)
	e.App.SettleNotifications() // posted in the background, after the post
	for _, p := range []directory.Person{f.Parent, f.Pupil} {
		n, err := e.App.Services.Notify.UnreadCount(e.Ctx, p.ID)
		e.must(err)
		if n != 1 {
			t.Fatalf("%s has %d unread notifications", p.FirstName, n)
		}
	}
	if n, _ := e.App.Services.Notify.UnreadCount(e.Ctx, f.OtherPupil.ID); n != 0 {
		t.Fatalf("an outsider was notified: %d", n)
	}
	if n, _ := e.App.Services.Notify.UnreadCount(e.Ctx, f.Teacher.ID); n != 0 {
		t.Fatalf("the author was notified: %d", n)
	}
}

// TestPersonShares: a blog shared with a person directly (no group) lets them read or
// contribute as shared, the shares list them, and removing the share takes it away.
func TestPersonShares(t *testing.T) {
	e := newEnv(t)
	f := e.School
	b, err := e.svc.Create(e.Ctx, as(f.Teacher), blog.Input{StructureID: f.College.ID, Title: "Le blog du club théâtre"})
	e.must(err)
	reader := e.Person("Chloé", "Lemoine", directory.Eleve, f.College.ID)
	writer := f.Pupil
	if _, err := e.svc.Get(e.Ctx, as(reader), b.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("read before any share: %v", err)
	}
	e.must(e.svc.Share(e.Ctx, as(f.Teacher), b.ID, rights.Grantee{Kind: "person", ID: reader.ID}, rights.Read))
	e.must(e.svc.Share(e.Ctx, as(f.Teacher), b.ID, rights.Grantee{Kind: "person", ID: writer.ID}, rights.Contribute))

	got, err := e.svc.Get(e.Ctx, as(reader), b.ID)
	if err != nil || got.Level != rights.Read || got.CanWrite() {
		t.Fatalf("the reader: %+v %v", got, err)
	}
	if list, _ := e.svc.List(e.Ctx, as(reader)); len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("the reader's blogs: %+v", list)
	}
	if _, err := e.svc.CreatePost(e.Ctx, as(reader), b.ID, blog.PostInput{Title: "t", Body: "<p>x</p>"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("the reader posted: %v", err)
	}
	post, err := e.svc.CreatePost(e.Ctx, as(writer), b.ID, blog.PostInput{Title: "Répétition", Body: "<p>Jeudi</p>"})
	if err != nil || post.State != blog.Submitted {
		t.Fatalf("the contributor's post: %+v %v", post, err)
	}
	shares, err := e.svc.Shares(e.Ctx, as(f.Teacher), b.ID)
	e.must(err)
	held := map[string]rights.Level{}
	for _, sh := range shares {
		if sh.Kind == "person" {
			held[sh.ID] = sh.Level
		}
	}
	if len(held) != 2 || held[reader.ID] != rights.Read || held[writer.ID] != rights.Contribute {
		t.Fatalf("shares: %+v", shares)
	}
	// Only a manager shares: the contributor cannot share further.
	if err := e.svc.Share(e.Ctx, as(writer), b.ID, rights.Grantee{Kind: "person", ID: f.Parent.ID}, rights.Read); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a contributor shared: %v", err)
	}

	// Removing the shares takes the access away.
	e.must(e.svc.Share(e.Ctx, as(f.Teacher), b.ID, rights.Grantee{Kind: "person", ID: reader.ID}, rights.None))
	e.must(e.svc.Share(e.Ctx, as(f.Teacher), b.ID, rights.Grantee{Kind: "person", ID: writer.ID}, rights.None))
	if _, err := e.svc.Get(e.Ctx, as(reader), b.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("read after the share was removed: %v", err)
	}
	if _, err := e.svc.CreatePost(e.Ctx, as(writer), b.ID, blog.PostInput{Title: "t", Body: "<p>x</p>"}); !errors.Is(err, actor.ErrNotFound) && !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("posted after the share was removed: %v", err)
	}
	if list, _ := e.svc.List(e.Ctx, as(writer)); len(list) != 0 {
		t.Fatalf("the former contributor still lists %d blogs", len(list))
	}
	if shares, _ := e.svc.Shares(e.Ctx, as(f.Teacher), b.ID); len(shares) != 0 {
		t.Fatalf("shares left: %+v", shares)
	}
}
