package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// adminRoutes registers the administration console. Every page is behind a login and
// every change is a POST answered by a redirect and a flash; the services check the
// rights themselves, and the pages check that their reader administers what they show.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	h := func(pattern string, fn http.HandlerFunc) { mux.HandleFunc(pattern, s.requireLogin(fn)) }

	h("GET /admin", s.adminHome)
	h("POST /admin/structures", s.adminCreateStructure)
	h("POST /admin/super-administrateurs", s.adminGrantSuper)
	h("POST /admin/super-administrateurs/retirer", s.adminRevokeSuper)

	h("GET /admin/structures/{id}", s.adminStructure)
	h("POST /admin/structures/{id}", s.adminUpdateStructure)
	h("POST /admin/structures/{id}/groupes", s.adminCreateGroup)
	h("POST /admin/structures/{id}/matieres", s.adminCreateSubject)
	h("POST /admin/structures/{id}/roles", s.adminGrant)
	h("POST /admin/structures/{id}/roles/retirer", s.adminRevoke)

	h("GET /admin/structures/{id}/communication", s.adminComm)
	h("POST /admin/structures/{id}/communication/regles", s.adminAddRule)
	h("POST /admin/structures/{id}/communication/regles/retirer", s.adminRemoveRule)
	h("POST /admin/structures/{id}/communication/relations", s.adminSetRelation)

	h("GET /admin/structures/{id}/portail", s.adminPortal)
	h("POST /admin/structures/{id}/portail", s.adminSavePortal)
	h("POST /admin/portails/{id}/logo", s.adminPortalLogo)

	h("GET /admin/structures/{id}/applications", s.adminApps)
	h("POST /admin/structures/{id}/applications", s.adminSaveApps)

	h("GET /admin/groupes/{id}", s.adminGroup)
	h("POST /admin/groupes/{id}/membres", s.adminAddMember)
	h("POST /admin/groupes/{id}/membres/retirer", s.adminRemoveMember)
	h("POST /admin/groupes/{id}/enseignements", s.adminSetTeaching)

	h("GET /admin/personnes/nouvelle", s.adminNewPerson)
	h("POST /admin/personnes", s.adminCreatePerson)
	h("GET /admin/personnes/{id}", s.adminPerson)
	h("POST /admin/personnes/{id}", s.adminUpdatePerson)
	h("POST /admin/personnes/{id}/etat", s.adminSetState)
	h("POST /admin/personnes/{id}/deverrouillage", s.adminUnlock)
	h("POST /admin/personnes/{id}/activation", s.adminIssueActivation)
	h("POST /admin/personnes/{id}/liens", s.adminLink)
	h("POST /admin/personnes/{id}/liens/retirer", s.adminUnlink)
	h("POST /admin/personnes/{id}/fonctions", s.adminAddFunction)
	h("POST /admin/personnes/{id}/fonctions/retirer", s.adminRemoveFunction)
	h("POST /admin/personnes/{id}/structures", s.adminAttachStructure)

	h("GET /admin/structures/{id}/import-csv", s.adminCSV)
	h("POST /admin/structures/{id}/import-csv/apercu", s.adminCSVPreview)
	h("POST /admin/structures/{id}/import-csv/importer", s.adminCSVImport)

	h("GET /admin/structures/{id}/lettres", s.adminLetters)
	h("POST /admin/structures/{id}/lettres", s.adminPrintLetters)

	h("GET /admin/imports", s.adminImports)
	h("GET /admin/imports/{id}", s.adminImport)
	h("POST "+uploadPath, s.adminUpload)
	h("GET /admin/imports/taches/{id}", s.adminJob)
	h("GET /admin/imports/taches/{id}/etat", s.adminJobJSON)
	h("POST /admin/annee/cloture", s.adminCloseYear)

	h("GET /admin/connecteurs", s.adminConnectors)
	h("POST /admin/connecteurs", s.adminCreateConnector)
	h("GET /admin/connecteurs/{id}", s.adminConnector)
	h("POST /admin/connecteurs/{id}", s.adminUpdateConnector)
	h("POST /admin/connecteurs/{id}/supprimer", s.adminDeleteConnector)
	h("POST /admin/connecteurs/{id}/secret", s.adminConnectorSecret)
	h("GET /admin/structures/{id}/connecteurs", s.adminStructureConnectors)

	h("GET /admin/journal", s.adminJournal)
	h("GET /admin/courriels", s.adminMails)
	h("GET /admin/courriels/{name}", s.adminMail)
}

