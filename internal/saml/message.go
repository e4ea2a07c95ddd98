package saml

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	xrv "github.com/mattermost/xml-roundtrip-validator"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/preau-ent/preau/internal/connector"
)

const (
	nsProtocol   = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion  = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata   = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig       = "http://www.w3.org/2000/09/xmldsig#"
	sigRSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	maxMessage   = 256 << 10 // inflated size limit of a received message
)

// message is a received protocol message, parsed.
type message struct {
	doc     *etree.Document
	root    *etree.Element
	name    string // AuthnRequest, LogoutRequest, LogoutResponse
	id      string
	version string
	issuer  string
	issued  time.Time
}

// decode reads a received message: base64, inflated for the Redirect binding,
// checked to survive an XML round trip (the known signature-wrapping tricks of Go's
// encoding/xml), without DTD, in the protocol namespace.
func decode(in Incoming) (*message, error) {
	if in.Message == "" || len(in.Message) > 4*maxMessage/3+4 {
		return nil, refuse("malformed")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(in.Message), ""))
	if err != nil {
		return nil, refuse("malformed")
	}
	if in.Binding == BindingRedirect {
		raw, err = io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), maxMessage+1))
		if err != nil || len(raw) > maxMessage {
			return nil, refuse("malformed")
		}
	}
	if bytes.Contains(raw, []byte("<!DOCTYPE")) || bytes.Contains(raw, []byte("<!ENTITY")) {
		return nil, refuse("malformed")
	}
	if err := xrv.Validate(bytes.NewReader(raw)); err != nil {
		return nil, refuse("malformed")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return nil, refuse("malformed")
	}
	root := doc.Root()
	if root.NamespaceURI() != nsProtocol {
		return nil, refuse("malformed")
	}
	m := &message{doc: doc, root: root, name: root.Tag, id: root.SelectAttrValue("ID", ""), version: root.SelectAttrValue("Version", "")}
	if iss := m.child(nsAssertion, "Issuer"); iss != nil {
		m.issuer = strings.TrimSpace(iss.Text())
	}
	if t, err := time.Parse(time.RFC3339Nano, root.SelectAttrValue("IssueInstant", "")); err == nil {
		m.issued = t
	}
	return m, nil
}

// child is the first child element of the root with this namespace and name.
func (m *message) child(ns, tag string) *etree.Element {
	for _, c := range m.root.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

func (m *message) boolAttr(name string) bool {
	v, _ := strconv.ParseBool(m.root.SelectAttrValue(name, "false"))
	return v
}

// verify checks the signature of a message from a connector that registered a
// certificate: on the query for the Redirect binding (or in the XML it carries), in
// the XML for the POST one.
// Without a registered certificate, signatures are not required (and not checked).
func (m *message) verify(c connector.Connector, in Incoming) error {
	if c.SPCert == "" {
		return nil
	}
	cert, err := connector.ParseCertificate(c.SPCert)
	if err != nil {
		return refuse("bad_signature")
	}
	sig := m.child(nsDSig, "Signature")
	if in.Binding == BindingRedirect && (strings.Contains(in.RawQuery, "&Signature=") || sig == nil) {
		// The binding's own signature, on the query. Some service providers sign the
		// XML instead, even in this binding: that signature is as good, checked below.
		return verifyQuery(in.RawQuery, in.Response, cert)
	}
	if sig == nil {
		return refuse("bad_signature")
	}
	v := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	v.Clock = dsig.NewFakeClockAt(cert.NotBefore.Add(time.Second)) // registered certificates are trusted as they are, like metadata
	if _, err := v.Validate(m.root); err != nil {
		return refuse("bad_signature")
	}
	return nil
}

// verifyQuery checks the signature of the Redirect binding over the parameters as
// they were received (still URL-encoded), in the order the binding fixes.
func verifyQuery(rawQuery string, response bool, cert *x509.Certificate) error {
	params := map[string]string{}
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := params[k]; dup {
			return refuse("bad_signature")
		}
		params[k] = v
	}
	field := "SAMLRequest"
	if response {
		field = "SAMLResponse"
	}
	alg, _ := url.QueryUnescape(params["SigAlg"])
	sig, err := url.QueryUnescape(params["Signature"])
	if err != nil || alg != sigRSASHA256 || sig == "" {
		return refuse("bad_signature")
	}
	signed := field + "=" + params[field]
	if rs, ok := params["RelayState"]; ok {
		signed += "&RelayState=" + rs
	}
	signed += "&SigAlg=" + params["SigAlg"]
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return refuse("bad_signature")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return refuse("bad_signature")
	}
	sum := sha256.Sum256([]byte(signed))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw) != nil {
		return refuse("bad_signature")
	}
	return nil
}

// signQuery builds a Redirect binding query: the message deflated, base64'd, with
// its RelayState, signed with RSA-SHA256.
func signQuery(field string, xml []byte, relayState string, key *rsa.PrivateKey) (string, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(xml); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	q := field + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(sigRSASHA256)
	sum := sha256.Sum256([]byte(q))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return q + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig)), nil
}

func encodePost(xml []byte) string { return base64.StdEncoding.EncodeToString(xml) }

func itoa(n int) string { return strconv.Itoa(n) }

func sorted(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}
