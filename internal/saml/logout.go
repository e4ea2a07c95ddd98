package saml

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/platform/audit"
)

// Single logout. A service provider's LogoutRequest ends the Préau session it names
// (the web layer ends it everywhere); when a Préau session ends, every service
// provider that opened a session in it and registered a logout address receives a
// signed LogoutRequest, server to server (like CAS single logout), so that a person
// who logs out of Préau is out of every service even with the browser closed.

// LogoutOutcome is what a received logout message asks of the web layer.
type LogoutOutcome struct {
	// Sessions are the Préau sessions to end (a LogoutRequest); PersonID owns them.
	Sessions []string
	PersonID string
	// Redirect is where the browser goes next: the service provider's logout address
	// with the signed LogoutResponse, or "" (Préau's own page).
	Redirect string
}

// ReceiveLogout handles a LogoutRequest or a LogoutResponse from a service provider.
func (s *Service) ReceiveLogout(ctx context.Context, in Incoming) (LogoutOutcome, error) {
	out, c, err := s.receiveLogout(ctx, in)
	var rf *Refusal
	if errors.As(err, &rf) {
		s.logRefusal(ctx, in, "sso.saml.logout", c, rf.Reason)
	}
	return out, err
}

func (s *Service) receiveLogout(ctx context.Context, in Incoming) (LogoutOutcome, connector.Connector, error) {
	var out LogoutOutcome
	m, err := decode(in)
	if err != nil {
		return out, connector.Connector{}, err
	}
	if m.name != "LogoutRequest" && m.name != "LogoutResponse" {
		return out, connector.Connector{}, refuse("malformed")
	}
	c, err := s.sender(ctx, m, in)
	if err != nil {
		return out, c, err
	}
	if m.name == "LogoutResponse" {
		// The answer to a logout Préau asked for: nothing more to do.
		s.audit.Write(ctx, s.entry("", "", in.IP, "sso.saml.logout", c, true, map[string]string{"message": "LogoutResponse"}))
		return out, c, nil
	}
	var indexes []string
	var nameID string
	for _, el := range m.root.ChildElements() {
		switch {
		case el.Tag == "SessionIndex" && el.NamespaceURI() == nsProtocol:
			indexes = append(indexes, strings.TrimSpace(el.Text()))
		case el.Tag == "NameID" && el.NamespaceURI() == nsAssertion:
			nameID = strings.TrimSpace(el.Text())
		}
	}
	if nameID == "" {
		return out, c, refuse("malformed")
	}
	// The sessions this service provider has for that name (and those indexes).
	rows, err := s.db.QueryContext(ctx, `SELECT session_index, session_id, person_id FROM saml_sessions WHERE connector_id=$1 AND name_id=$2`, c.ID, nameID)
	if err != nil {
		return out, c, err
	}
	var spent []string
	for rows.Next() {
		var index, session, person string
		if err := rows.Scan(&index, &session, &person); err != nil {
			rows.Close()
			return out, c, err
		}
		if len(indexes) > 0 && !contains(indexes, index) {
			continue
		}
		spent = append(spent, index)
		if !contains(out.Sessions, session) {
			out.Sessions = append(out.Sessions, session)
		}
		out.PersonID = person
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, c, err
	}
	// The requesting service provider is out already: it is not told again.
	for _, index := range spent {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM saml_sessions WHERE session_index=$1`, index); err != nil {
			return out, c, err
		}
	}
	s.audit.Write(ctx, s.entry(out.PersonID, "", in.IP, "sso.saml.logout", c, true, map[string]string{"message": "LogoutRequest", "sessions": itoa(len(out.Sessions))}))
	if c.SLOURL == "" {
		return out, c, nil
	}
	key, cert, err := s.signingKey(ctx)
	if err != nil {
		return out, c, err
	}
	resp := protocolElement("LogoutResponse", c.SLOURL, m.id, EntityID(in.Base), s.cfg.Now())
	addStatus(resp, statusSuccess)
	if err := sign(resp, key, cert); err != nil {
		return out, c, err
	}
	xml, err := serialize(resp)
	if err != nil {
		return out, c, err
	}
	q, err := signQuery("SAMLResponse", xml, in.RelayState, key)
	if err != nil {
		return out, c, err
	}
	sep := "?"
	if strings.Contains(c.SLOURL, "?") {
		sep = "&"
	}
	out.Redirect = c.SLOURL + sep + q
	return out, c, nil
}

// EndSession tells the service providers of a closing Préau session (waiting at most
// SLOWait; slower ones finish in the background). base names the identity provider.
func (s *Service) EndSession(ctx context.Context, sessionID, base string) error {
	return s.end(ctx, `session_id = $1`, sessionID, base)
}

// EndPerson does the same for every session of a person ("log out everywhere").
func (s *Service) EndPerson(ctx context.Context, personID, base string) error {
	return s.end(ctx, `person_id = $1`, personID, base)
}

type spSession struct {
	index, nameID, format, person string
	c                             connector.Connector
}

func (s *Service) end(ctx context.Context, where, arg, base string) error {
	var list []spSession
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT session_index, name_id, name_format, person_id, connector_id FROM saml_sessions WHERE `+where, arg)
		if err != nil {
			return err
		}
		var connectorIDs []string
		for rows.Next() {
			var x spSession
			var cid string
			if err := rows.Scan(&x.index, &x.nameID, &x.format, &x.person, &cid); err != nil {
				rows.Close()
				return err
			}
			list = append(list, x)
			connectorIDs = append(connectorIDs, cid)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, id := range connectorIDs {
			if list[i].c, err = s.connectors.ByID(ctx, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM saml_sessions WHERE `+where, arg)
		return err
	})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, x := range list {
		if !x.c.SingleLogout || x.c.SLOURL == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.notify(x, base)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.SLOWait):
	case <-ctx.Done():
	}
	return nil
}

// notify posts a signed LogoutRequest to a service provider's logout address, as a
// form field SAMLRequest (the POST binding's encoding), server to server.
func (s *Service) notify(x spSession, base string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := false
	err := func() error {
		key, cert, err := s.signingKey(ctx)
		if err != nil {
			return err
		}
		req := protocolElement("LogoutRequest", x.c.SLOURL, "", EntityID(base), s.cfg.Now())
		req.CreateAttr("NotOnOrAfter", instant(s.cfg.Now().Add(s.cfg.AssertionTTL)))
		nid := req.CreateElement("saml:NameID")
		nid.CreateAttr("Format", x.format)
		nid.CreateAttr("NameQualifier", EntityID(base))
		nid.CreateAttr("SPNameQualifier", x.c.EntityID)
		nid.SetText(x.nameID)
		req.CreateElement("samlp:SessionIndex").SetText(x.index)
		if err := sign(req, key, cert); err != nil {
			return err
		}
		xml, err := serialize(req)
		if err != nil {
			return err
		}
		body := url.Values{"SAMLRequest": {encodePost(xml)}}.Encode()
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, x.c.SLOURL, strings.NewReader(body))
		if err != nil {
			return err
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := s.cfg.HTTPClient.Do(r)
		if err != nil {
			return err
		}
		resp.Body.Close()
		ok = resp.StatusCode < 400
		return nil
	}()
	if !ok {
		slog.Info("saml: déconnexion unique non reçue", "slo", clip(x.c.SLOURL), "err", err)
	}
	s.audit.Write(ctx, audit.Entry{ActorID: x.person, Action: "sso.saml.logout", TargetType: "connector", TargetID: x.c.ID,
		StructureID: x.c.StructureID, Success: ok, Details: map[string]string{"connector": x.c.Name, "slo": clip(x.c.SLOURL)}})
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
