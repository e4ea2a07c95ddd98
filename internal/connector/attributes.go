package connector

import (
	"sort"

	"github.com/preau-ent/preau/internal/directory"
)

// AttributeNames are the attributes an administrator may release to a connector, with
// the names French ENTs use in CAS tokens (the SSO protocols map them to their own).
var AttributeNames = []string{
	"uid",                       // the login
	"nom",                       // last name
	"prenom",                    // first name
	"displayName",               // "Prénom NOM"
	"mail",                      // e-mail address, when known
	"dateNaissance",             // yyyy-mm-dd
	"ENTPersonProfils",          // national profile: National_ELV, National_ENS...
	"ENTPersonStructRattachRNE", // UAIs of the person's schools
	"ENTEleveClasses",           // classes and groups, as UAI$name
	"ENTPersonJointure",         // external id (AAF jointure)
	"preauId",                   // Préau's own stable id of the person
}

// NationalProfile is the national profile code released to services (ENTPersonProfils)
// for a person: staff are told apart by their functions. Guests have no national code.
func NationalProfile(p directory.Person, functions []directory.Function) string {
	switch p.Profile {
	case directory.Eleve:
		return "National_ELV"
	case directory.Responsable:
		return "National_TUT"
	case directory.Enseignant:
		return "National_ENS"
	case directory.Collectivite:
		return "National_COL"
	case directory.Personnel:
		best := "National_ETA"
		for _, f := range functions {
			switch f.Code {
			case "DIR", "DEC", "DECPR", "DSES":
				return "National_DIR"
			case "DOC":
				best = "National_DOC"
			case "EDU", "AED", "AES", "ADE", "SUR":
				if best == "National_ETA" {
					best = "National_EVS"
				}
			}
		}
		return best
	}
	return ""
}

// Release computes the attributes a connector receives for a person: only those the
// administrator chose, and only those that have a value. Values are lists, as every
// SSO protocol allows several values.
func Release(c Connector, p directory.Person, sit directory.Situation) map[string][]string {
	out := map[string][]string{}
	uais := map[string]string{}
	for _, st := range sit.Structures {
		uais[st.ID] = st.UAI
	}
	for _, name := range c.Attributes {
		var v []string
		switch name {
		case "uid":
			v = []string{p.Login}
		case "nom":
			v = []string{p.LastName}
		case "prenom":
			v = []string{p.FirstName}
		case "displayName":
			v = []string{p.DisplayName()}
		case "mail":
			v = []string{p.Email}
		case "dateNaissance":
			v = []string{p.BirthDate}
		case "ENTPersonProfils":
			v = []string{NationalProfile(p, sit.Functions)}
		case "ENTPersonStructRattachRNE":
			for _, st := range sit.Structures {
				if st.UAI != "" {
					v = append(v, st.UAI)
				}
			}
		case "ENTEleveClasses":
			for _, c := range sit.Classes {
				prefix := uais[c.StructureID]
				if prefix == "" {
					prefix = c.StructureID
				}
				v = append(v, prefix+"$"+c.Name)
			}
			sort.Strings(v)
		case "ENTPersonJointure":
			v = []string{p.ExternalID}
		case "preauId":
			v = []string{p.ID}
		}
		var kept []string
		for _, x := range v {
			if x != "" {
				kept = append(kept, x)
			}
		}
		if len(kept) > 0 {
			out[name] = kept
		}
	}
	return out
}
