package saml

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/keyring"
)

const (
	statusSuccess   = "urn:oasis:names:tc:SAML:2.0:status:Success"
	statusResponder = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	statusNoPassive = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	attrBasic       = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	passwordClass   = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	bearer          = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// instant is the SAML time format: UTC, no fractional seconds.
func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func newID() string { return "_" + ids.Random(32) }

type assertionInput struct {
	idp, sp, acs, inResponseTo string
	nameID, nameFormat         string
	sessionIndex               string
	authAt, now                time.Time
	ttl, skew                  time.Duration
	attrs                      map[string][]string
}

// protocolElement starts a samlp message with its Issuer.
func protocolElement(name, destination, inResponseTo, idp string, now time.Time) *etree.Element {
	el := etree.NewElement("samlp:" + name)
	el.CreateAttr("xmlns:samlp", nsProtocol)
	el.CreateAttr("xmlns:saml", nsAssertion)
	el.CreateAttr("ID", newID())
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", instant(now))
	if destination != "" {
		el.CreateAttr("Destination", destination)
	}
	if inResponseTo != "" {
		el.CreateAttr("InResponseTo", inResponseTo)
	}
	el.CreateElement("saml:Issuer").SetText(idp)
	return el
}

func addStatus(el *etree.Element, code string) {
	st := el.CreateElement("samlp:Status")
	sc := st.CreateElement("samlp:StatusCode")
	if code == statusSuccess {
		sc.CreateAttr("Value", statusSuccess)
		return
	}
	sc.CreateAttr("Value", statusResponder)
	sc.CreateElement("samlp:StatusCode").CreateAttr("Value", code)
}

// buildResponse makes a signed Response holding a signed Assertion.
func buildResponse(a assertionInput, key *rsa.PrivateKey, cert []byte) ([]byte, error) {
	resp := protocolElement("Response", a.acs, a.inResponseTo, a.idp, a.now)
	addStatus(resp, statusSuccess)

	as := etree.NewElement("saml:Assertion")
	// The assertion declares what it uses itself: it is signed on its own. Values are
	// plain strings, without xsi:type (whose QName value exclusive canonicalization
	// would not keep the prefix of).
	as.CreateAttr("xmlns:saml", nsAssertion)
	as.CreateAttr("ID", newID())
	as.CreateAttr("Version", "2.0")
	as.CreateAttr("IssueInstant", instant(a.now))
	as.CreateElement("saml:Issuer").SetText(a.idp)
	subj := as.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", a.nameFormat)
	nid.CreateAttr("NameQualifier", a.idp)
	nid.CreateAttr("SPNameQualifier", a.sp)
	nid.SetText(a.nameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", bearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if a.inResponseTo != "" {
		scd.CreateAttr("InResponseTo", a.inResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", instant(a.now.Add(a.ttl)))
	scd.CreateAttr("Recipient", a.acs)
	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", instant(a.now.Add(-a.skew)))
	cond.CreateAttr("NotOnOrAfter", instant(a.now.Add(a.ttl)))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(a.sp)
	authn := as.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", instant(a.authAt))
	authn.CreateAttr("SessionIndex", a.sessionIndex)
	authn.CreateAttr("SessionNotOnOrAfter", instant(a.now.Add(12*time.Hour)))
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(passwordClass)
	if len(a.attrs) > 0 {
		stmt := as.CreateElement("saml:AttributeStatement")
		names := make([]string, 0, len(a.attrs))
		for k := range a.attrs {
			names = append(names, k)
		}
		for _, name := range sorted(names) {
			at := stmt.CreateElement("saml:Attribute")
			at.CreateAttr("Name", name)
			at.CreateAttr("NameFormat", attrBasic)
			for _, v := range a.attrs[name] {
				at.CreateElement("saml:AttributeValue").SetText(v)
			}
		}
	}
	if err := sign(as, key, cert); err != nil {
		return nil, err
	}
	resp.AddChild(as)
	if err := sign(resp, key, cert); err != nil {
		return nil, err
	}
	return serialize(resp)
}

// buildStatusResponse makes a signed Response without assertion (an error status).
func buildStatusResponse(idp, acs, inResponseTo, code string, now time.Time, key *rsa.PrivateKey, cert []byte) ([]byte, error) {
	resp := protocolElement("Response", acs, inResponseTo, idp, now)
	addStatus(resp, code)
	if err := sign(resp, key, cert); err != nil {
		return nil, err
	}
	return serialize(resp)
}

func serialize(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el)
	doc.WriteSettings.CanonicalEndTags = true
	return doc.WriteToBytes()
}

// sign adds an enveloped RSA-SHA256 signature (exclusive canonicalization) to el,
// placed right after its Issuer as the schema wants: the enveloped-signature
// transform leaves it out of the digest wherever it sits.
func sign(el *etree.Element, key *rsa.PrivateKey, cert []byte) error {
	ctx, err := dsig.NewSigningContext(key, [][]byte{cert})
	if err != nil {
		return err
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return err
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return err
	}
	at := 0
	for i, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == "Issuer" {
			at = i + 1
			break
		}
	}
	el.InsertChildAt(at, sig)
	return nil
}

// certificate is the self-signed certificate of a key, as service providers pin it.
// It is derived from the key alone (RSA PKCS#1 v1.5 signatures are deterministic), so
// every instance publishes the same one without storing it.
func (s *Service) certificate(k keyring.Key) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if der, ok := s.certs[k.ID]; ok {
		return der, nil
	}
	sum := sha256.Sum256([]byte("preau-saml-cert:" + k.ID))
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(sum[:16]),
		Subject:               pkix.Name{CommonName: "Préau SAML IdP " + k.ID, Organization: []string{"Préau"}},
		NotBefore:             k.Created.Add(-time.Hour).UTC().Truncate(time.Second),
		NotAfter:              k.Created.AddDate(10, 0, 0).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.Private.PublicKey, k.Private)
	if err != nil {
		return nil, err
	}
	s.certs[k.ID] = der
	return der, nil
}

// Metadata is the identity provider's EntityDescriptor on a portal: its signing
// certificates (every published key), the single sign-on and single logout
// endpoints in both bindings, the name formats.
func (s *Service) Metadata(ctx context.Context, base string) ([]byte, error) {
	keys, err := s.ring.Keys(ctx)
	if err != nil {
		return nil, err
	}
	ed := etree.NewElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("xmlns:ds", nsDSig)
	ed.CreateAttr("entityID", EntityID(base))
	ed.CreateAttr("validUntil", instant(s.cfg.Now().Add(7*24*time.Hour)))
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("protocolSupportEnumeration", nsProtocol)
	idp.CreateAttr("WantAuthnRequestsSigned", "false")
	for _, k := range keys {
		der, err := s.certificate(k)
		if err != nil {
			return nil, err
		}
		kd := idp.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(der))
	}
	for _, b := range []string{BindingRedirect, BindingPOST} {
		e := idp.CreateElement("md:SingleLogoutService")
		e.CreateAttr("Binding", b)
		e.CreateAttr("Location", base+"/saml/slo")
	}
	for _, f := range []string{NameIDTransient, NameIDPersisted} {
		idp.CreateElement("md:NameIDFormat").SetText(f)
	}
	for _, b := range []string{BindingRedirect, BindingPOST} {
		e := idp.CreateElement("md:SingleSignOnService")
		e.CreateAttr("Binding", b)
		e.CreateAttr("Location", base+"/saml/sso")
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(ed)
	doc.Indent(2)
	return doc.WriteToBytes()
}
