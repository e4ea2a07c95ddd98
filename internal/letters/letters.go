// Package letters prints the activation letters a head of school hands out at the
// start of the year: one page per person, grouped by class, for each pupil and each
// of their responsables, with the login and a new activation code.
package letters

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

// Whom the letters are for.
const (
	ForPupils       = "eleves"
	ForResponsables = "responsables"
	ForBoth         = "tous"
)

// Letter is one page.
type Letter struct {
	Name      string // Prénom NOM of the account holder
	Profile   string
	Login     string
	Code      string
	ClassName string
	Children  []string // a responsable's children in the class, "Prénom NOM"
}

// Service issues the codes and prints the letters.
type Service struct {
	db       *db.DB
	dir      *directory.Service
	accounts *account.Service
	rights   *rights.Service
}

// New returns the letters service.
func New(d *db.DB, dir *directory.Service, acc *account.Service, rs *rights.Service) *Service {
	return &Service{db: d, dir: dir, accounts: acc, rights: rs}
}

// Prepare issues a new activation code to every account of a structure's classes
// (one class when classID is set) that is not activated yet, for pupils,
// responsables or both, and returns the letters by class then name. Accounts
// already in use are left alone: a letter would reset their password. A
// responsable of pupils of several classes gets one letter, with the first class.
func (s *Service) Prepare(ctx context.Context, a actor.Actor, structureID, classID, forWhom string) ([]Letter, error) {
	ok, err := s.rights.CanAdminStructure(ctx, a, structureID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, actor.ErrForbidden
	}
	if forWhom != ForPupils && forWhom != ForResponsables && forWhom != ForBoth {
		return nil, actor.Invalid("pour", "letters.bad_choice")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT g.name, c.id, c.first_name, c.last_name, c.login, c.state, COALESCE(r.id, ''),
		COALESCE(r.first_name, ''), COALESCE(r.last_name, ''), COALESCE(r.login, ''), COALESCE(r.state, '')
		FROM groups g JOIN group_members m ON m.group_id = g.id AND m.source = 'direct'
		JOIN persons c ON c.id = m.person_id AND c.profile = 'Eleve'
		LEFT JOIN person_links l ON l.child_id = c.id LEFT JOIN persons r ON r.id = l.parent_id
		WHERE g.structure_id = $1 AND g.kind = 'class' AND NOT g.archived AND ($2 = '' OR g.id = $2)
		ORDER BY g.name, c.last_key, c.first_key, r.last_key, r.first_key`, structureID, classID)
	if err != nil {
		return nil, err
	}
	type person struct{ id, first, last, login, state string }
	type line struct {
		class       string
		child, resp person
		withResp    bool
	}
	var lines []line
	for rows.Next() {
		var l line
		if err := rows.Scan(&l.class, &l.child.id, &l.child.first, &l.child.last, &l.child.login, &l.child.state,
			&l.resp.id, &l.resp.first, &l.resp.last, &l.resp.login, &l.resp.state); err != nil {
			rows.Close()
			return nil, err
		}
		l.withResp = l.resp.id != ""
		lines = append(lines, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	display := func(p person) string {
		return directory.Person{FirstName: p.first, LastName: p.last}.DisplayName()
	}
	var out []Letter
	done := map[string]int{} // person id → index in out
	issue := func(p person, profile, class string) (int, error) {
		if i, ok := done[p.id]; ok {
			return i, nil
		}
		if p.state != directory.StatePending {
			done[p.id] = -1
			return -1, nil
		}
		code, err := s.accounts.IssueActivation(ctx, a, p.id)
		if err != nil {
			return -1, err
		}
		out = append(out, Letter{Name: display(p), Profile: profile, Login: p.login, Code: formatCode(code), ClassName: class})
		done[p.id] = len(out) - 1
		return len(out) - 1, nil
	}
	for _, l := range lines {
		if forWhom != ForResponsables {
			if _, err := issue(l.child, directory.Eleve, l.class); err != nil {
				return nil, err
			}
		}
		if forWhom != ForPupils && l.withResp {
			i, err := issue(l.resp, directory.Responsable, l.class)
			if err != nil {
				return nil, err
			}
			if i >= 0 && !contains(out[i].Children, display(l.child)) {
				out[i].Children = append(out[i].Children, display(l.child))
			}
		}
	}
	// Pages by class, then pupils before responsables, then name: the order a
	// teacher hands them out in.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ClassName != out[j].ClassName {
			return out[i].ClassName < out[j].ClassName
		}
		if out[i].Profile != out[j].Profile {
			return out[i].Profile == directory.Eleve
		}
		return false
	})
	return out, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// formatCode cuts a code in groups of four, easier to copy: the activation form
// ignores the dash.
func formatCode(c string) string {
	if len(c) == 8 {
		return c[:4] + "-" + c[4:]
	}
	return c
}

// Page is what every letter of a batch shares.
type Page struct {
	Deployment string    // the ENT's name
	School     string    // the structure's name
	PortalURL  string    // where to activate
	ValidUntil time.Time // the codes' expiry
}

// Render writes the letters as a PDF, one A4 page each. The core PDF fonts use the
// Windows-1252 encoding, which holds every letter of French (é, œ, ç, Ÿ...); other
// characters lose their accents rather than print as garbage.
func Render(w io.Writer, letters []Letter, pg Page, compress bool) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(compress)
	pdf.SetTitle("Lettres d'activation", true)
	pdf.SetAuthor(pg.Deployment, true)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(false, 20)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	t := func(s string) string { return tr(cp1252Safe(s)) }
	for _, l := range letters {
		pdf.AddPage()
		pdf.SetFont("Helvetica", "", 10)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(0, 6, t(pg.School), "", 1, "L", false, 0, "")
		pdf.CellFormat(0, 6, t("Classe : "+l.ClassName), "", 1, "L", false, 0, "")
		pdf.Ln(10)
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFont("Helvetica", "B", 18)
		pdf.MultiCell(0, 9, t("Votre compte "+pg.Deployment), "", "L", false)
		pdf.Ln(4)
		pdf.SetFont("Helvetica", "", 12)
		who := l.Name
		if l.Profile == directory.Responsable {
			pdf.MultiCell(0, 7, t("Madame, Monsieur "+l.Name+","), "", "L", false)
			pdf.MultiCell(0, 7, t("responsable de "+strings.Join(l.Children, ", ")+" ("+l.ClassName+")"), "", "L", false)
		} else {
			pdf.MultiCell(0, 7, t(who+", élève de "+l.ClassName), "", "L", false)
		}
		pdf.Ln(4)
		pdf.MultiCell(0, 7, t("Voici de quoi ouvrir votre compte personnel sur l'espace numérique de travail de l'établissement. "+
			"Gardez cette lettre pour vous : elle donne accès à votre compte."), "", "L", false)
		pdf.Ln(8)
		box := func(label, value string) {
			pdf.SetFont("Helvetica", "", 12)
			pdf.CellFormat(60, 12, t(label), "1", 0, "L", false, 0, "")
			pdf.SetFont("Courier", "B", 16)
			pdf.CellFormat(0, 12, t(value), "1", 1, "L", false, 0, "")
		}
		box("Identifiant", l.Login)
		box("Code d'activation", l.Code)
		pdf.Ln(10)
		pdf.SetFont("Helvetica", "B", 12)
		pdf.CellFormat(0, 7, t("Pour activer votre compte"), "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 12)
		for i, step := range []string{
			"Allez sur " + pg.PortalURL + " et choisissez « Première connexion ».",
			"Saisissez votre identifiant et le code d'activation ci-dessus.",
			"Choisissez votre mot de passe. Vous vous connecterez ensuite avec votre identifiant et ce mot de passe.",
		} {
			pdf.MultiCell(0, 7, t(fmt.Sprintf("%d. %s", i+1, step)), "", "L", false)
		}
		pdf.Ln(6)
		pdf.SetFont("Helvetica", "I", 10)
		pdf.MultiCell(0, 6, t("Ce code ne sert qu'une fois et expire le "+pg.ValidUntil.Format("02/01/2006")+
			". Perdu ou expiré, demandez-en un nouveau à l'établissement."), "", "L", false)
	}
	if len(letters) == 0 {
		pdf.AddPage()
		pdf.SetFont("Helvetica", "", 12)
		pdf.MultiCell(0, 7, t("Aucun compte à activer : toutes les personnes choisies ont déjà activé le leur."), "", "L", false)
	}
	return pdf.Output(w)
}

var stroked = map[rune]rune{'Ł': 'L', 'ł': 'l', 'Đ': 'D', 'đ': 'd', 'Ħ': 'H', 'ħ': 'h', 'ı': 'i', 'Ŧ': 'T', 'ŧ': 't'}

// cp1252Safe replaces what Windows-1252 cannot print by its letter without accent
// (ł stays, ő becomes o) or a question mark.
func cp1252Safe(s string) string {
	ok := func(r rune) bool {
		return r < 0x80 || (r >= 0xa0 && r <= 0xff) || strings.ContainsRune("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ", r)
	}
	var sb strings.Builder
	strip := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	for _, r := range s {
		if ok(r) {
			sb.WriteRune(r)
			continue
		}
		// Letters with a stroke do not decompose: they get their base letter.
		if base, ok := stroked[r]; ok {
			r = base
		}
		plain, _, _ := transform.String(strip, string(r))
		for _, p := range plain {
			if ok(p) {
				sb.WriteRune(p)
			} else {
				sb.WriteByte('?')
			}
		}
	}
	return sb.String()
}
