package news_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/news/newstest"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/rights"
)

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

func titles(items []news.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Title)
	}
	return out
}

type env struct {
	*apptest.Kit
	svc *news.Service
	p   apptest.Partners
}

func newEnv(t *testing.T) *env {
	k := apptest.New(t)
	return &env{Kit: k, svc: k.App.Services.News, p: k.Partners()}
}

func (e *env) must(err error) {
	e.T.Helper()
	if err != nil {
		e.T.Fatal(err)
	}
}

func (e *env) thread(admin directory.Person, structureID, name string) news.Thread {
	e.T.Helper()
	t, err := e.svc.CreateThread(e.Ctx, as(admin), structureID, name)
	e.must(err)
	return t
}

// publish writes and publishes an item as a manager of its thread.
func (e *env) publish(by directory.Person, t news.Thread, title string, in news.Input) news.Item {
	e.T.Helper()
	in.ThreadID, in.Title = t.ID, title
	if in.Body == "" {
		in.Body = "<p>" + title + "</p>"
	}
	it, err := e.svc.Save(e.Ctx, as(by), "", in)
	e.must(err)
	e.must(e.svc.Publish(e.Ctx, as(by), it.ID))
	return it
}

func (e *env) feed(p directory.Person) []string {
	e.T.Helper()
	items, err := e.svc.Feed(e.Ctx, as(p), 50)
	e.must(err)
	return titles(items)
}

func (e *env) sees(p directory.Person, title string) bool {
	e.T.Helper()
	return slices.Contains(e.feed(p), title)
}

func TestTargeting(t *testing.T) {
	e := newEnv(t)
	f := e.School
	dep := e.thread(e.p.DepartementAdmin, e.p.Departement.ID, "Infos du Département")
	reg := e.thread(e.p.RegionAdmin, e.p.Region.ID, "Infos de la Région")
	col := e.thread(f.Head, f.College.ID, "Vie du collège")

	e.publish(e.p.DepartementAdmin, dep, "Transport des collégiens", news.Input{Target: news.Target{Types: []string{news.TypeCollege}}})
	e.publish(e.p.RegionAdmin, reg, "Manuels des lycéens", news.Input{Target: news.Target{Types: []string{news.TypeLycee}}})
	e.publish(e.p.RegionAdmin, reg, "Pour tous les établissements", news.Input{})
	e.publish(f.Head, col, "Réunion parents", news.Input{Target: news.Target{Profiles: []string{directory.Responsable}}})
	e.publish(f.Head, col, "Sortie de la 4e A", news.Input{Target: news.Target{Classes: []string{f.Class.ID}}})
	e.publish(f.Head, col, "Fête du collège", news.Input{Headline: true})

	// The parent of a collège pupil (attached to the collège through their child).
	got := e.feed(f.Parent)
	for _, want := range []string{"Transport des collégiens", "Pour tous les établissements", "Réunion parents", "Sortie de la 4e A", "Fête du collège"} {
		if !slices.Contains(got, want) {
			t.Errorf("parent does not see %q: %v", want, got)
		}
	}
	if slices.Contains(got, "Manuels des lycéens") {
		t.Errorf("parent of a collège pupil sees the Région's news for lycées: %v", got)
	}
	if got[0] != "Fête du collège" {
		t.Errorf("headline not first: %v", got)
	}
	// A parent attached elsewhere sees the news of their child's school too.
	lone := e.Person("Jean", "Seul", directory.Responsable, f.Lycee.ID)
	e.must(e.App.Services.Directory.LinkParent(e.Ctx, e.Sys, lone.ID, f.Pupil.ID))
	if !e.sees(lone, "Transport des collégiens") || !e.sees(lone, "Sortie de la 4e A") {
		t.Errorf("parent through child only: %v", e.feed(lone))
	}

	// The lycée pupil.
	got = e.feed(f.OtherPupil)
	if !slices.Contains(got, "Manuels des lycéens") || !slices.Contains(got, "Pour tous les établissements") || slices.Contains(got, "Transport des collégiens") || slices.Contains(got, "Fête du collège") {
		t.Errorf("lycée pupil: %v", got)
	}
	// Profiles: the pupil does not get the parents' news.
	if e.sees(f.Pupil, "Réunion parents") || !e.sees(f.Pupil, "Sortie de la 4e A") {
		t.Errorf("pupil: %v", e.feed(f.Pupil))
	}
	// Classes: the class's teacher sees the class's news, a pupil of another class does not.
	if !e.sees(f.Teacher, "Sortie de la 4e A") {
		t.Errorf("teacher of the class: %v", e.feed(f.Teacher))
	}
	other := e.Person("Zoé", "Autre", directory.Eleve, f.College.ID)
	if e.sees(other, "Sortie de la 4e A") || !e.sees(other, "Fête du collège") {
		t.Errorf("pupil of no class: %v", e.feed(other))
	}

	// A partner cannot target a school it does not serve, nor a school classes.
	_, err := e.svc.Save(e.Ctx, as(e.p.DepartementAdmin), "", news.Input{ThreadID: dep.ID, Title: "x", Body: "x", Target: news.Target{Structures: []string{f.Lycee.ID}}})
	var inv *actor.InvalidError
	if !errors.As(err, &inv) {
		t.Errorf("Département targeting the lycée: %v", err)
	}
	_, err = e.svc.Save(e.Ctx, as(f.Head), "", news.Input{ThreadID: col.ID, Title: "x", Body: "x", Target: news.Target{Structures: []string{f.Lycee.ID}}})
	if !errors.As(err, &inv) {
		t.Errorf("collège targeting the lycée: %v", err)
	}

	// Without a type in the directory, the school type is guessed from the name the
	// national directory gives; the directory's type wins over the name.
	for name, want := range map[string]string{"COLLEGE Jean Moulin": "college", "Lycée Marie Curie": "lycee", "LYCEE PROFESSIONNEL Galois": "lycee_pro", "Cité scolaire": ""} {
		if got := news.SchoolType(directory.Structure{Kind: directory.KindEtablissement, Name: name}); got != want {
			t.Errorf("SchoolType(%q) = %q, want %q", name, got, want)
		}
	}
	if got := news.SchoolType(directory.Structure{Kind: directory.KindEtablissement, Name: "Collège-lycée Ampère", Type: directory.TypeLycee}); got != news.TypeLycee {
		t.Errorf("typed lycée named Collège…: %q", got)
	}
}

