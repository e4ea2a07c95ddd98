package aaf

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/orisano/gosax"
	"golang.org/x/text/encoding/charmap"
)

// Operations of a ficAlimMENESR record.
const (
	OpAdd    = "add"
	OpModify = "modify"
	OpDelete = "delete"
)

// Categories of records, from their operationalAttributes.
const (
	CatEleve        = "Eleve"
	CatPersRelEleve = "PersRelEleve"
	CatPersEducNat  = "PersEducNat"
	CatEtab         = "EtabEducNat"
	CatMatiere      = "MatEducNat"
	CatMef          = "MefEducNat"
)

// Attr is one attribute of a record with its values, in document order. Op is the
// modification's operation ("replace") in a modifyRequest, empty otherwise.
type Attr struct {
	Name   string
	Op     string
	Values []string
}

// Record is one addRequest, modifyRequest or deleteRequest.
type Record struct {
	Op       string
	Category string // from operationalAttributes; empty if the file does not say
	ID       string // identifier/id
	Attrs    []Attr
	Index    int // 1-based position of the record in its file
}

// Get returns the values of the first attribute named name.
func (r *Record) Get(name string) ([]string, bool) {
	for i := range r.Attrs {
		if r.Attrs[i].Name == name {
			return r.Attrs[i].Values, true
		}
	}
	return nil, false
}

// Reader reads a ficAlimMENESR file record by record: the memory it uses does not
// depend on the size of the file. The encoding declared in the XML prolog is honoured
// (UTF-8, ISO-8859-1, ISO-8859-15, Windows-1252).
//
// The tokens come from gosax, which finds the markup a word at a time: a full export
// of a million persons is half a gigabyte of XML, and encoding/xml, reading it a byte
// at a time, took the whole of one of the import's two cores (37 s of CPU). The
// checks a well-formed document needs and gosax leaves to its caller are made here:
// every end element closes the element the reader expects, element and attribute
// names are XML names, text and attribute values are valid UTF-8 made of XML
// characters, entities are the five XML ones or character references, comments and
// CDATA sections are what they say, and a file that ends inside the document is
// truncated.
type Reader struct {
	sax     *gosax.Reader
	err     error // the prolog's encoding cannot be read
	line    int   // newlines read so far, for error messages
	started bool
	closed  bool
	index   int
	header  map[string]string
	names   map[string]string // interned element and attribute names
	attrs   []xml.Attr        // the last start element's attributes, valid until the next token
}

// NewReader returns a reader of the ficAlimMENESR document in r.
func NewReader(r io.Reader) *Reader {
	rd := &Reader{header: map[string]string{}, names: map[string]string{}}
	in, err := decoded(r)
	if err != nil {
		rd.err = err
		in = strings.NewReader("")
	}
	rd.sax = gosax.NewReaderSize(in, 64<<10)
	rd.sax.EmitSelfClosingTag = true // <value/> is a start then an end, as for encoding/xml
	return rd
}

// decoded returns r as UTF-8, read through the decoder of the encoding its XML
// declaration names; without a declaration, r is UTF-8. A UTF-8 byte order mark is
// skipped.
func decoded(r io.Reader) (io.Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	head, _ := br.Peek(512) // a short file is all there is: read errors come with the tokens
	if bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
		head = head[3:]
	}
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return br, nil
	}
	decl, _, ok := bytes.Cut(head, []byte("?>"))
	if !ok {
		return br, nil // gosax reports the unfinished declaration
	}
	label, ok := declared(decl, "encoding")
	if !ok {
		return br, nil
	}
	return charsetReader(label, br)
}

// declared returns the value of the pseudo-attribute name of an XML declaration.
func declared(decl []byte, name string) (string, bool) {
	_, rest, ok := bytes.Cut(decl, []byte(name))
	if !ok {
		return "", false
	}
	rest = bytes.TrimLeft(rest, " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return "", false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
		return "", false
	}
	value, _, ok := bytes.Cut(rest[1:], rest[:1])
	return string(value), ok
}

// charsetReader decodes the single-byte encodings exports are seen in.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1":
		return charmap.ISO8859_1.NewDecoder().Reader(input), nil
	case "iso-8859-15", "iso8859-15", "iso_8859-15", "latin-9", "latin9", "l9":
		return charmap.ISO8859_15.NewDecoder().Reader(input), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(input), nil
	}
	return nil, fmt.Errorf("encodage %q non pris en charge", label)
}

