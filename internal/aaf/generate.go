package aaf

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding/charmap"

	"github.com/preau-ent/preau/internal/demo"
)

// GenOptions describe a synthetic académie. Nothing in it is real: names are drawn
// from the demo's invented lists, jointures and UAI are made up.
type GenOptions struct {
	Persons    int    // about this many persons in all (default 10,000)
	Schools    int    // établissements (default: one per 2,000 persons)
	Seed       uint64 // same seed, same académie
	Date       string // YYYYMMDD in the file names (default 20260901)
	PerFile    int    // records per person file (default 50,000): exports come in numbered files
	ISO8859_15 bool   // write the établissement file in ISO-8859-15, as some académies do
}

func (o *GenOptions) defaults() {
	if o.Persons <= 0 {
		o.Persons = 10000
	}
	if o.Schools <= 0 {
		o.Schools = max(1, o.Persons/2000)
	}
	if o.Date == "" {
		o.Date = "20260901"
	}
	if o.PerFile <= 0 {
		o.PerFile = 50000
	}
}

// GenStats counts what a generator wrote.
type GenStats struct {
	Schools, Classes, Pupils, Responsables, Teachers, Staff int
	Files                                                   []string
}

// Persons is the number of person records written.
func (g GenStats) Persons() int { return g.Pupils + g.Responsables + g.Teachers + g.Staff }

// genSubjects are subject codes and labels in the national form.
var genSubjects = [][2]string{{"030201", "ANGLAIS LV1"}, {"061300", "MATHEMATIQUES"}, {"020100", "FRANCAIS"},
	{"040300", "HISTOIRE-GEOGRAPHIE"}, {"062100", "PHYSIQUE-CHIMIE"}, {"063000", "SCIENCES VIE & TERRE"},
	{"100100", "EDUCATION PHYSIQUE ET SPORT."}, {"030602", "ESPAGNOL LV2"}}

// académie layout, derived from the options alone so that a delta can be made
// without reading the full export back.
type genSchool struct {
	index                                     int
	jointure, uai                             string
	pupils, classes, teachers, staff, firstID int
}

func layout(o GenOptions) []genSchool {
	// Per pupil: 1.5 responsables, 1/12 teacher, 1/50 staff.
	perSchool := o.Persons / o.Schools
	var out []genSchool
	id := 1000000
	for s := 0; s < o.Schools; s++ {
		pupils := max(1, int(float64(perSchool)/2.6033))
		g := genSchool{index: s, jointure: fmt.Sprintf("%d", 90000+s), uai: fmt.Sprintf("%07d%c", 9900000+s, 'A'+rune(s%26)),
			pupils: pupils, classes: max(1, (pupils+24)/25), teachers: max(1, pupils/12), staff: max(1, pupils/50), firstID: id}
		// Identifier ranges per school: pupils, their responsables (two slots each),
		// teachers, staff.
		id += g.pupils*3 + g.teachers + g.staff + 10
		out = append(out, g)
	}
	return out
}

// genTypes are the kinds of school of a generated académie, as the AAF writes them
// (label, ENTStructureTypeStruct), one per school in turn: mostly collèges (the first
// school is one, so a small export is a collège), lycées, a lycée professionnel, an école.
var genTypes = [][2]string{{"COLLEGE", "CLG"}, {"COLLEGE", "CLG"}, {"LYCEE", "LYC"}, {"COLLEGE", "CLG"},
	{"COLLEGE", "CLG"}, {"LYCEE PROFESSIONNEL", "LP"}, {"COLLEGE", "CLG"}, {"LYCEE POLYVALENT", "LPO"}, {"ECOLE ELEMENTAIRE", "ECOLE"}, {"COLLEGE", "CLG"}}

func (g genSchool) label() string    { return genTypes[g.index%len(genTypes)][0] }
func (g genSchool) typeCode() string { return genTypes[g.index%len(genTypes)][1] }