// TestTargetingByDirectoryType: a partner's news for a type of school reaches the
// schools the directory gives that type, whatever their names say.
func TestTargetingByDirectoryType(t *testing.T) {
	e := newEnv(t)
	dir := e.App.Services.Directory
	school := func(uai, name, typ string) (directory.Person, directory.Person) {
		st, err := dir.CreateStructure(e.Ctx, e.Sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: uai, Name: name, Type: typ, ParentID: e.p.Departement.ID})
		e.must(err)
		pupil := e.Person("Élève", name, directory.Eleve, st.ID)
		parent := e.Person("Parent", name, directory.Responsable, st.ID)
		e.must(dir.LinkParent(e.Ctx, e.Sys, parent.ID, pupil.ID))
		return pupil, parent
	}
	// A collège whose name does not say so, a lycée whose name starts with "Collège",
	// a lycée professionnel, and a school no source has typed (its name decides).
	_, ferryParent := school("0690101A", "Cité scolaire Jules Ferry", directory.TypeCollege)
	_, ampereParent := school("0690102B", "Collège-lycée Ampère", directory.TypeLycee)
	lpPupil, _ := school("0690103C", "Établissement Galois", directory.TypeLyceePro)
	_, untypedParent := school("0690104D", "COLLEGE Victor Hugo", "")

	dep := e.thread(e.p.DepartementAdmin, e.p.Departement.ID, "Infos du Département")
	e.publish(e.p.DepartementAdmin, dep, "Transport des collégiens", news.Input{Target: news.Target{Types: []string{news.TypeCollege}}})
	e.publish(e.p.DepartementAdmin, dep, "Stages en entreprise", news.Input{Target: news.Target{Types: []string{news.TypeLyceePro}}})

	if !e.sees(ferryParent, "Transport des collégiens") {
		t.Errorf("parent of a pupil of a collège named otherwise: %v", e.feed(ferryParent))
	}
	if e.sees(ampereParent, "Transport des collégiens") {
		t.Errorf("parent of a lycée's pupil sees the news for collèges: %v", e.feed(ampereParent))
	}
	if !e.sees(untypedParent, "Transport des collégiens") {
		t.Errorf("untyped school named COLLEGE: %v", e.feed(untypedParent))
	}
	if got := e.feed(lpPupil); !slices.Contains(got, "Stages en entreprise") || slices.Contains(got, "Transport des collégiens") {
		t.Errorf("pupil of the lycée professionnel: %v", got)
	}
	if e.sees(ferryParent, "Stages en entreprise") {
		t.Errorf("collège parent sees the news for lycées professionnels: %v", e.feed(ferryParent))
	}
}