// Header returns what the comments before the first record said, for the keys
// exports carry there (versionAF, versionSDET, codeAcademieExport, degre,
// dateGenerationExport); it is complete once Next has returned the first record.
func (r *Reader) Header() map[string]string { return r.header }

// ErrFormat wraps the reasons a file is not a readable ficAlimMENESR document.
var ErrFormat = errors.New("fichier AAF illisible")

func (r *Reader) fail(format string, args ...any) error {
	return fmt.Errorf("%w : ligne %d : %s", ErrFormat, r.line+1, fmt.Sprintf(format, args...))
}

// intern returns the name b as a string, the same string each time for the first
// few thousand names: element and attribute names repeat in every record.
func (r *Reader) intern(b []byte) string {
	if v, ok := r.names[string(b)]; ok {
		return v
	}
	s := string(b)
	if len(r.names) < 4096 {
		r.names[s] = s
	}
	return s
}

// errTruncated is a file that ends inside a tag, a comment or a declaration.
var errTruncated = errors.New("fichier tronqué")

// token returns the next token as encoding/xml's types: a start or end element, text
// (entities and CDATA sections resolved, valid characters only), a comment, or
// io.EOF at the end of the input. Processing instructions and the DOCTYPE are
// skipped: AAF files carry nothing there the import uses.
func (r *Reader) token() (xml.Token, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		e, err := r.sax.Event()
		if err == io.EOF {
			return nil, errTruncated
		}
		if err != nil {
			return nil, err
		}
		// The end gosax makes of a self-closing tag (<value/>) repeats the start's
		// bytes: its lines are counted once.
		selfClosed := e.Type() == gosax.EventEnd && !bytes.HasPrefix(e.Bytes, []byte("</"))
		if !selfClosed {
			r.line += bytes.Count(e.Bytes, []byte("\n"))
		}
		switch e.Type() {
		case gosax.EventStart:
			return r.startElement(e.Bytes)
		case gosax.EventEnd:
			if selfClosed {
				name, _ := gosax.Name(e.Bytes)
				return xml.EndElement{Name: r.name(name)}, nil
			}
			// </name>, nothing else but spaces before the >.
			name := bytes.TrimRight(e.Bytes[2:len(e.Bytes)-1], " \t\r\n")
			if !isName(name) {
				return nil, fmt.Errorf("balise fermante mal formée %q", e.Bytes)
			}
			return xml.EndElement{Name: r.name(name)}, nil
		case gosax.EventText:
			text, err := gosax.Unescape(e.Bytes)
			if err != nil {
				return nil, fmt.Errorf("entité XML invalide (%w)", err)
			}
			if bytes.Contains(text, []byte("]]>")) {
				return nil, errors.New("« ]]> » dans un texte")
			}
			return xml.CharData(text), checkText(text)
		case gosax.EventCData:
			text, ok := bytes.CutPrefix(e.Bytes, []byte("<![CDATA["))
			if !ok {
				return nil, fmt.Errorf("section mal formée %q", e.Bytes)
			}
			text = newlines(bytes.TrimSuffix(text, []byte("]]>")))
			return xml.CharData(text), checkText(text)
		case gosax.EventComment:
			text, ok := bytes.CutPrefix(e.Bytes, []byte("<!--"))
			text = bytes.TrimSuffix(text, []byte("-->"))
			if !ok || bytes.Contains(text, []byte("--")) {
				return nil, fmt.Errorf("commentaire mal formé %q", e.Bytes)
			}
			return xml.Comment(text), nil
		case gosax.EventEOF:
			return nil, io.EOF
		}
	}
}

// name splits a qualified name; AAF files use no namespace, and end checks none is there.
func (r *Reader) name(b []byte) xml.Name {
	if prefix, local, ok := bytes.Cut(b, []byte(":")); ok {
		return xml.Name{Space: string(prefix), Local: r.intern(local)}
	}
	return xml.Name{Local: r.intern(b)}
}