func (g genSchool) pupilID(i int) string   { return fmt.Sprintf("%d", g.firstID+i) }
func (g genSchool) respID(i, k int) string { return fmt.Sprintf("%d", g.firstID+g.pupils+2*i+k) }
func (g genSchool) teacherID(i int) string { return fmt.Sprintf("%d", g.firstID+3*g.pupils+i) }
func (g genSchool) staffID(i int) string   { return fmt.Sprintf("%d", g.firstID+3*g.pupils+g.teachers+i) }
func (g genSchool) classCode(c int) string {
	return fmt.Sprintf("%d%c", 6+c%4, 'A'+rune(c/4%26)) + suffix(c/104)
}
func (g genSchool) responsables(i int) int    { return 1 + (i*7+g.index)%2 }
func suffix(n int) string                     { return strings.Repeat("X", n) }
func (g genSchool) teacherClass(t, k int) int { return (t*3 + k*5) % g.classes }

// Generate writes a full export of a synthetic académie into dir.
func Generate(dir string, o GenOptions) (GenStats, error) {
	o.defaults()
	var st GenStats
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return st, err
	}
	schools := layout(o)
	names := newNamer(o.Seed)
	w := &genWriter{dir: dir, prefix: "ENT_Complet_" + o.Date, perFile: o.PerFile, stats: &st}

	// Établissements.
	if err := w.open("EtabEducNat", o.ISO8859_15); err != nil {
		return st, err
	}
	for _, s := range schools {
		classes := make([]string, s.classes)
		for c := range classes {
			classes[c] = s.classCode(c) + "$" + s.classCode(c)
		}
		w.add("addRequest", "categorieStructure", "EtabEducNat", s.jointure,
			attr("ENTStructureJointure", s.jointure), attr("ENTStructureUAI", s.uai),
			attr("ENTStructureNomCourant", fmt.Sprintf("%s$Établissement généré n° %d$Ville %d", s.label(), s.index+1, s.index%50+1)),
			attr("ENTStructureTypeStruct", s.typeCode()), attr("ENTStructureClasses", classes...))
		st.Schools++
		st.Classes += s.classes
	}
	if err := w.close(); err != nil {
		return st, err
	}
	if err := w.open("MatiereEducNat", false); err != nil {
		return st, err
	}
	for _, sub := range genSubjects {
		w.add("addRequest", "categorieMatiere", "MatEducNat", sub[0], attr("ENTMatJointure", sub[0]), attr("ENTLibelleMatiere", sub[1]))
	}
	if err := w.close(); err != nil {
		return st, err
	}
	// Pupils, then responsables, then staff: the order an export is read in.
	w.typ = "Eleve"
	for _, s := range schools {
		for i := 0; i < s.pupils; i++ {
			if err := w.next(); err != nil {
				return st, err
			}
			w.add("addRequest", "categoriePersonne", "Eleve", s.pupilID(i), pupilAttrs(s, i, names, 0)...)
			st.Pupils++
		}
	}
	if err := w.close(); err != nil {
		return st, err
	}
	w.typ = "PersRelEleve"
	for _, s := range schools {
		for i := 0; i < s.pupils; i++ {
			for k := 0; k < s.responsables(i); k++ {
				if err := w.next(); err != nil {
					return st, err
				}
				first, last := names.name(s.respID(i, k))
				w.add("addRequest", "categoriePersonne", "PersRelEleve", s.respID(i, k), attr("ENTPersonJointure", s.respID(i, k)),
					attr("sn", last), attr("givenName", first), attr("ENTAuxPersRelEleveEleve", s.pupilID(i)))
				st.Responsables++
			}
		}
	}
	if err := w.close(); err != nil {
		return st, err
	}
	w.typ = "PersEducNat"
	for _, s := range schools {
		for t := 0; t < s.teachers; t++ {
			if err := w.next(); err != nil {
				return st, err
			}
			w.add("addRequest", "categoriePersonne", "PersEducNat", s.teacherID(t), teacherAttrs(s, t, names, s)...)
			st.Teachers++
		}
		for i := 0; i < s.staff; i++ {
			if err := w.next(); err != nil {
				return st, err
			}
			first, last := names.name(s.staffID(i))
			code, label := "EDU", "EDUCATION"
			if i == 0 {
				code, label = "DIR", "DIRECTION"
			}
			w.add("addRequest", "categoriePersonne", "PersEducNat", s.staffID(i), attr("ENTPersonJointure", s.staffID(i)),
				attr("sn", last), attr("givenName", first), attr("ENTPersonStructRattach", s.jointure),
				attr("ENTPersonCategorieEnseignant", "N"), attr("ENTPersonFonctions", s.jointure+"$"+code+"$"+label+"$$"))
			st.Staff++
		}
	}
	return st, w.close()
}