func TestPublicationRights(t *testing.T) {
	e := newEnv(t)
	f := e.School
	col := e.thread(f.Head, f.College.ID, "Vie du collège")
	svc := e.svc

	// Nobody writes in a thread before being made a writer.
	_, err := svc.Save(e.Ctx, as(f.Teacher), "", news.Input{ThreadID: col.ID, Title: "Essai", Body: "<p>x</p>"})
	if !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("teacher writing before being a writer: %v", err)
	}
	// Only the structure's administrators choose writers.
	if err := svc.SetMember(e.Ctx, as(f.Teacher), col.ID, rights.Grantee{Kind: "person", ID: f.Teacher.ID}, rights.Manage); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("teacher making themselves publisher: %v", err)
	}
	// The teachers of the collège (their profile group) write; one staff member publishes.
	groups, err := e.App.Services.Directory.Groups(e.Ctx, f.College.ID, directory.GroupProfile)
	e.must(err)
	var teachers string
	for _, g := range groups {
		if g.Profile == directory.Enseignant {
			teachers = g.ID
		}
	}
	if teachers == "" {
		t.Fatal("no teachers' group")
	}
	publisher := e.Person("Pia", "Blier", directory.Personnel, f.College.ID)
	e.must(svc.SetMember(e.Ctx, as(f.Head), col.ID, rights.Grantee{Kind: "group", ID: teachers}, rights.Contribute))
	e.must(svc.SetMember(e.Ctx, as(f.Head), col.ID, rights.Grantee{Kind: "person", ID: publisher.ID}, rights.Manage))

	it, err := svc.Save(e.Ctx, as(f.Teacher), "", news.Input{ThreadID: col.ID, Title: "Concours de poésie", Body: "<p>Inscrivez-vous !</p>", Public: true})
	e.must(err)
	if it.State != news.Draft {
		t.Fatalf("state %s", it.State)
	}
	if err := svc.Publish(e.Ctx, as(f.Teacher), it.ID); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("writer publishing: %v", err)
	}
	// Drafts are nobody else's business.
	if _, _, err := svc.Get(e.Ctx, as(f.Pupil), it.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("pupil reading a draft: %v", err)
	}
	if _, _, err := svc.Get(e.Ctx, actor.Actor{}, it.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("visitor reading a public draft: %v", err)
	}
	e.must(svc.Submit(e.Ctx, as(f.Teacher), it.ID))
	q, err := svc.Queue(e.Ctx, as(publisher))
	e.must(err)
	if len(q) != 1 || q[0].ID != it.ID {
		t.Fatalf("publisher's queue: %v", titles(q))
	}
	if q, _ := svc.Queue(e.Ctx, as(f.Teacher)); len(q) != 0 {
		t.Fatalf("writer has a queue: %v", titles(q))
	}
	e.must(svc.Reject(e.Ctx, as(publisher), it.ID, "Ajoutez la date limite."))
	it, _, err = svc.Get(e.Ctx, as(f.Teacher), it.ID)
	e.must(err)
	if it.State != news.Rejected || it.Note != "Ajoutez la date limite." {
		t.Fatalf("after rejection: %s %q", it.State, it.Note)
	}
	it, err = svc.Save(e.Ctx, as(f.Teacher), it.ID, news.Input{Title: "Concours de poésie", Body: "<p>Avant le 1er mars.</p>", Public: true})
	e.must(err)
	if it.State != news.Draft {
		t.Fatalf("edited rejected item: %s", it.State)
	}
	e.must(svc.Submit(e.Ctx, as(f.Teacher), it.ID))
	if e.sees(f.Pupil, "Concours de poésie") {
		t.Fatal("visible before publication")
	}
	e.must(svc.Publish(e.Ctx, as(publisher), it.ID))
	if !e.sees(f.Pupil, "Concours de poésie") {
		t.Fatalf("pupil does not see the published item: %v", e.feed(f.Pupil))
	}
	if _, _, err := svc.Get(e.Ctx, actor.Actor{}, it.ID); err != nil {
		t.Fatalf("visitor reading a public item: %v", err)
	}
	// A writer no longer changes a published item; a publisher does.
	if _, err := svc.Save(e.Ctx, as(f.Teacher), it.ID, news.Input{Title: "Changé", Body: "x"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("writer editing a published item: %v", err)
	}
	if _, err := svc.Save(e.Ctx, as(publisher), it.ID, news.Input{Title: "Concours de poésie 2027", Body: "x", Public: true}); err != nil {
		t.Fatal(err)
	}
	if !e.sees(f.Pupil, "Concours de poésie 2027") {
		t.Fatalf("edited published item: %v", e.feed(f.Pupil))
	}
	// Someone of another school has no role at all.
	if _, err := svc.Save(e.Ctx, as(f.OtherPupil), "", news.Input{ThreadID: col.ID, Title: "x", Body: "x"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("outsider writing: %v", err)
	}
	// The Département's administrator does not create threads for the lycée it does not serve.
	if _, err := svc.CreateThread(e.Ctx, as(e.p.DepartementAdmin), f.Lycee.ID, "x"); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("Département creating a thread in the lycée: %v", err)
	}
	// Threads: the teacher writes in one, the publisher publishes in it.
	ths, err := svc.Threads(e.Ctx, as(f.Teacher))
	e.must(err)
	if len(ths) != 1 || ths[0].Role != news.RoleWriter {
		t.Fatalf("teacher's threads: %+v", ths)
	}
	entries, err := e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "news", Limit: 500})
	e.must(err)
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
	}
	for _, want := range []string{"news.create", "news.submit", "news.reject", "news.publish", "news.update"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s in the audit log: %v", want, actions)
		}
	}
}

