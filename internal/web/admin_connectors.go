package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
)

// The console's connected services: the deployment's (super administrators) at
// /admin/connecteurs, a structure's (its local administrators) under the structure.
// The connector service checks the rights; these pages only choose what to show.

type adminConnectorsData struct {
	Nav        adminNav
	Structure  *directory.Structure // nil: the deployment's connectors
	List       []connector.Connector
	Editing    *connector.Connector // the edit page
	Choices    connectorChoices
	ListAction string // where the page lives, to come back to
	CASServer  string // the CAS server's address, for the service's administrator
	SAMLIdP    string // the SAML identity provider's metadata address
	Issuer     string // the OpenID Connect issuer, for an OIDC client's administrator
	NewSecret  string // an OIDC client's secret, shown once just after it is made
}

// connectorChoices are the options of the connector form.
type connectorChoices struct {
	ProtocolOptions, IconOptions []option
	Profiles, Attributes         []string
	Structures                   []option // deployment connectors only
}

func (s *Server) connectorChoices(r *http.Request, deployment bool) (connectorChoices, error) {
	c := connectorChoices{Profiles: directory.Profiles, Attributes: connector.AttributeNames}
	for _, p := range connector.Protocols {
		c.ProtocolOptions = append(c.ProtocolOptions, option{Value: p, Key: "connector.protocol." + p})
	}
	for _, i := range connector.Icons {
		c.IconOptions = append(c.IconOptions, option{Value: i, Key: "connector.icon." + i})
	}
	if deployment {
		list, err := s.svc.Directory.Structures(r.Context(), nil)
		if err != nil {
			return c, err
		}
		c.Structures = structureOptions(list)
	}
	return c, nil
}

func connectorInput(f url.Values) connector.Input {
	return connector.Input{StructureID: f.Get("structure"), Name: f.Get("name"), Icon: f.Get("icon"), URL: f.Get("url"), Protocol: f.Get("protocol"),
		Profiles: f["profiles"], Structures: f["structures"], Attributes: f["attributes"], SingleLogout: f.Get("single_logout") == "oui",
		RedirectURIs: strings.Fields(f.Get("redirect_uris")), Consent: f.Get("consent") == "oui",
		SAMLSettings: connector.SAMLSettings{EntityID: f.Get("entity_id"), ACSURLs: strings.Fields(f.Get("acs_urls")), SLOURL: f.Get("slo_url"),
			SPCert: f.Get("sp_cert"), GAR: f.Get("gar") == "oui"}}
}

// connectorForm gives a connector's values to the form of the edit page.
func connectorForm(c connector.Connector) url.Values {
	f := url.Values{"structure": {c.StructureID}, "name": {c.Name}, "icon": {c.Icon}, "url": {c.URL}, "protocol": {c.Protocol},
		"profiles": c.Profiles, "structures": c.Structures, "attributes": c.Attributes, "redirect_uris": {strings.Join(c.RedirectURIs, "\n")},
		"entity_id": {c.EntityID}, "acs_urls": {strings.Join(c.ACSURLs, "\n")}, "slo_url": {c.SLOURL}, "sp_cert": {c.SPCert}}
	if c.GAR {
		f.Set("gar", "oui")
	}
	if c.SingleLogout {
		f.Set("single_logout", "oui")
	}
	if c.Consent {
		f.Set("consent", "oui")
	}
	return f
}