// GenerateDelta writes a delta of the académie Generate made with the same options:
// percent of the pupils change class, as many teachers change school, a few
// pupils leave and as many arrive.
func GenerateDelta(dir string, o GenOptions, percent float64, date string) (GenStats, error) {
	o.defaults()
	var st GenStats
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return st, err
	}
	schools := layout(o)
	names := newNamer(o.Seed)
	w := &genWriter{dir: dir, prefix: "ENT_Delta_" + date, perFile: o.PerFile, stats: &st}
	every := max(1, int(100/percent))
	w.typ = "Eleve"
	for _, s := range schools {
		for i := 0; i < s.pupils; i++ {
			if (i+s.index)%every != 0 {
				continue
			}
			if err := w.next(); err != nil {
				return st, err
			}
			switch {
			case i%10 == 9:
				w.add("deleteRequest", "categoriePersonne", "Eleve", s.pupilID(i))
			default:
				// Moved to another class of the same school.
				w.add("modifyRequest", "categoriePersonne", "Eleve", s.pupilID(i),
					attr("ENTEleveClasses", s.jointure+"$"+s.classCode((i/25+1)%s.classes)))
			}
			st.Pupils++
		}
		// Newcomers, with a responsable already known (a sibling's).
		for n := 0; n < max(1, s.pupils/every/10); n++ {
			if err := w.next(); err != nil {
				return st, err
			}
			id := fmt.Sprintf("%s%d", "N"+s.jointure, n)
			w.add("addRequest", "categoriePersonne", "Eleve", id, pupilAttrs(s, n, names, 1, id)...)
			st.Pupils++
		}
	}
	if err := w.close(); err != nil {
		return st, err
	}
	w.typ = "PersEducNat"
	for _, s := range schools {
		next := schools[(s.index+1)%len(schools)]
		for t := 0; t < s.teachers; t++ {
			if (t+s.index)%every != 0 {
				continue
			}
			if err := w.next(); err != nil {
				return st, err
			}
			// Mutated to the next school, with its classes there.
			w.add("addRequest", "categoriePersonne", "PersEducNat", s.teacherID(t), teacherAttrs(s, t, names, next)...)
			st.Teachers++
		}
	}
	return st, w.close()
}

func pupilAttrs(s genSchool, i int, names *namer, shift int, id ...string) []Attr {
	j := s.pupilID(i)
	if len(id) > 0 {
		j = id[0]
	}
	first, last := names.name(j)
	var rel []string
	for k := 0; k < s.responsables(i); k++ {
		rel = append(rel, s.respID(i, k)+"$10$1$1$1$1")
	}
	return []Attr{attr("ENTPersonJointure", j), attr("sn", last), attr("givenName", first),
		attr("ENTPersonDateNaissance", fmt.Sprintf("%02d/%02d/%d", 1+i%28, 1+i%12, 2010+i%7)),
		attr("ENTPersonStructRattach", s.jointure), attr("ENTEleveClasses", s.jointure+"$"+s.classCode((i/25+shift)%s.classes)),
		attr("ENTElevePersRelEleve", rel...)}
}

func teacherAttrs(home genSchool, t int, names *namer, at genSchool) []Attr {
	first, last := names.name(home.teacherID(t))
	var cm []string
	for k := 0; k < 4; k++ {
		sub := genSubjects[(t+k)%len(genSubjects)][0]
		cm = append(cm, at.jointure+"$"+at.classCode(at.teacherClass(t, k))+"$"+sub)
	}
	return []Attr{attr("ENTPersonJointure", home.teacherID(t)), attr("sn", last), attr("givenName", first),
		attr("ENTPersonStructRattach", at.jointure), attr("ENTPersonCategorieEnseignant", "O"),
		attr("ENTPersonFonctions", at.jointure+"$ENS$ENSEIGNEMENT$L0201$ANGLAIS"), attr("ENTAuxEnsClassesMatieres", cm...)}
}