type notifications struct {
	mu   sync.Mutex
	sent map[string][]string // title → recipients
}

func (n *notifications) record(_ context.Context, recipients []string, _, title, link string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !strings.HasPrefix(link, "/actualites/") {
		panic(link)
	}
	n.sent[title] = append(n.sent[title], recipients...)
}

func TestScheduleExpiryAndNotification(t *testing.T) {
	e := newEnv(t)
	f := e.School
	now := time.Now()
	e.svc.SetClock(func() time.Time { return now })
	n := &notifications{sent: map[string][]string{}}
	e.svc.Notify = n.record
	col := e.thread(f.Head, f.College.ID, "Vie du collège")

	e.publish(f.Head, col, "Maintenant", news.Input{Target: news.Target{Profiles: []string{directory.Responsable}}})
	e.publish(f.Head, col, "Demain", news.Input{PublishAt: now.Add(24 * time.Hour)})
	e.publish(f.Head, col, "Jusqu'à ce soir", news.Input{ExpireAt: now.Add(6 * time.Hour), Public: true})

	if got := n.sent["Maintenant"]; !slices.Equal(got, []string{f.Parent.ID}) {
		t.Errorf("recipients of the parents' news: %v (parent %s)", got, f.Parent.ID)
	}
	if _, ok := n.sent["Demain"]; ok {
		t.Error("a scheduled item was notified at once")
	}
	if got := e.feed(f.Parent); !slices.Equal(got, []string{"Jusqu'à ce soir", "Maintenant"}) && !slices.Equal(got, []string{"Maintenant", "Jusqu'à ce soir"}) {
		t.Errorf("today: %v", got)
	}
	public, err := e.svc.PublicNews(e.Ctx, f.College.ID, 10)
	e.must(err)
	if !slices.Equal(titles(public), []string{"Jusqu'à ce soir"}) {
		t.Errorf("public news: %v", titles(public))
	}
	next, err := e.svc.NextChange(e.Ctx, f.College.ID)
	e.must(err)
	if !next.Equal(time.UnixMilli(now.Add(6 * time.Hour).UnixMilli())) {
		t.Errorf("next change %v", next)
	}

	now = now.Add(25 * time.Hour)
	got := e.feed(f.Parent)
	if !slices.Contains(got, "Demain") || slices.Contains(got, "Jusqu'à ce soir") {
		t.Errorf("the day after: %v", got)
	}
	if _, err := e.svc.NotifyDue(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if got := n.sent["Demain"]; !slices.Contains(got, f.Parent.ID) || !slices.Contains(got, f.Pupil.ID) || !slices.Contains(got, f.Teacher.ID) || slices.Contains(got, f.OtherPupil.ID) {
		t.Errorf("recipients of the scheduled item: %v", got)
	}
	before := len(n.sent["Demain"])
	e.must2(e.svc.NotifyDue(e.Ctx))
	if len(n.sent["Demain"]) != before {
		t.Error("notified twice")
	}
	if public, _ := e.svc.PublicNews(e.Ctx, f.College.ID, 10); len(public) != 0 {
		t.Errorf("expired public news still shown: %v", titles(public))
	}
}

func (e *env) must2(_ int, err error) { e.T.Helper(); e.must(err) }

func TestModeration(t *testing.T) {
	e := newEnv(t)
	f := e.School
	col := e.thread(f.Head, f.College.ID, "Vie du collège")
	it := e.publish(f.Head, col, "Un texte déplacé", news.Input{})
	other := e.publish(f.Head, col, "Un texte correct", news.Input{})

	// Visitors and people who cannot read the item cannot report it.
	if err := e.svc.Report(e.Ctx, as(f.OtherPupil), it.ID, "x"); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("report by someone who cannot read it: %v", err)
	}
	if err := e.svc.Report(e.Ctx, as(f.Pupil), it.ID, " "); err == nil {
		t.Fatal("report without a reason")
	}
	e.must(e.svc.Report(e.Ctx, as(f.Pupil), it.ID, "Propos blessants"))
	e.must(e.svc.Report(e.Ctx, as(f.Parent), it.ID, "Inadmissible"))
	e.must(e.svc.Report(e.Ctx, as(f.Parent), other.ID, "Je ne suis pas d'accord"))

	// A moderator of the collège sees the queue; a teacher does not.
	mod := e.Person("Marc", "Modo", directory.Personnel, f.College.ID)
	e.must(e.App.Services.Rights.Grant(e.Ctx, e.Sys, mod.ID, rights.Moderator, f.College.ID))
	if ok, _ := e.svc.IsModerator(e.Ctx, as(f.Teacher)); ok {
		t.Fatal("teacher is a moderator")
	}
	reports, err := e.svc.Reports(e.Ctx, as(mod))
	e.must(err)
	if len(reports) != 3 {
		t.Fatalf("moderation queue: %+v", reports)
	}
	if r, _ := e.svc.Reports(e.Ctx, as(e.p.RegionAdmin)); len(r) != 3 {
		t.Fatalf("the Région's administrator (above the collège) sees %d reports", len(r))
	}
	if r, _ := e.svc.Reports(e.Ctx, as(f.Teacher)); len(r) != 0 {
		t.Fatalf("teacher sees reports: %+v", r)
	}
	if err := e.svc.Resolve(e.Ctx, as(f.Teacher), reports[0].ID, true, ""); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("teacher removing: %v", err)
	}
	var first, dismiss string
	for _, r := range reports {
		if r.ItemID == it.ID && first == "" {
			first = r.ID
		}
		if r.ItemID == other.ID {
			dismiss = r.ID
		}
	}
	e.must(e.svc.Resolve(e.Ctx, as(mod), dismiss, false, "Pas de problème"))
	e.must(e.svc.Resolve(e.Ctx, as(mod), first, true, "Propos contraires à la charte"))
	if e.sees(f.Pupil, "Un texte déplacé") || !e.sees(f.Pupil, "Un texte correct") {
		t.Fatalf("after moderation: %v", e.feed(f.Pupil))
	}
	if r, _ := e.svc.Reports(e.Ctx, as(mod)); len(r) != 0 {
		t.Fatalf("reports left open: %+v", r)
	}
	got, _, err := e.svc.Get(e.Ctx, as(f.Head), it.ID)
	e.must(err)
	if got.State != news.Removed || got.Note != "Propos contraires à la charte" {
		t.Fatalf("removed item: %s %q", got.State, got.Note)
	}
	entries, err := e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "news", Limit: 500})
	e.must(err)
	var removed, dismissed bool
	for _, en := range entries {
		removed = removed || (en.Action == "news.moderation.remove" && en.ActorID == mod.ID && en.TargetID == it.ID)
		dismissed = dismissed || (en.Action == "news.report.dismiss" && en.ActorID == mod.ID)
	}
	if !removed || !dismissed {
		t.Fatalf("moderation not audited: removed %v dismissed %v", removed, dismissed)
	}
}