// connectorsPage renders the list of one level with its creation form.
func (s *Server) connectorsPage(w http.ResponseWriter, r *http.Request, structureID string, status int, p Page) {
	ctx := r.Context()
	list, err := s.svc.Connectors.List(ctx, actorOf(r), structureID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminConnectorsData{List: list, ListAction: "/admin/connecteurs"}
	if structureID != "" {
		st, nav, err := s.administered(r, structureID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Nav, d.Structure, d.ListAction = nav, &st, "/admin/structures/"+st.ID+"/connecteurs"
	} else if d.Nav, err = s.nav(r, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Choices, err = s.connectorChoices(r, structureID == ""); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Title = p.L.T("admin.connectors.title")
	p.Data = d
	setDefault(p.Form, "structure", structureID)
	setDefault(p.Form, "icon", "connecteur")
	setDefault(p.Form, "protocol", connector.CAS)
	if !p.Form.Has("name") {
		p.Form["attributes"] = []string{"uid"}
		p.Form.Set("single_logout", "oui")
	}
	s.render(w, r, status, "admin_connectors", p)
}

func (s *Server) adminConnectors(w http.ResponseWriter, r *http.Request) {
	s.connectorsPage(w, r, "", http.StatusOK, s.page(r, "", nil))
}

func (s *Server) adminStructureConnectors(w http.ResponseWriter, r *http.Request) {
	s.connectorsPage(w, r, r.PathValue("id"), http.StatusOK, s.page(r, "", nil))
}

var connectorFields = same("name", "icon", "url", "protocol", "profiles", "structures", "attributes", "redirect_uris",
	"entity_id", "acs_urls", "slo_url", "sp_cert", "gar")

func (s *Server) adminCreateConnector(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	in := connectorInput(r.PostForm)
	c, err := s.svc.Connectors.Create(r.Context(), actorOf(r), in)
	s.done(w, r, err, "admin.connectors.created", "/admin/connecteurs/"+c.ID, connectorFields, "name", func(p Page) {
		s.connectorsPage(w, r, in.StructureID, http.StatusBadRequest, p)
	})
}

func (s *Server) connectorPage(w http.ResponseWriter, r *http.Request, c connector.Connector, status int, p Page) {
	s.connectorPageWith(w, r, c, status, p, "")
}

func (s *Server) connectorPageWith(w http.ResponseWriter, r *http.Request, c connector.Connector, status int, p Page, secret string) {
	d := adminConnectorsData{Editing: &c, ListAction: "/admin/connecteurs", NewSecret: secret}
	var err error
	if c.StructureID != "" {
		st, nav, err := s.administered(r, c.StructureID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Nav, d.Structure, d.ListAction = nav, &st, "/admin/structures/"+st.ID+"/connecteurs"
	} else if d.Nav, err = s.nav(r, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Choices, err = s.connectorChoices(r, c.StructureID == ""); err != nil {
		s.fail(w, r, err)
		return
	}
	d.CASServer, d.Issuer, d.SAMLIdP = s.baseURL(r)+"/cas", s.baseURL(r), s.baseURL(r)+"/saml/metadata"
	p.Title = c.Name
	p.Data = d
	s.render(w, r, status, "admin_connector", p)
}

func (s *Server) adminConnector(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.Connectors.Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "", nil)
	p.Form = connectorForm(c)
	s.connectorPage(w, r, c, http.StatusOK, p)
}

func (s *Server) adminUpdateConnector(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	c, err := s.svc.Connectors.Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, err = s.svc.Connectors.Update(r.Context(), actorOf(r), c.ID, connectorInput(r.PostForm))
	s.done(w, r, err, "admin.connectors.saved", "/admin/connecteurs/"+c.ID, connectorFields, "name", func(p Page) {
		s.connectorPage(w, r, c, http.StatusBadRequest, p)
	})
}

func (s *Server) adminDeleteConnector(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.Connectors.Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.svc.Connectors.Delete(r.Context(), actorOf(r), c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	to := "/admin/connecteurs"
	if c.StructureID != "" {
		to = "/admin/structures/" + c.StructureID + "/connecteurs"
	}
	flash(w, "admin.connectors.deleted")
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// baseURL is the address of this portal as the browser reached it (https when
// cookies are secure, that is behind TLS).
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if s.opt.SecureCookies || r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// adminConnectorSecret makes a new secret for an OpenID Connect client and shows it,
// once, on the connector's page.
func (s *Server) adminConnectorSecret(w http.ResponseWriter, r *http.Request) {
	secret, err := s.svc.Connectors.NewClientSecret(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.svc.Connectors.Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "", nil)
	p.Form = connectorForm(c)
	s.connectorPageWith(w, r, c, http.StatusOK, p, secret)
}