func attr(name string, values ...string) Attr { return Attr{Name: name, Values: values} }

// namer gives each jointure the same invented name in the full export and its deltas.
type namer struct {
	first, last []string
	seed        uint64
}

func newNamer(seed uint64) *namer {
	f, l := demo.SyntheticNames()
	return &namer{first: f, last: l, seed: seed}
}

func (n *namer) name(jointure string) (string, string) {
	var h uint64 = n.seed
	for i := 0; i < len(jointure); i++ {
		h = h*1099511628211 + uint64(jointure[i])
	}
	r := rand.New(rand.NewPCG(h, h^0x9e3779b97f4a7c15))
	return n.first[r.IntN(len(n.first))], n.last[r.IntN(len(n.last))]
}

// genWriter writes numbered ficAlimMENESR files of one type.
type genWriter struct {
	dir, prefix, typ string
	lastTyp          string
	perFile          int
	stats            *GenStats
	f                *os.File
	w                *bufio.Writer
	latin            bool
	inFile, number   int
	err              error
}

func (w *genWriter) open(typ string, latin bool) error {
	if typ != w.lastTyp {
		w.number = 0 // numbering starts again with each type
	}
	w.typ, w.lastTyp, w.latin = typ, typ, latin
	name := fmt.Sprintf("%s_%s_%04d.xml", w.prefix, typ, w.number)
	f, err := os.Create(filepath.Join(w.dir, name))
	if err != nil {
		return err
	}
	w.f, w.w, w.inFile = f, bufio.NewWriterSize(f, 256<<10), 0
	w.number++
	w.stats.Files = append(w.stats.Files, name)
	enc := "UTF-8"
	if latin {
		enc = "ISO-8859-15"
	}
	fmt.Fprintf(w.w, "<?xml version=\"1.0\" encoding=\"%s\"?>\n<!-- Export synthetique genere par preau demo aaf : aucune donnee reelle.\n versionAF: 2.0\n degre: 2D\n dateGenerationExport: %s -->\n<ficAlimMENESR>\n", enc, w.prefix[len(w.prefix)-8:])
	return nil
}

// next opens a file of the current type when none is open or the open one is full.
func (w *genWriter) next() error {
	if w.f != nil && w.inFile < w.perFile {
		return w.err
	}
	if err := w.close(); err != nil {
		return err
	}
	return w.open(w.typ, false)
}

func (w *genWriter) close() error {
	if w.f == nil {
		return w.err
	}
	w.w.WriteString("</ficAlimMENESR>\n")
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *genWriter) text(s string) {
	var sb strings.Builder
	xml.EscapeText(&sb, []byte(s))
	if !w.latin {
		w.w.WriteString(sb.String())
		return
	}
	for _, r := range sb.String() {
		if b, ok := charmap.ISO8859_15.EncodeRune(r); ok {
			w.w.WriteByte(b)
		} else {
			fmt.Fprintf(w.w, "&#%d;", r)
		}
	}
}

func (w *genWriter) add(op, opName, opValue, id string, attrs ...Attr) {
	w.inFile++
	fmt.Fprintf(w.w, "<%s><operationalAttributes><attr name=%q><value>%s</value></attr></operationalAttributes><identifier><id>", op, opName, opValue)
	w.text(id)
	w.w.WriteString("</id></identifier>")
	if op == "deleteRequest" {
		fmt.Fprintf(w.w, "</%s>\n", op)
		return
	}
	container, item := "attributes", "attr"
	if op == "modifyRequest" {
		container, item = "modifications", "modification"
	}
	fmt.Fprintf(w.w, "<%s>", container)
	for _, a := range attrs {
		if item == "modification" {
			fmt.Fprintf(w.w, "<%s name=%q operation=\"replace\">", item, a.Name)
		} else {
			fmt.Fprintf(w.w, "<%s name=%q>", item, a.Name)
		}
		for _, v := range a.Values {
			w.w.WriteString("<value>")
			w.text(v)
			w.w.WriteString("</value>")
		}
		if len(a.Values) == 0 {
			w.w.WriteString("<value/>")
		}
		fmt.Fprintf(w.w, "</%s>", item)
	}
	fmt.Fprintf(w.w, "</%s></%s>\n", container, op)
}