func TestSanitizing(t *testing.T) {
	e := newEnv(t)
	f := e.School
	col := e.thread(f.Head, f.College.ID, "Vie du collège")
	for i, h := range newstest.Hostile {
		it := e.publish(f.Head, col, "Titre "+string(rune('A'+i)), news.Input{Body: "<p>ok</p>" + h})
		got, _, err := e.svc.Get(e.Ctx, as(f.Pupil), it.ID)
		e.must(err)
		if bad := newstest.Unsafe(string(got.Body)); bad != "" {
			t.Errorf("%s → %s (%s)", h, got.Body, bad)
		}
	}
	p, err := e.svc.SavePage(e.Ctx, as(f.Head), f.College.ID, "", news.PageInput{Title: "Page", Body: strings.Join(newstest.Hostile, "\n"), Published: true})
	e.must(err)
	if bad := newstest.Unsafe(string(p.Body)); bad != "" {
		t.Errorf("page: %s (%s)", p.Body, bad)
	}
	e.must(e.svc.SaveInfo(e.Ctx, as(f.Head), f.College.ID, news.InfoInput{Practical: strings.Join(newstest.Hostile, "\n")}))
	info, err := e.svc.Info(e.Ctx, f.College.ID)
	e.must(err)
	if bad := newstest.Unsafe(string(info.Practical)); bad != "" {
		t.Errorf("info: %s (%s)", info.Practical, bad)
	}
}

