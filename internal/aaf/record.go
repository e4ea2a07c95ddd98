package aaf

import (
	"hash/fnv"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
)

// known lists the attributes of the format (SPECS.md, AAF section), whether the
// import uses them or not: anything else is counted in the report as unknown.
var known = func() map[string]bool {
	m := map[string]bool{}
	for _, group := range []string{
		// every person
		`ENTPersonJointure ENTPersonDateNaissance sn givenName ENTPersonAutresPrenoms ENTPersonNomPatro personalTitle
		 ENTPersonStructRattach ENTPersonAdresse ENTPersonCodePostal ENTPersonVille ENTPersonPays mail homePhone
		 telephoneNumber mobile ENTPersonMobileSMS ENTPersonAdresseDiffusion ENTPersonFonctions`,
		// pupils, with the deprecated attributes still accepted
		`ENTEleveINE ENTElevePersRelEleve ENTEleveStructRattachId ENTEleveRegime ENTEleveMEF ENTEleveLibelleMEF
		 ENTEleveNivFormation ENTEleveFiliere ENTEleveBoursier ENTEleveTransport ENTEleveStatutEleve
		 ENTEleveCodeEnseignements ENTEleveEnseignements ENTEleveClasses ENTEleveGroupes ENTEleveDateEntreeClasses
		 ENTEleveDateSortieClasses ENTEleveAdresseRel ENTEleveParents ENTElevePere ENTEleveMere
		 ENTEleveAutoriteParentale ENTElevePersRelEleve1 ENTElevePersRelEleve2 ENTEleveQualitePersRelEleve1
		 ENTEleveQualitePersRelEleve2`,
		// responsables
		`ENTAuxPersRelEleveEleve`,
		// staff and teachers
		`ENTAuxEnsCategoDiscipline ENTAuxEnsMEF ENTAuxEnsMatiereEnseignEtab ENTAuxEnsClasses ENTAuxEnsGroupes
		 ENTAuxEnsClassesMatieres ENTAuxEnsGroupesMatieres ENTAuxEnsClassesPrincipal ENTEnsFonctionDir
		 PersEducNatPresenceDevantEleves ENTPersonCategorieEnseignant ENTAuxEnsDisciplinesPoste`,
		// structures
		`ENTStructureJointure ENTStructureUAI ENTEtablissementUAI ENTStructureSIREN ENTStructureNomCourant
		 ENTStructureTypeStruct ENTStructureCodeTypeStruct ENTEtablissementMinistereTutelle ENTEtablissementContrat
		 postOfficeBox street postalCode l facsimileTelephoneNumber ENTEtablissementStructRattachFctl
		 ENTEtablissementBassin ENTServAcAcademie ENTServAcCodeAcademie ENTStructureClasses ENTStructureGroupes
		 ENTStructureMailSI`,
		// subjects and MEF
		`ENTMatJointure ENTLibelleMatiere ENTMatiereRattach ENTMefJointure ENTLibelleMef ENTMEFRattach ENTMEFSTAT11
		 ENTNivFormation ENTFiliere`,
		// first degree
		`ENTPersonNom ENTPersonPrenom ENTPersonCivilite ENTPersonMail ENTPersonClasses ENTPersonGroupes
		 ENTEleveNiveau ENTEleveCycle ENTEcoleCirconscription ENTEcoleCommune ENTStructureAdresse`,
	} {
		for _, n := range strings.Fields(group) {
			m[n] = true
		}
	}
	return m
}()

// isKnown tells whether an attribute belongs to the format; the deprecated "…Date"
// variants of known attributes count as known.
func isKnown(name string) bool {
	return known[name] || (strings.HasSuffix(name, "Date") && known[strings.TrimSuffix(name, "Date")])
}