// startElement reads a start tag and its attributes.
func (r *Reader) startElement(b []byte) (xml.StartElement, error) {
	name, rest := gosax.Name(b)
	if !isName(name) {
		return xml.StartElement{}, fmt.Errorf("balise mal formée %q", b)
	}
	t := xml.StartElement{Name: r.name(name), Attr: r.attrs[:0]}
	for {
		a, more, err := gosax.NextAttribute(rest)
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("attribut mal formé (%w)", err)
		}
		if len(a.Key) == 0 && len(a.Value) == 0 && len(more) == 0 {
			r.attrs = t.Attr // only spaces were left; the slice is reused next time
			return t, nil
		}
		// gosax reads «="x"» as an attribute without a name, and a name without
		// «="..."» as a last attribute: both are errors here, not the end of the
		// attributes (which would drop those that follow).
		if !isName(a.Key) {
			return xml.StartElement{}, fmt.Errorf("nom d'attribut mal formé %q dans %q", a.Key, b)
		}
		if len(a.Value) < 2 || a.Value[len(a.Value)-1] != a.Value[0] {
			return xml.StartElement{}, fmt.Errorf("attribut %q sans valeur entre guillemets", a.Key)
		}
		value, err := gosax.Unescape(a.Value[1 : len(a.Value)-1])
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("entité XML invalide (%w)", err)
		}
		if bytes.IndexByte(value, '<') >= 0 {
			return xml.StartElement{}, fmt.Errorf("« < » dans la valeur de l'attribut %q", a.Key)
		}
		if err := checkText(value); err != nil {
			return xml.StartElement{}, err
		}
		// Interned too: the values of AAF's attributes are attribute names and operations.
		t.Attr = append(t.Attr, xml.Attr{Name: r.name(a.Key), Value: r.intern(value)})
		rest = more
	}
}

// isName says whether b is an XML name: a letter, "_" or ":" (or any character
// beyond ASCII) first, then those, digits, "-" and ".".
func isName(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= utf8.RuneSelf:
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// newlines normalizes line ends as XML does for the whole document: "\r\n" and a
// lone "\r" become "\n" (gosax does it for text and attribute values, not for CDATA
// sections).
func newlines(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
}

// checkText refuses what encoding/xml refuses in text: bytes that are not UTF-8 and
// characters outside XML's (control characters but tab and newlines, U+FFFE, U+FFFF).
func checkText(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < 0x20 {
			if c != '\t' && c != '\n' && c != '\r' {
				return fmt.Errorf("caractère interdit U+%04X", c)
			}
			i++
			continue
		}
		ch, size := utf8.DecodeRune(b[i:])
		if ch == utf8.RuneError && size == 1 {
			return errors.New("texte qui n'est pas de l'UTF-8 valide")
		}
		if ch == 0xFFFE || ch == 0xFFFF {
			return fmt.Errorf("caractère interdit U+%04X", ch)
		}
		i += size
	}
	return nil
}

// end checks that an end element closes the element expected.
func (r *Reader) end(t xml.EndElement, want string) error {
	if t.Name.Local != want || t.Name.Space != "" {
		return r.fail("</%s> ferme <%s>", t.Name.Local, want)
	}
	return nil
}

// Next returns the next record, or io.EOF after the last one once the document has
// been read to its end. Any XML error, a truncated file or an unexpected element is
// an error wrapping ErrFormat: the caller must not trust any part of such a file.
func (r *Reader) Next() (*Record, error) {
	for {
		tok, err := r.token()
		if err == io.EOF {
			switch {
			case !r.started:
				return nil, r.fail("aucun élément ficAlimMENESR")
			case !r.closed:
				return nil, r.fail("fichier tronqué : </ficAlimMENESR> manquant")
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, r.fail("%v", err)
		}
		switch t := tok.(type) {
		case xml.Comment:
			r.readHeader(t)
		case xml.StartElement:
			if r.closed {
				return nil, r.fail("élément %q après la fin du document", t.Name.Local)
			}
			if !r.started {
				if t.Name.Local != "ficAlimMENESR" {
					return nil, r.fail("élément racine %q au lieu de ficAlimMENESR", t.Name.Local)
				}
				r.started = true
				continue
			}
			var op string
			switch t.Name.Local {
			case "addRequest":
				op = OpAdd
			case "modifyRequest":
				op = OpModify
			case "deleteRequest":
				op = OpDelete
			default:
				return nil, r.fail("élément inattendu %q", t.Name.Local)
			}
			r.index++
			rec := &Record{Op: op, Index: r.index}
			if err := r.readRecord(rec, t.Name.Local); err != nil {
				return nil, err
			}
			return rec, nil
		case xml.EndElement:
			if !r.started || r.closed {
				return nil, r.fail("</%s> inattendu", t.Name.Local)
			}
			if err := r.end(t, "ficAlimMENESR"); err != nil {
				return nil, err
			}
			r.closed = true
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, r.fail("texte hors d'un enregistrement")
			}
		}
	}
}