func TestSiteAndFiles(t *testing.T) {
	e := newEnv(t)
	f := e.School
	v0, err := e.svc.Version(e.Ctx, f.College.ID)
	e.must(err)
	if _, err := e.svc.SavePage(e.Ctx, as(f.Teacher), f.College.ID, "", news.PageInput{Title: "Horaires"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("teacher writing a site page: %v", err)
	}
	p, err := e.svc.SavePage(e.Ctx, as(f.Head), f.College.ID, "", news.PageInput{Title: "Transport scolaire", Body: "<p>Cars du matin</p>", Published: true})
	e.must(err)
	if p.Slug != "transport-scolaire" {
		t.Fatalf("slug %q", p.Slug)
	}
	if _, err := e.svc.SavePage(e.Ctx, as(f.Head), f.College.ID, "", news.PageInput{Title: "Transport scolaire", Body: "x"}); err == nil {
		t.Fatal("same slug twice")
	}
	draft, err := e.svc.SavePage(e.Ctx, as(f.Head), f.College.ID, "", news.PageInput{Title: "Brouillon", Body: "x"})
	e.must(err)
	pages, err := e.svc.Pages(e.Ctx, f.College.ID, false)
	e.must(err)
	if len(pages) != 1 || pages[0].Slug != "transport-scolaire" {
		t.Fatalf("published pages: %+v", pages)
	}
	if _, err := e.svc.PageBySlug(e.Ctx, f.College.ID, draft.Slug); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("unpublished page by slug: %v", err)
	}
	v1, err := e.svc.Version(e.Ctx, f.College.ID)
	e.must(err)
	if v1 <= v0 {
		t.Fatalf("version did not move: %d → %d", v0, v1)
	}

	// Files: an image into a class's item is for that class's readers only.
	col := e.thread(f.Head, f.College.ID, "Vie du collège")
	it := e.publish(f.Head, col, "Photos de la sortie", news.Input{Target: news.Target{Classes: []string{f.Class.ID}}})
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	if _, err := e.svc.AddFile(e.Ctx, as(f.Pupil), "item", it.ID, "photo.png", bytes.NewReader(png)); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("pupil adding a file: %v", err)
	}
	file, err := e.svc.AddFile(e.Ctx, as(f.Head), "item", it.ID, "photo.png", bytes.NewReader(png))
	e.must(err)
	if file.ContentType != "image/png" {
		t.Fatalf("type %s", file.ContentType)
	}
	if _, err := e.svc.AddFile(e.Ctx, as(f.Head), "item", it.ID, "x.svg", strings.NewReader(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)); err == nil {
		t.Fatal("SVG accepted")
	}
	_, rc, err := e.svc.OpenFile(e.Ctx, as(f.Parent), file.ID)
	e.must(err)
	rc.Close()
	if _, _, err := e.svc.OpenFile(e.Ctx, as(f.OtherPupil), file.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("lycée pupil opening a class's image: %v", err)
	}
	if _, _, err := e.svc.OpenFile(e.Ctx, actor.Actor{}, file.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("visitor opening a class's image: %v", err)
	}
	pf, err := e.svc.AddFile(e.Ctx, as(f.Head), "page", p.ID, "plan.png", bytes.NewReader(png))
	e.must(err)
	_, rc, err = e.svc.OpenFile(e.Ctx, actor.Actor{}, pf.ID)
	e.must(err)
	rc.Close()
}
