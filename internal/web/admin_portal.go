package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/portal"
)

// maxLogo is the largest logo the portal service accepts.
const maxLogo = 512 << 10

// Colours of a portal that has none yet (those of the default portal).
const (
	defaultPrimary = "#1f4e8c"
	defaultAccent  = "#b3441e"
)

type adminPortalData struct {
	Nav         adminNav
	Structure   directory.Structure
	Portal      portal.Portal
	Exists      bool
	Super       bool
	DefaultHost string
	KindOptions []option
	// Values of the colour pickers, which only take valid colours.
	PickerPrimary, PickerAccent string
}

func (s *Server) adminPortal(w http.ResponseWriter, r *http.Request) {
	s.portalPage(w, r, r.PathValue("id"), http.StatusOK, s.page(r, "", nil))
}

// portalPage shows the structure's portal. A structure without one is served at
// "<uai>.<base host>" with the default look until a super administrator creates it.
func (s *Server) portalPage(w http.ResponseWriter, r *http.Request, id string, status int, p Page) {
	st, nav, err := s.administered(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminPortalData{Nav: nav, Structure: st, Super: nav.Super,
		KindOptions: []option{{Value: portal.KindEtablissement, Key: "admin.portal.kind.etablissement"}, {Value: portal.KindPartner, Key: "admin.portal.kind.partner"}}}
	if st.UAI != "" {
		d.DefaultHost = strings.ToLower(st.UAI) + "." + s.svc.Portals.BaseHost()
	}
	d.Portal, err = s.svc.Portals.ForStructure(r.Context(), id)
	switch {
	case err == nil:
		d.Exists = true
	case errors.Is(err, actor.ErrNotFound):
		kind := portal.KindEtablissement
		if !directory.IsSchool(st.Kind) {
			kind = portal.KindPartner
		}
		d.Portal = portal.Portal{Host: d.DefaultHost, Kind: kind, Name: st.Name, ColorPrimary: defaultPrimary, ColorAccent: defaultAccent}
	default:
		s.fail(w, r, err)
		return
	}
	pt := d.Portal
	for k, v := range map[string]string{"host": pt.Host, "kind": pt.Kind, "name": pt.Name, "color_primary": pt.ColorPrimary, "color_accent": pt.ColorAccent,
		"publication_director": pt.PublicationDirector, "contact": pt.Contact, "legal_notice": pt.LegalNotice} {
		setDefault(p.Form, k, v)
	}
	d.PickerPrimary = validColor(p.Form.Get("color_primary"), pt.ColorPrimary)
	d.PickerAccent = validColor(p.Form.Get("color_accent"), pt.ColorAccent)
	p.Title = p.L.T("admin.portal.title")
	p.Path = "/admin/structures/" + id + "/portail"
	p.Data = d
	s.render(w, r, status, "admin_portal", p)
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func validColor(v, fallback string) string {
	if colorRE.MatchString(v) {
		return strings.ToLower(v)
	}
	return fallback
}

// pickColor reads a colour given twice, by a colour picker and a text field: without
// script they cannot follow each other, so the text wins when it was changed from
// what the page showed, the picker otherwise.
func pickColor(text, picker, shown string) string {
	text = strings.TrimSpace(text)
	if !strings.EqualFold(text, shown) || picker == "" {
		return text
	}
	return picker
}

// shown is the colour the page showed in a text field (it may be a refused one the
// page gave back), or else the stored one.
func shown(f url.Values, field, stored string) string {
	if f.Has(field + "_was") {
		return f.Get(field + "_was")
	}
	return stored
}

func (s *Server) adminSavePortal(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	ctx, a, sid := r.Context(), actorOf(r), r.PathValue("id")
	_, nav, err := s.administered(r, sid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	old, err := s.svc.Portals.ForStructure(ctx, sid)
	if err != nil && !errors.Is(err, actor.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	exists := err == nil
	if !exists && !nav.Super {
		s.fail(w, r, actor.ErrForbidden)
		return
	}
	if !exists {
		old = portal.Portal{ColorPrimary: defaultPrimary, ColorAccent: defaultAccent}
	}
	in := portal.Input{StructureID: sid, Host: old.Host, Kind: old.Kind, Name: f.Get("name"),
		ColorPrimary:        pickColor(f.Get("color_primary"), f.Get("color_primary_picker"), shown(f, "color_primary", old.ColorPrimary)),
		ColorAccent:         pickColor(f.Get("color_accent"), f.Get("color_accent_picker"), shown(f, "color_accent", old.ColorAccent)),
		PublicationDirector: strings.TrimSpace(f.Get("publication_director")), Contact: strings.TrimSpace(f.Get("contact")), LegalNotice: strings.TrimSpace(f.Get("legal_notice"))}
	if nav.Super {
		in.Host, in.Kind = f.Get("host"), f.Get("kind")
	}
	r.PostForm.Set("color_primary", in.ColorPrimary)
	r.PostForm.Set("color_accent", in.ColorAccent)
	_, err = s.svc.Portals.Save(ctx, a, old.ID, in)
	key := "admin.portal.saved"
	if !exists {
		key = "admin.portal.created"
	}
	s.done(w, r, err, key, "/admin/structures/"+sid+"/portail",
		same("host", "kind", "name", "color_primary", "color_accent", "publication_director", "contact", "legal_notice"), "name",
		func(p Page) { s.portalPage(w, r, sid, http.StatusBadRequest, p) })
}

// adminPortalLogo stores an uploaded logo. The type is read from the bytes, not from
// what the browser claims.
func (s *Server) adminPortalLogo(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	pt, err := s.svc.Portals.Get(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if pt.StructureID == "" {
		// The default portal has no page in the console yet.
		s.fail(w, r, actor.ErrForbidden)
		return
	}
	if err := s.mustAdminister(r, pt.StructureID); err != nil {
		s.fail(w, r, err)
		return
	}
	data, err := readLogo(r)
	if err == nil {
		err = s.svc.Portals.SetLogo(ctx, a, pt.ID, data, http.DetectContentType(data))
	}
	r.PostForm = nil // nothing typed to give back: the form is a file
	s.done(w, r, err, "admin.portal.logo_saved", "/admin/structures/"+pt.StructureID+"/portail#logo", nil, "logo",
		func(p Page) { s.portalPage(w, r, pt.StructureID, http.StatusBadRequest, p) })
}

func readLogo(r *http.Request) ([]byte, error) {
	file, _, err := r.FormFile("logo")
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, actor.Invalid("logo", "portal.logo_too_big")
	case errors.Is(err, http.ErrMissingFile), errors.Is(err, http.ErrNotMultipart):
		return nil, actor.Invalid("logo", "admin.portal.logo_required")
	case err != nil:
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxLogo+1))
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, actor.Invalid("logo", "admin.portal.logo_required")
	}
	return data, nil
}
