// Package directory is the heart of Préau: structures in a tree, classes and groups,
// subjects, persons with their profiles, functions and relations. Every other service
// reads it; the AAF and CSV feeds, the administration console and the command line write it.
package directory

import (
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Profiles: one per person, as in the national directory.
const (
	Eleve        = "Eleve"
	Responsable  = "Responsable"
	Enseignant   = "Enseignant"
	Personnel    = "Personnel"
	Invite       = "Invite"
	Collectivite = "Collectivite"
	// Direction is not a profile but the profile group of the persons holding the
	// DIR function in a structure (heads of school and their deputies).
	Direction = "Direction"
)

// Profiles lists the profiles in display order.
var Profiles = []string{Eleve, Responsable, Enseignant, Personnel, Invite, Collectivite}

// ValidProfile tells whether p is a profile.
func ValidProfile(p string) bool {
	for _, x := range Profiles {
		if x == p {
			return true
		}
	}
	return false
}

// Structure kinds.
const (
	KindRegion        = "region"
	KindDepartement   = "departement"
	KindAcademie      = "academie"
	KindCollectivite  = "collectivite"
	KindEtablissement = "etablissement"
	KindEcole         = "ecole"
)

// StructureKinds lists the kinds in display order.
var StructureKinds = []string{KindRegion, KindDepartement, KindAcademie, KindCollectivite, KindEtablissement, KindEcole}

// IsSchool tells whether a kind is a school (which has a UAI, classes and pupils).
func IsSchool(kind string) bool { return kind == KindEtablissement || kind == KindEcole }

// School types: what a school is, as the product uses it (news for "the collèges"
// of a Département, say). "" means not known: no source has said it yet.
const (
	TypeEcole    = "ecole"     // école maternelle or élémentaire (1er degré)
	TypeCollege  = "college"   // collège
	TypeLycee    = "lycee"     // lycée général et technologique, lycée polyvalent
	TypeLyceePro = "lycee_pro" // lycée professionnel, section d'enseignement professionnel
	TypeAutre    = "autre"     // EREA, établissement médico-social, ...
)

// StructureTypes lists the school types in display order.
var StructureTypes = []string{TypeEcole, TypeCollege, TypeLycee, TypeLyceePro, TypeAutre}

// TypeFromAAF maps the AAF's ENTStructureTypeStruct (short codes such as CLG, LYC, LP,
// LPO, LGT, SEP, EREA, 1ORD, or the long labels of older exports such as "COLLEGE",
// "LYCEE PROFESSIONNEL", "ECOLE ELEMENTAIRE") to a school type; "" for an empty code.
func TypeFromAAF(code string) string {
	c := strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(Fold(code), "-", " ")), " "))
	word := c
	if i := strings.IndexByte(c, ' '); i >= 0 {
		word = c[:i]
	}
	switch {
	case c == "":
		return ""
	case word == "ECOLE" || word == "EC" || word == "EE" || word == "EM" || word == "EP" || word == "1ORD" || strings.HasPrefix(code, "E.E") || strings.HasPrefix(code, "E.M"):
		return TypeEcole
	case word == "CLG" || word == "COLLEGE":
		return TypeCollege
	case word == "LP" || word == "SEP" || word == "LPA" || strings.HasPrefix(c, "LYCEE PROFESSIONNEL") || strings.HasPrefix(c, "SECTION D ENSEIGNEMENT PROFESSIONNEL"):
		return TypeLyceePro
	case word == "LYC" || word == "LPO" || word == "LGT" || word == "LEGT" || word == "LG" || word == "LT" || word == "LYCEE":
		return TypeLycee
	}
	return TypeAutre
}

// Structure is a node of the tree.
type Structure struct {
	ID         string
	ParentID   string
	Kind       string
	UAI        string
	ExternalID string
	Name       string
	City       string
	Type       string // school type (TypeCollege...); "" if not known
	TypeCode   string // the AAF's own code for it (ENTStructureTypeStruct), if it came from there
	CreatedAt  time.Time
}

// Group kinds.
const (
	GroupClass        = "class"
	GroupTeaching     = "group"
	GroupManual       = "manual"
	GroupProfile      = "profile"
	GroupClassProfile = "class_profile"
)

// Group is a class, a teaching group, a hand-made group or a profile group.
type Group struct {
	ID          string
	StructureID string
	Kind        string
	Code        string
	Name        string
	Profile     string // profile groups only
	ClassID     string // class_profile groups only
	Communicate string
	SchoolYear  string
	Archived    bool
	Members     int // filled by listings
}

// Subject is a matière taught in a structure.
type Subject struct {
	ID, StructureID, Code, Name string
}

// Person states.
const (
	StatePending = "pending" // not activated yet
	StateActive  = "active"
	StateBlocked = "blocked"
)

// Person is an account holder.
type Person struct {
	ID         string
	ExternalID string
	Login      string
	FirstName  string
	LastName   string
	Profile    string
	Email      string
	BirthDate  string // yyyy-mm-dd
	State      string
	Language   string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// DisplayName is "Prénom NOM".
func (p Person) DisplayName() string {
	return strings.TrimSpace(p.FirstName + " " + strings.ToUpper(p.LastName))
}

// Function is a person's function in a structure (DIR, EDU, DOC...).
type Function struct {
	StructureID, Code, Label string
}

// Teaching links a teacher to a class or group and a subject.
type Teaching struct {
	TeacherID, GroupID, SubjectID string
	GroupName, SubjectName        string
}

// Fold lower-cases s and removes accents and anything but letters, digits, spaces and
// hyphens: "Éloïse D'Àrc" → "eloise darc". It makes logins and search keys.
func Fold(s string) string {
	if f, ok := foldASCII(s); ok {
		return f
	}
	return foldSlow(s)
}

// foldSlow is Fold for any name.
func foldSlow(s string) string {
	t := folders.Get().(transform.Transformer)
	t.Reset()
	out, _, _ := transform.String(t, s)
	folders.Put(t)
	var sb strings.Builder
	for _, r := range strings.ToLower(out) {
		switch {
		case r == 'æ':
			sb.WriteString("ae")
		case r == 'œ':
			sb.WriteString("oe")
		case r == 'ß':
			sb.WriteString("ss")
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == ' ', r == '-':
			sb.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(sb.String()), " ")
}

// folders are the accent-removing transformers of Fold: each holds buffers worth
// reusing across the million names of a directory import.
var folders = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// foldASCII is Fold for a name without accents (most of them): no normalization to
// do, one pass. ok is false for any other name.
func foldASCII(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	space := true // at the start, or after a space: a space is dropped
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return "", false
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c == ' ':
			if space {
				continue
			}
		default:
			continue
		}
		b = append(b, c)
		space = c == ' '
	}
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b), true
}

// LoginBase returns the prenom.nom base of a login, before de-duplication.
func LoginBase(first, last string) string {
	clean := func(s string) string {
		s = strings.ReplaceAll(Fold(s), " ", "-")
		return strings.Trim(s, "-")
	}
	f, l := clean(first), clean(last)
	switch {
	case f == "" && l == "":
		return "utilisateur"
	case f == "":
		return l
	case l == "":
		return f
	}
	return f + "." + l
}