// readHeader picks "key: value" or "key = value" pairs out of a header comment.
func (r *Reader) readHeader(c xml.Comment) {
	if r.started && r.index > 0 {
		return
	}
	for _, line := range strings.Split(string(c), "\n") {
		for _, sep := range []string{":", "="} {
			if k, v, ok := strings.Cut(line, sep); ok {
				k = strings.TrimSpace(k)
				switch k {
				case "versionAF", "versionSDET", "codeAcademieExport", "degre", "dateGenerationExport":
					r.header[k] = strings.TrimSpace(v)
				}
				break
			}
		}
	}
}

// readRecord reads the children of an addRequest, modifyRequest or deleteRequest up
// to its end element.
func (r *Reader) readRecord(rec *Record, end string) error {
	for {
		tok, err := r.token()
		if err != nil {
			if err == io.EOF {
				return r.fail("fichier tronqué dans un enregistrement")
			}
			return r.fail("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "operationalAttributes":
				attrs, err := r.readAttrs("operationalAttributes", "attr")
				if err != nil {
					return err
				}
				for _, a := range attrs {
					if strings.HasPrefix(a.Name, "categorie") && len(a.Values) > 0 {
						rec.Category = strings.TrimSpace(a.Values[0])
					}
				}
			case "identifier":
				id, err := r.readIdentifier()
				if err != nil {
					return err
				}
				rec.ID = id
			case "attributes":
				attrs, err := r.readAttrs("attributes", "attr")
				if err != nil {
					return err
				}
				rec.Attrs = append(rec.Attrs, attrs...)
			case "modifications":
				attrs, err := r.readAttrs("modifications", "modification")
				if err != nil {
					return err
				}
				rec.Attrs = append(rec.Attrs, attrs...)
			default:
				return r.fail("élément inattendu %q dans %s", t.Name.Local, end)
			}
		case xml.EndElement:
			return r.end(t, end)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return r.fail("texte inattendu dans %s", end)
			}
		}
	}
}

func (r *Reader) readIdentifier() (string, error) {
	var id string
	for {
		tok, err := r.token()
		if err != nil {
			return "", r.fail("%v", errEOF(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "id" {
				return "", r.fail("élément inattendu %q dans identifier", t.Name.Local)
			}
			v, err := r.readText("id")
			if err != nil {
				return "", err
			}
			id = strings.TrimSpace(v)
		case xml.EndElement:
			return id, r.end(t, "identifier")
		}
	}
}

// readAttrs reads <item name=".." [operation=".."]><value>..</value>...</item> children
// up to the end of the container.
func (r *Reader) readAttrs(container, item string) ([]Attr, error) {
	var out []Attr
	for {
		tok, err := r.token()
		if err != nil {
			return nil, r.fail("%v", errEOF(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != item {
				return nil, r.fail("élément inattendu %q dans %s", t.Name.Local, container)
			}
			a := Attr{}
			for _, x := range t.Attr {
				switch x.Name.Local {
				case "name":
					a.Name = strings.TrimSpace(x.Value)
				case "operation":
					a.Op = x.Value
				}
			}
			if err := r.readValues(&a, item); err != nil {
				return nil, err
			}
			out = append(out, a)
		case xml.EndElement:
			return out, r.end(t, container)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, r.fail("texte inattendu dans %s", container)
			}
		}
	}
}

func (r *Reader) readValues(a *Attr, item string) error {
	for {
		tok, err := r.token()
		if err != nil {
			return r.fail("%v", errEOF(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "value" {
				return r.fail("élément inattendu %q dans %s", t.Name.Local, item)
			}
			v, err := r.readText("value")
			if err != nil {
				return err
			}
			a.Values = append(a.Values, v)
		case xml.EndElement:
			return r.end(t, item)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return r.fail("texte inattendu dans %s", item)
			}
		}
	}
}

// readText returns the text of a simple element and consumes its end.
func (r *Reader) readText(name string) (string, error) {
	var text string
	for {
		tok, err := r.token()
		if err != nil {
			return "", r.fail("%v", errEOF(err))
		}
		switch t := tok.(type) {
		case xml.CharData:
			text += string(t)
		case xml.EndElement:
			return text, r.end(t, name)
		case xml.StartElement:
			return "", r.fail("élément inattendu %q dans une valeur", t.Name.Local)
		}
	}
}

func errEOF(err error) error {
	if err == io.EOF {
		return errors.New("fichier tronqué")
	}
	return err
}