// adminNav is what the side navigation of the console needs.
type adminNav struct {
	Super     bool
	Structure *directory.Structure // the structure whose pages are open, if any
	Moderates bool                 // handles reported content somewhere
	Reports   int                  // reports waiting for them
}

// option is one choice of a select: a literal label, or a catalog key.
type option struct {
	Value, Label, Key string
}

func (s *Server) nav(r *http.Request, st *directory.Structure) (adminNav, error) {
	super, err := s.svc.Rights.IsSuperAdmin(r.Context(), actorOf(r))
	if err != nil {
		return adminNav{}, err
	}
	mod, reports, err := s.moderates(r)
	return adminNav{Super: super, Structure: st, Moderates: mod, Reports: len(reports)}, err
}

// mustAdminister checks that the actor administers the structure: the console's pages
// read directory data that only administrators may see as a whole.
func (s *Server) mustAdminister(r *http.Request, structureID string) error {
	ok, err := s.svc.Rights.CanAdminStructure(r.Context(), actorOf(r), structureID)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return nil
}

// administered loads a structure the actor administers, with the navigation of its pages.
func (s *Server) administered(r *http.Request, id string) (directory.Structure, adminNav, error) {
	if err := s.mustAdminister(r, id); err != nil {
		return directory.Structure{}, adminNav{}, err
	}
	st, err := s.svc.Directory.Structure(r.Context(), id)
	if err != nil {
		return st, adminNav{}, err
	}
	nav, err := s.nav(r, &st)
	return st, nav, err
}

// scopeStructures lists the structures the actor administers (all of them for a
// super administrator).
func (s *Server) scopeStructures(r *http.Request) ([]directory.Structure, error) {
	all, scope, err := s.svc.Rights.AdminScope(r.Context(), actorOf(r))
	if err != nil {
		return nil, err
	}
	if all {
		return s.svc.Directory.Structures(r.Context(), nil)
	}
	if len(scope) == 0 {
		return nil, actor.ErrForbidden
	}
	return s.svc.Directory.Structures(r.Context(), scope)
}

func structureOptions(list []directory.Structure, skip ...string) []option {
	var out []option
next:
	for _, st := range list {
		for _, id := range skip {
			if st.ID == id {
				continue next
			}
		}
		out = append(out, option{Value: st.ID, Label: st.Name})
	}
	return out
}

func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}

// invalidAs turns a service's *actor.InvalidError into the errors of one form of a
// page that holds several: the service's field is renamed through fields, or becomes
// fallback when it is not listed there.
func invalidAs(r *http.Request, err error, fields map[string]string, fallback string) (map[string]string, bool) {
	var inv *actor.InvalidError
	if !errors.As(err, &inv) {
		return nil, false
	}
	f, ok := fields[inv.Field]
	if !ok {
		f = fallback
	}
	return map[string]string{f: st(r).L.T(inv.Message)}, true
}

// done ends a change. Success: a flash and a redirect to the page. Bad input: the
// page again, with what was typed and the errors, status 400. Anything else: the
// error page (403 for a forbidden action).
func (s *Server) done(w http.ResponseWriter, r *http.Request, err error, flashKey, to string, fields map[string]string, fallback string, again func(Page)) {
	if err == nil {
		flash(w, flashKey)
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	errs, ok := invalidAs(r, err, fields, fallback)
	if !ok {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "", nil)
	p.Errors = errs
	p.Form = url.Values{}
	for k, v := range r.PostForm {
		p.Form[k] = v
	}
	again(p)
}

// same maps each field to itself, for forms whose fields bear the service's names.
func same(fields ...string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		m[f] = f
	}
	return m
}

// setDefault fills a form field that the request did not carry (the other forms of a
// page keep their current values when one form comes back with errors).
func setDefault(f url.Values, key, value string) {
	if !f.Has(key) {
		f.Set(key, value)
	}
}