// Attributes the import of persons uses, under their second-degree names. Only these
// are kept (aaf_persons.attrs) and enter the checksum: a new address does not make a
// record "changed", and nothing the directory does not need is stored.
var used = map[string]bool{
	"sn": true, "givenName": true, "mail": true, "ENTPersonDateNaissance": true, "ENTPersonStructRattach": true,
	"ENTPersonFonctions": true, "ENTPersonCategorieEnseignant": true, "PersEducNatPresenceDevantEleves": true,
	"ENTEleveClasses": true, "ENTEleveGroupes": true, "ENTAuxEnsClasses": true, "ENTAuxEnsGroupes": true,
	"ENTAuxEnsClassesMatieres": true, "ENTAuxEnsGroupesMatieres": true,
	"ENTElevePersRelEleve": true, "ENTEleveAutoriteParentale": true, "ENTEleveParents": true, "ENTElevePere": true,
	"ENTEleveMere": true, "ENTElevePersRelEleve1": true, "ENTElevePersRelEleve2": true, "ENTAuxPersRelEleveEleve": true,
}

// canonical gives the second-degree name of a first-degree attribute, by category.
func canonical(cat, name string) string {
	switch name {
	case "ENTPersonNom":
		return "sn"
	case "ENTPersonPrenom":
		return "givenName"
	case "ENTPersonMail":
		return "mail"
	case "ENTPersonCivilite":
		return "personalTitle"
	case "ENTPersonClasses":
		if cat == CatEleve {
			return "ENTEleveClasses"
		}
		return "ENTAuxEnsClasses"
	case "ENTPersonGroupes":
		if cat == CatEleve {
			return "ENTEleveGroupes"
		}
		return "ENTAuxEnsGroupes"
	}
	return name
}

// attrSet is the kept attributes of a person: name → values, empty values dropped.
type attrSet map[string][]string

// keep selects and canonicalizes the used attributes of a record.
func keep(cat string, attrs []Attr, into attrSet) attrSet {
	if into == nil {
		into = attrSet{}
	}
	for _, a := range attrs {
		n := canonical(cat, a.Name)
		if !used[n] {
			continue
		}
		var vals []string
		for _, v := range a.Values {
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			delete(into, n)
		} else {
			into[n] = vals
		}
	}
	return into
}

