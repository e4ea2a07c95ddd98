// Package demo loads a realistic demo school community (a collège, a lycée and an
// école primaire under a Région and a Département) with documented logins, and
// generates large synthetic directories for benchmarks.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/messaging"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/portal"
	"github.com/preau-ent/preau/internal/rights"
)

// Password is the password of every documented demo login. It is printed by
// `preau demo` and in README.md: the demo is for trying Préau, never for production.
const Password = "Cartable-2026"

// Login is a documented demo account.
type Login struct {
	Login, Password, Who string
}

// Services are what the demo writes through.
type Services struct {
	Directory *directory.Service
	Accounts  *account.Service
	Rights    *rights.Service
	Portals   *portal.Service
	Notify    *notify.Service    // nil: no demo notifications
	Chat      *chat.Service      // optional: a few discussions among the documented logins
	Messaging *messaging.Service // nil: no demo messages
	News      *news.Service      // nil: no demo news nor public sites
	Blog      *blog.Service      // nil: no demo blog
}

// ErrAlreadyLoaded is returned when the demo schools exist already.
var ErrAlreadyLoaded = errors.New("les données de démonstration sont déjà chargées")

// UAIs of the demo schools; their portals answer at <uai>.<base host>.
const (
	UAICollege = "0690001A"
	UAILycee   = "0690002B"
	UAIEcole   = "0690003C"
)

type school struct {
	name, uai, kind, typ, city string
	classes                    []string
	subjects                   [][2]string
	pupilsPerClass             int
	teachers                   int
}

var schools = []school{
	{"Collège Jean Moulin", UAICollege, directory.KindEtablissement, directory.TypeCollege, "Villeurbanne",
		[]string{"6e A", "6e B", "5e A", "5e B", "4e A", "4e B", "3e A", "3e B"},
		[][2]string{{"MATHS", "Mathématiques"}, {"FRANC", "Français"}, {"HIGEO", "Histoire-géographie"}, {"ANGL", "Anglais"}, {"SVT", "Sciences de la vie et de la Terre"}, {"EPS", "Éducation physique et sportive"}},
		24, 14},
	{"Lycée Marie Curie", UAILycee, directory.KindEtablissement, directory.TypeLycee, "Lyon",
		[]string{"2de 1", "2de 2", "1re G1", "1re G2", "Tle G1", "Tle G2"},
		[][2]string{{"MATHS", "Mathématiques"}, {"PHYCH", "Physique-chimie"}, {"PHILO", "Philosophie"}, {"ANGL", "Anglais"}, {"SES", "Sciences économiques et sociales"}},
		28, 12},
	{"École élémentaire Les Tilleuls", UAIEcole, directory.KindEcole, directory.TypeEcole, "Villeurbanne",
		[]string{"CP", "CE1", "CE2", "CM1", "CM2"},
		nil, 22, 5},
}

