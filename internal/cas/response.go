package cas

import (
	"encoding/json"
	"encoding/xml"
	"sort"
	"strings"
	"time"
)

// The answers of /serviceValidate, /proxyValidate (and their /p3/ versions) and
// /proxy, in the protocol's XML (namespace http://www.yale.edu/tp/cas) or JSON.

const casNS = "http://www.yale.edu/tp/cas"

func xmlEscape(s string) string {
	var sb strings.Builder
	_ = xml.EscapeText(&sb, []byte(s))
	return sb.String()
}

// attributes returns the attributes of a CAS 3.0 answer: the connector's, plus the
// three the protocol defines.
func (v Validation) attributes() map[string][]string {
	out := map[string][]string{
		"authenticationDate":                     {v.AuthAt.UTC().Format(time.RFC3339)},
		"isFromNewLogin":                         {boolText(v.NewLogin)},
		"longTermAuthenticationRequestTokenUsed": {"false"},
	}
	for k, vals := range v.Attributes {
		out[k] = vals
	}
	return out
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// SuccessXML is the XML answer of a successful validation; withAttributes for CAS 3.0.
func SuccessXML(v Validation, withAttributes bool) []byte {
	var sb strings.Builder
	sb.WriteString(`<cas:serviceResponse xmlns:cas="` + casNS + `">` + "\n  <cas:authenticationSuccess>\n")
	sb.WriteString("    <cas:user>" + xmlEscape(v.Person.Login) + "</cas:user>\n")
	if withAttributes {
		attrs := v.attributes()
		names := make([]string, 0, len(attrs))
		for k := range attrs {
			names = append(names, k)
		}
		sort.Strings(names)
		sb.WriteString("    <cas:attributes>\n")
		for _, k := range names {
			// Attribute names come from connector.AttributeNames and the protocol:
			// valid XML names, never user input.
			for _, val := range attrs[k] {
				sb.WriteString("      <cas:" + k + ">" + xmlEscape(val) + "</cas:" + k + ">\n")
			}
		}
		sb.WriteString("    </cas:attributes>\n")
	}
	if v.PGTIOU != "" {
		sb.WriteString("    <cas:proxyGrantingTicket>" + xmlEscape(v.PGTIOU) + "</cas:proxyGrantingTicket>\n")
	}
	if len(v.Proxies) > 0 {
		sb.WriteString("    <cas:proxies>\n")
		for _, p := range v.Proxies {
			sb.WriteString("      <cas:proxy>" + xmlEscape(p) + "</cas:proxy>\n")
		}
		sb.WriteString("    </cas:proxies>\n")
	}
	sb.WriteString("  </cas:authenticationSuccess>\n</cas:serviceResponse>\n")
	return []byte(sb.String())
}

// FailureXML is the XML answer of a refused validation.
func FailureXML(code, description string) []byte {
	return []byte(`<cas:serviceResponse xmlns:cas="` + casNS + `">` + "\n  <cas:authenticationFailure code=\"" + xmlEscape(code) + `">` +
		xmlEscape(description) + "</cas:authenticationFailure>\n</cas:serviceResponse>\n")
}

// SuccessJSON is the JSON answer of a successful validation (format=JSON).
func SuccessJSON(v Validation, withAttributes bool) []byte {
	ok := map[string]any{"user": v.Person.Login}
	if withAttributes {
		ok["attributes"] = v.attributes()
	}
	if v.PGTIOU != "" {
		ok["proxyGrantingTicket"] = v.PGTIOU
	}
	if len(v.Proxies) > 0 {
		ok["proxies"] = v.Proxies
	}
	b, _ := json.Marshal(map[string]any{"serviceResponse": map[string]any{"authenticationSuccess": ok}})
	return b
}

// FailureJSON is the JSON answer of a refused validation.
func FailureJSON(code, description string) []byte {
	b, _ := json.Marshal(map[string]any{"serviceResponse": map[string]any{"authenticationFailure": map[string]string{"code": code, "description": description}}})
	return b
}

// ProxySuccessXML and ProxyFailureXML answer /proxy.
func ProxySuccessXML(pt string) []byte {
	return []byte(`<cas:serviceResponse xmlns:cas="` + casNS + `">` + "\n  <cas:proxySuccess>\n    <cas:proxyTicket>" + xmlEscape(pt) +
		"</cas:proxyTicket>\n  </cas:proxySuccess>\n</cas:serviceResponse>\n")
}

// ProxyFailureXML is the XML answer of a refused proxy ticket request.
func ProxyFailureXML(code, description string) []byte {
	return []byte(`<cas:serviceResponse xmlns:cas="` + casNS + `">` + "\n  <cas:proxyFailure code=\"" + xmlEscape(code) + `">` +
		xmlEscape(description) + "</cas:proxyFailure>\n</cas:serviceResponse>\n")
}

// ProxySuccessJSON and ProxyFailureJSON answer /proxy with format=JSON.
func ProxySuccessJSON(pt string) []byte {
	b, _ := json.Marshal(map[string]any{"serviceResponse": map[string]any{"proxySuccess": map[string]string{"proxyTicket": pt}}})
	return b
}

// ProxyFailureJSON is the JSON answer of a refused proxy ticket request.
func ProxyFailureJSON(code, description string) []byte {
	b, _ := json.Marshal(map[string]any{"serviceResponse": map[string]any{"proxyFailure": map[string]string{"code": code, "description": description}}})
	return b
}