func (s attrSet) first(name string) string {
	if v := s[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// encode writes the set in a stable form: names sorted, separated by control
// characters that XML 1.0 cannot carry.
func (s attrSet) encode() string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	for i, n := range names {
		if i > 0 {
			sb.WriteByte('\x1d')
		}
		sb.WriteString(n)
		for _, v := range s[n] {
			sb.WriteByte('\x1f')
			sb.WriteString(v)
		}
	}
	return sb.String()
}

func decodeAttrs(s string) attrSet {
	out := attrSet{}
	if s == "" {
		return out
	}
	for _, part := range strings.Split(s, "\x1d") {
		f := strings.Split(part, "\x1f")
		if len(f) > 1 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

// checksum is the FNV-1a 64 of a category and an encoded attribute set (never 0,
// which means "none").
func checksum(cat, encoded string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(cat))
	h.Write([]byte{0})
	h.Write([]byte(encoded))
	if v := h.Sum64(); v != 0 {
		return v
	}
	return 1
}

func hashStrings(ss []string) uint64 {
	if len(ss) == 0 {
		return 0
	}
	c := append([]string(nil), ss...)
	sort.Strings(c)
	return checksum("", strings.Join(c, ","))
}

func hexSum(v uint64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatUint(v, 16)
}

func parseSum(s string) uint64 {
	v, _ := strconv.ParseUint(s, 16, 64)
	return v
}

// ---- persons ----

// ref is a class or group of a structure, by jointure and code.
type ref struct{ structure, code string }

// teach is a teacher's class or group and subject.
type teach struct {
	structure, code, kind, subject string
}

// fn is a function held in a structure.
type fn struct{ structure, code, label string }

// personData is what a person record says, before jointures are resolved.
type personData struct {
	profile            string
	first, last, email string
	birth              string // yyyy-mm-dd
	rattach            []string
	classes, groups    []ref
	functions          []fn
	teaching           []teach
	parents, children  []string
	warnings           []string
}

// Function codes (one public mapping, SPECS.md) that make a teacher, and those that
// make a member of the direction.
var (
	teacherFunctions   = map[string]bool{"ENS": true, "EAP": true, "FCA": true, "FCP": true, "FIJ": true, "IS": true, "ISES": true, "PPA": true, "RH1D": true, "RPL": true, "UPI": true, "BED": true, "DOC": true}
	directionFunctions = map[string]bool{"DIR": true, "DEC": true, "DECPR": true, "DSES": true}
)

// split cuts a $-packed value into n fields at least (missing ones empty).
func split(v string, n int) []string {
	f := strings.Split(v, "$")
	for len(f) < n {
		f = append(f, "")
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

// yes reads the O/N flags of the format.
func yes(v string) (value, set bool) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "O", "OUI", "Y", "YES", "TRUE", "1":
		return true, true
	case "N", "NON", "NO", "FALSE", "0":
		return false, true
	}
	return false, false
}

// interpret reads a person's kept attributes. reject is the reason the record cannot
// be imported ("" if it can); warnings are about parts of it that are left out.
func interpret(cat string, a attrSet) (d personData, reject string) {
	d.last, d.first = a.first("sn"), a.first("givenName")
	switch {
	case d.last == "" || d.first == "":
		return d, "nom ou prénom manquant"
	case len(d.last) > 100 || len(d.first) > 100:
		return d, "nom ou prénom trop long"
	}
	if m := a.first("mail"); m != "" {
		if ad, err := mail.ParseAddress(m); err != nil || ad.Address != m {
			d.warnings = append(d.warnings, "adresse électronique invalide ignorée : "+m)
		} else {
			d.email = m
		}
	}
	if b := a.first("ENTPersonDateNaissance"); b != "" {
		t, err := time.Parse("02/01/2006", b)
		if err != nil {
			if t2, err2 := time.Parse("2006-01-02", b); err2 == nil {
				t, err = t2, nil
			}
		}
		if err != nil {
			return d, "date de naissance invalide : " + b
		}
		d.birth = t.Format("2006-01-02")
	}
	for _, v := range a["ENTPersonStructRattach"] {
		d.rattach = appendUnique(d.rattach, v)
	}
	for _, v := range a["ENTPersonFonctions"] {
		f := split(v, 5)
		if f[0] == "" || f[1] == "" {
			d.warnings = append(d.warnings, "fonction illisible ignorée : "+v)
			continue
		}
		code := strings.ToUpper(f[1])
		label := f[2]
		if f[4] != "" {
			label = strings.TrimSpace(label + " — " + f[4])
		}
		d.functions = append(d.functions, fn{f[0], code, label})
		if directionFunctions[code] && code != "DIR" {
			d.functions = append(d.functions, fn{f[0], "DIR", "Direction"})
		}
	}
	packed := func(name string) []ref {
		var out []ref
		for _, v := range a[name] {
			f := split(v, 2)
			if f[1] == "" && len(d.rattach) > 0 && !strings.Contains(v, "$") {
				f = []string{d.rattach[0], f[0]} // a bare code: a class of the rattachement
			}
			if f[0] == "" || f[1] == "" {
				d.warnings = append(d.warnings, name+" illisible ignoré : "+v)
				continue
			}
			out = append(out, ref{f[0], f[1]})
		}
		return out
	}
	switch cat {
	case CatEleve:
		d.profile = directory.Eleve
		d.classes = packed("ENTEleveClasses")
		d.groups = packed("ENTEleveGroupes")
		for _, v := range a["ENTElevePersRelEleve"] {
			if j := split(v, 1)[0]; j != "" {
				d.parents = appendUnique(d.parents, j)
			}
		}
		for _, n := range []string{"ENTEleveAutoriteParentale", "ENTEleveParents", "ENTElevePere", "ENTEleveMere", "ENTElevePersRelEleve1", "ENTElevePersRelEleve2"} {
			for _, v := range a[n] {
				if j := split(v, 1)[0]; j != "" {
					d.parents = appendUnique(d.parents, j)
				}
			}
		}
	case CatPersRelEleve:
		d.profile = directory.Responsable
		for _, v := range a["ENTAuxPersRelEleveEleve"] {
			if j := split(v, 1)[0]; j != "" {
				d.children = appendUnique(d.children, j)
			}
		}
	case CatPersEducNat:
		d.profile = directory.Personnel
		if t, ok := yes(a.first("ENTPersonCategorieEnseignant")); ok {
			if t {
				d.profile = directory.Enseignant
			}
		} else if t, ok := yes(a.first("PersEducNatPresenceDevantEleves")); ok {
			if t {
				d.profile = directory.Enseignant
			}
		} else {
			for _, f := range d.functions {
				if teacherFunctions[f.code] {
					d.profile = directory.Enseignant
				}
			}
		}
		withSubject := map[ref]bool{}
		for _, x := range []struct{ name, kind string }{{"ENTAuxEnsClassesMatieres", directory.GroupClass}, {"ENTAuxEnsGroupesMatieres", directory.GroupTeaching}} {
			for _, v := range a[x.name] {
				f := split(v, 3)
				if f[0] == "" || f[1] == "" {
					d.warnings = append(d.warnings, x.name+" illisible ignoré : "+v)
					continue
				}
				d.teaching = append(d.teaching, teach{f[0], f[1], x.kind, f[2]})
				withSubject[ref{f[0], x.kind + "\x00" + f[1]}] = true
			}
		}
		for _, x := range []struct{ name, kind string }{{"ENTAuxEnsClasses", directory.GroupClass}, {"ENTAuxEnsGroupes", directory.GroupTeaching}} {
			for _, r := range packed(x.name) {
				if !withSubject[ref{r.structure, x.kind + "\x00" + r.code}] {
					d.teaching = append(d.teaching, teach{r.structure, r.code, x.kind, ""})
				}
			}
		}
	}
	return d, ""
}

func appendUnique(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
}

// ---- structures ----

type structData struct {
	jointure, uai, name, city, kind string
	schoolType, typeCode            string      // directory.TypeCollege..., ENTStructureTypeStruct as written
	classes, groups                 [][2]string // code, name
}

// interpretStructure reads an EtabEducNat record's attributes over base (the
// structure as it is, for a modifyRequest).
func interpretStructure(attrs []Attr, base structData) (structData, string) {
	d := base
	get := func(a Attr) string {
		for _, v := range a.Values {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
		return ""
	}
	var typ, nameType, nameCity string
	for _, a := range attrs {
		switch a.Name {
		case "ENTStructureUAI":
			d.uai = strings.ToUpper(get(a))
		case "ENTEtablissementUAI":
			if d.uai == "" {
				d.uai = strings.ToUpper(get(a))
			}
		case "ENTStructureNomCourant":
			v := get(a)
			if strings.Contains(v, "$") {
				// Recent exports: <type>$<name>$<city>.
				f := split(v, 3)
				d.name = strings.Join(strings.Fields(f[0]+" "+f[1]), " ")
				nameType, nameCity = strings.ToUpper(strings.TrimSpace(f[0])), f[2]
			} else if v != "" {
				d.name = v
			}
		case "l", "ENTEcoleCommune":
			if v := get(a); v != "" {
				d.city = v
			}
		case "ENTStructureTypeStruct":
			typ = strings.ToUpper(get(a))
		case "ENTStructureClasses", "ENTStructureGroupes":
			var list [][2]string
			for _, v := range a.Values {
				if v = strings.TrimSpace(v); v == "" {
					continue
				}
				f := split(v, 2)
				name := f[1]
				if name == "" {
					name = f[0]
				}
				list = append(list, [2]string{f[0], name})
			}
			if a.Name == "ENTStructureClasses" {
				d.classes = list
			} else {
				d.groups = list
			}
		}
	}
	if d.city == "" {
		d.city = nameCity
	}
	if typ == "" && d.typeCode == "" && nameType != "" && directory.TypeFromAAF(nameType) != directory.TypeAutre {
		typ = nameType // no ENTStructureTypeStruct: the type written before the name, if it is one
	}
	if typ != "" {
		d.typeCode, d.schoolType = typ, directory.TypeFromAAF(typ)
	}
	if typ != "" || d.kind == "" {
		d.kind = directory.KindEtablissement
		if d.schoolType == directory.TypeEcole || strings.Contains(typ, "ECOLE") {
			d.kind, d.schoolType = directory.KindEcole, directory.TypeEcole
		}
	}
	if d.name == "" {
		d.name = d.uai
	}
	switch {
	case !directory.ValidUAI(d.uai):
		return d, "UAI invalide : " + d.uai
	case len(d.name) > 200:
		return d, "nom d'établissement trop long"
	case len(d.typeCode) > 100:
		return d, "type d'établissement trop long"
	}
	return d, ""
}