// Load writes the demo community and returns the documented logins.
func Load(ctx context.Context, svc Services, baseHost string, seed uint64) ([]Login, error) {
	sys := actor.System("demo")
	dir := svc.Directory
	if _, err := dir.StructureByUAI(ctx, UAICollege); err == nil {
		return nil, ErrAlreadyLoaded
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	region, err := dir.CreateStructure(ctx, sys, directory.StructureInput{Kind: directory.KindRegion, Name: "Région Rhône-Demo", ExternalID: "DEMO-REGION"})
	if err != nil {
		return nil, err
	}
	dept, err := dir.CreateStructure(ctx, sys, directory.StructureInput{Kind: directory.KindDepartement, ParentID: region.ID, Name: "Département du Demo-Rhône", ExternalID: "DEMO-DEPT"})
	if err != nil {
		return nil, err
	}
	var logins []Login
	activate := func(p directory.Person, who string) error {
		if err := svc.Accounts.SetPassword(ctx, sys, p.ID, Password); err != nil {
			return fmt.Errorf("%s : %w", p.Login, err)
		}
		logins = append(logins, Login{Login: p.Login, Password: Password, Who: who})
		return nil
	}
	newPerson := func(first, last, profile string, sids ...string) (directory.Person, error) {
		return dir.CreatePerson(ctx, sys, directory.PersonInput{FirstName: first, LastName: last, Profile: profile, StructureIDs: sids})
	}
	randomName := func() (string, string) {
		return firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	}

	// The deployment's administrator, on the Région's staff.
	admin, err := newPerson("Administrateur", "Préau", directory.Personnel, region.ID)
	if err != nil {
		return nil, err
	}
	if err := svc.Rights.Grant(ctx, sys, admin.ID, rights.SuperAdmin, ""); err != nil {
		return nil, err
	}
	if err := activate(admin, "super administrateur du déploiement"); err != nil {
		return nil, err
	}
	if _, err := svc.Portals.Save(ctx, sys, "", portal.Input{Host: "region." + baseHost, Kind: portal.KindPartner, StructureID: region.ID, Name: "Région Rhône-Demo — ENT",
		ColorPrimary: "#5b2a86", ColorAccent: "#a3361b", PublicationDirector: "La présidente du conseil régional",
		LegalNotice: "Portail des partenaires de la Région Rhône-Demo (données de démonstration).", Contact: "ent@region.demo"}); err != nil {
		return nil, err
	}

	var sophie directory.Person // a parent with children in the collège and the école
	var seen demoCast           // who the demo notifications go to
	var paul, lea, collegeHead directory.Person
	var leaClass directory.Group
	var college directory.Structure
	for si, sc := range schools {
		st, err := dir.CreateStructure(ctx, sys, directory.StructureInput{Kind: sc.kind, ParentID: dept.ID, UAI: sc.uai, Name: sc.name, City: sc.city, Type: sc.typ, ExternalID: "DEMO-" + sc.uai})
		if err != nil {
			return nil, err
		}
		subjects := map[string]string{}
		for _, sub := range sc.subjects {
			s, err := dir.CreateSubject(ctx, sys, directory.Subject{StructureID: st.ID, Code: sub[0], Name: sub[1]})
			if err != nil {
				return nil, err
			}
			subjects[sub[0]] = s.ID
		}
		var classes []directory.Group
		for _, name := range sc.classes {
			g, err := dir.CreateGroup(ctx, sys, directory.GroupInput{StructureID: st.ID, Kind: directory.GroupClass, Name: name})
			if err != nil {
				return nil, err
			}
			classes = append(classes, g)
		}
		// Head of school: staff with the DIR function, local administrator.
		headFirst, headLast := []string{"Claire", "Olivier", "Nathalie"}[si], []string{"Bernard", "Lambert", "Fontaine"}[si]
		head, err := newPerson(headFirst, headLast, directory.Personnel, st.ID)
		if err != nil {
			return nil, err
		}
		if err := dir.SetFunction(ctx, sys, head.ID, directory.Function{StructureID: st.ID, Code: "DIR", Label: map[bool]string{true: "Directrice", false: "Chef d'établissement"}[si == 2]}, true); err != nil {
			return nil, err
		}
		if err := svc.Rights.Grant(ctx, sys, head.ID, rights.LocalAdmin, st.ID); err != nil {
			return nil, err
		}
		if err := activate(head, "direction et administration locale — "+sc.name); err != nil {
			return nil, err
		}
		if si == 0 {
			seen.head = head
			college, collegeHead = st, head
		}
		if sc.kind == directory.KindEtablissement {
			cpe, err := newPerson(randomFirst(rng), randomLast(rng), directory.Personnel, st.ID)
			if err != nil {
				return nil, err
			}
			if err := dir.SetFunction(ctx, sys, cpe.ID, directory.Function{StructureID: st.ID, Code: "EDU", Label: "Conseiller principal d'éducation"}, true); err != nil {
				return nil, err
			}
		}
		// Teachers: each teaches one subject in several classes (the école's teach their own class).
		for i := 0; i < sc.teachers; i++ {
			first, last := randomName()
			if si == 0 && i == 0 {
				first, last = "Paul", "Durand"
			}
			t, err := newPerson(first, last, directory.Enseignant, st.ID)
			if err != nil {
				return nil, err
			}
			if len(sc.subjects) == 0 {
				if err := dir.SetTeaching(ctx, sys, t.ID, classes[i%len(classes)].ID, ""); err != nil {
					return nil, err
				}
			} else {
				sub := sc.subjects[i%len(sc.subjects)][0]
				for ci := i % 2; ci < len(classes); ci += 2 {
					if err := dir.SetTeaching(ctx, sys, t.ID, classes[ci].ID, subjects[sub]); err != nil {
						return nil, err
					}
				}
			}
			if si == 0 && i == 0 {
				if err := activate(t, "enseignant de mathématiques — "+sc.name); err != nil {
					return nil, err
				}
				seen.teacher = t
				paul = t
			}
		}
		// Pupils with one or two responsables.
		for ci, c := range classes {
			for k := 0; k < sc.pupilsPerClass; k++ {
				first, last := randomName()
				demoPupil := k == 0 && ((si == 0 && ci == 4) || (si == 2 && ci == 3))
				if demoPupil {
					first, last = map[int]string{0: "Léa", 2: "Jules"}[si], "Martin"
				}
				p, err := newPerson(first, last, directory.Eleve, st.ID)
				if err != nil {
					return nil, err
				}
				if err := dir.AddMember(ctx, sys, c.ID, p.ID); err != nil {
					return nil, err
				}
				if demoPupil && si == 0 {
					if err := activate(p, "élève de "+c.Name+" — "+sc.name); err != nil {
						return nil, err
					}
					seen.pupil, seen.class, seen.college = p, c, st.ID
					lea, leaClass = p, c
				}
				parents := 1 + rng.IntN(2)
				for n := 0; n < parents; n++ {
					var parent directory.Person
					if demoPupil && n == 0 {
						if sophie.ID == "" {
							if sophie, err = newPerson("Sophie", "Martin", directory.Responsable, st.ID); err != nil {
								return nil, err
							}
							if err := activate(sophie, "responsable légale de Léa (collège) et de Jules (école)"); err != nil {
								return nil, err
							}
						}
						parent = sophie
					} else {
						pf := randomFirst(rng)
						pl := last
						if n == 1 && rng.IntN(3) == 0 {
							pl = randomLast(rng)
						}
						if parent, err = newPerson(pf, pl, directory.Responsable, st.ID); err != nil {
							return nil, err
						}
					}
					if err := dir.LinkParent(ctx, sys, parent.ID, p.ID); err != nil {
						return nil, err
					}
				}
			}
		}
		if _, err := svc.Portals.Save(ctx, sys, "", portal.Input{Host: strings.ToLower(sc.uai) + "." + baseHost, Kind: portal.KindEtablissement, StructureID: st.ID, Name: sc.name,
			ColorPrimary: []string{"#1f4e8c", "#0b6b5d", "#8a3b12"}[si], ColorAccent: "#b3441e",
			PublicationDirector: head.DisplayName() + map[bool]string{true: ", directrice de l'école", false: ", chef d'établissement"}[si == 2],
			LegalNotice:         "Portail de l'établissement " + sc.name + " (données de démonstration).", Contact: "Secrétariat — " + sc.city}); err != nil {
			return nil, err
		}
	}
	seen.parent = sophie
	if err := seen.notifications(ctx, svc.Notify); err != nil {
		return nil, err
	}
	if svc.Chat != nil {
		if err := loadChat(ctx, svc.Chat, paul, lea, sophie, leaClass); err != nil {
			return nil, fmt.Errorf("discussions de démonstration : %w", err)
		}
	}
	if svc.Messaging != nil {
		if err := demoMessages(ctx, svc.Messaging, paul, sophie, lea, collegeHead); err != nil {
			return nil, fmt.Errorf("messages de démonstration : %w", err)
		}
	}
	if svc.News != nil {
		if err := demoNews(ctx, svc.News, sys, region, dept, college, collegeHead); err != nil {
			return nil, err
		}
	}
	if err := seen.blog(ctx, dir, svc.Blog); err != nil {
		return nil, err
	}
	return logins, nil
}

// demoMessages fills a few mailboxes so that the demo shows a living messagerie:
// the teacher writes to the parents of 4e A (a group), Sophie Martin answers, the
// head writes to the teachers, Léa asks her teacher a question.
func demoMessages(ctx context.Context, m *messaging.Service, paul, sophie, lea, head directory.Person) error {
	who := func(p directory.Person) actor.Actor {
		return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
	}
	group := func(from directory.Person, name string) (messaging.Recipient, error) {
		groups, err := m.GroupChoices(ctx, who(from))
		if err != nil {
			return messaging.Recipient{}, err
		}
		for _, g := range groups {
			if g.Name == name {
				return g, nil
			}
		}
		return messaging.Recipient{}, fmt.Errorf("groupe %q introuvable", name)
	}
	send := func(from directory.Person, d messaging.Draft) (string, error) {
		id, err := m.SaveDraft(ctx, who(from), d)
		if err != nil {
			return "", err
		}
		res, err := m.Send(ctx, who(from), id)
		return res.ID, err
	}
	parents, err := group(paul, "Responsables — 4e A")
	if err != nil {
		return err
	}
	outing, err := send(paul, messaging.Draft{To: []messaging.Recipient{parents}, Subject: "Sortie au musée des Confluences jeudi 4 décembre",
		Body: "Bonjour,\n\nLa classe de 4e A visitera le musée des Confluences le jeudi 4 décembre, de 9 h à 16 h. " +
			"Merci de remplir et de signer l'autorisation de sortie avant lundi, et de prévoir un pique-nique.\n\nBien cordialement,\nPaul Durand, professeur de mathématiques"})
	if err != nil {
		return err
	}
	if _, err := m.Message(ctx, who(sophie), outing, true); err != nil {
		return err
	}
	reply, err := m.Reply(ctx, who(sophie), outing, false)
	if err != nil {
		return err
	}
	d, err := m.Draft(ctx, who(sophie), reply)
	if err != nil {
		return err
	}
	d.Body = "Bonjour Monsieur Durand,\n\nL'autorisation de Léa est signée, elle vous la remettra demain. Léa a une allergie aux fruits à coque : le pique-nique sera prévu en conséquence.\n\nSophie Martin" + d.Body
	if _, err := m.SaveDraft(ctx, who(sophie), d); err != nil {
		return err
	}
	if _, err := m.Send(ctx, who(sophie), reply); err != nil {
		return err
	}
	teachers, err := group(head, "Enseignants — Collège Jean Moulin")
	if err != nil {
		return err
	}
	if _, err := send(head, messaging.Draft{To: []messaging.Recipient{teachers}, Subject: "Conseils de classe du premier trimestre",
		Body: "Bonjour à toutes et à tous,\n\nLes conseils de classe du premier trimestre auront lieu du 8 au 12 décembre. " +
			"Le calendrier détaillé est affiché en salle des professeurs. Merci de saisir vos appréciations au plus tard la veille.\n\nClaire Bernard, principale"}); err != nil {
		return err
	}
	_, err = send(lea, messaging.Draft{To: []messaging.Recipient{{Kind: messaging.KindPerson, ID: paul.ID}}, Subject: "Question sur l'exercice 12",
		Body: "Bonjour Monsieur,\n\nDans l'exercice 12 page 87, faut-il arrondir les résultats au dixième ou au centième ?\n\nMerci,\nLéa"})
	return err
}

func randomFirst(rng *rand.Rand) string { return firstNames[rng.IntN(len(firstNames))] }
func randomLast(rng *rand.Rand) string  { return lastNames[rng.IntN(len(lastNames))] }
