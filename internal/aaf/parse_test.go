package aaf_test

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/aaf"
	"golang.org/x/text/encoding/charmap"
)

// readAll reads every record of body, or the first error.
func readAll(body string) ([]*aaf.Record, map[string]string, error) {
	r := aaf.NewReader(strings.NewReader(body))
	var recs []*aaf.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r.Header(), nil
		}
		if err != nil {
			return recs, r.Header(), err
		}
		recs = append(recs, rec)
	}
}

const prolog = `<?xml version="1.0" encoding="%s"?>
<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">
<!-- versionAF : 2.0
 codeAcademieExport = 10
-->
<ficAlimMENESR>
`

func TestReaderReadsWhatTheFormatAllows(t *testing.T) {
	body := strings.Replace(prolog, "%s", "ISO-8859-1", 1) + `<addRequest>
  <operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
  <identifier><id> E1 </id></identifier>
  <attributes>
    <attr name="ENTPersonNomPatro"><value>Lefèvre &amp; Gaël</value></attr>
    <attr name="ENTPersonPrenom"><value><![CDATA[Zoé <la>CRLFgrande]]></value></attr>
    <attr name="ENTEleveClasses"><value>0690001A$3&#xC8;ME A</value><value/></attr>
  </attributes>
</addRequest>
<modifyRequest><identifier><id>E2</id></identifier>
  <modifications><modification name="ENTPersonPrenom" operation='replace'><value>L&#233;a</value></modification></modifications>
</modifyRequest>
<deleteRequest><identifier><id>E3</id></identifier></deleteRequest>
</ficAlimMENESR>
`
	body = strings.Replace(body, "CRLF", "\r\n", 1) // a CDATA section's line end is normalized too
	latin, err := charmap.ISO8859_1.NewEncoder().String(body)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{"ISO-8859-1": latin, "UTF-8 avec BOM": "\xEF\xBB\xBF" + strings.Replace(body, "ISO-8859-1", "UTF-8", 1)} {
		recs, header, err := readAll(in)
		if err != nil {
			t.Fatalf("%s : %v", name, err)
		}
		want := []*aaf.Record{
			{Op: aaf.OpAdd, Category: "Eleve", ID: "E1", Index: 1, Attrs: []aaf.Attr{
				{Name: "ENTPersonNomPatro", Values: []string{"Lefèvre & Gaël"}},
				{Name: "ENTPersonPrenom", Values: []string{"Zoé <la>\ngrande"}},
				{Name: "ENTEleveClasses", Values: []string{"0690001A$3ÈME A", ""}},
			}},
			{Op: aaf.OpModify, ID: "E2", Index: 2, Attrs: []aaf.Attr{{Name: "ENTPersonPrenom", Op: "replace", Values: []string{"Léa"}}}},
			{Op: aaf.OpDelete, ID: "E3", Index: 3},
		}
		if !reflect.DeepEqual(recs, want) {
			for i := range recs {
				t.Errorf("%s : %+v", name, *recs[i])
			}
		}
		if header["versionAF"] != "2.0" || header["codeAcademieExport"] != "10" {
			t.Errorf("%s : en-tête %v", name, header)
		}
	}
}

func TestReaderRefusesMalformedFiles(t *testing.T) {
	start := strings.Replace(prolog, "%s", "UTF-8", 1)
	record := func(value string) string {
		return start + `<addRequest><identifier><id>E1</id></identifier><attributes><attr name="ENTPersonPrenom"><value>` +
			value + "</value></attr></attributes></addRequest>\n</ficAlimMENESR>\n"
	}
	for name, c := range map[string]struct{ body, says string }{
		"balise fermante croisée":         {start + "<addRequest><identifier><id>E1</identifier></id></addRequest></ficAlimMENESR>", "ligne 7 : </identifier> ferme <id>"},
		"UTF-8 invalide":                  {record("L\xe9a"), "UTF-8"},
		"caractère de contrôle":           {record("L\x01a"), "U+0001"},
		"entité inconnue":                 {record("L&eacute;a"), "ligne 7"},
		"esperluette seule":               {record("Léa & Zoé"), "ligne 7"},
		"attribut sans guillemet":         {start + "<addRequest><identifier><id>E1</id></identifier><attributes><attr name=Prenom></attr></attributes></addRequest></ficAlimMENESR>", "ligne 7"},
		"attribut sans valeur":            {start + "<addRequest><identifier><id>E1</id></identifier><attributes><attr name></attr></attributes></addRequest></ficAlimMENESR>", "sans valeur"},
		"tronqué dans une balise":         {start + "<addRequest><identifier><id>E1</id></identifier><attri", "tronqué"},
		"tronqué après un enregistrement": {record("Léa")[:len(record("Léa"))-len("</ficAlimMENESR>\n")], "tronqué"},
		"texte hors enregistrement":       {start + "bonjour</ficAlimMENESR>", "texte hors d'un enregistrement"},
		"élément inconnu":                 {start + "<addRequest><identifier><id>E1</id></identifier><attributs/></addRequest></ficAlimMENESR>", "élément inattendu"},
		"encodage inconnu":                {strings.Replace(start, "UTF-8", "EBCDIC", 1) + "</ficAlimMENESR>", "EBCDIC"},
		"balise sans nom":                 {start + "< addRequest></addRequest></ficAlimMENESR>", "ligne 7"},
		// An attribute without a name must not end the list quietly: what follows
		// (here the name of the attribute) would be lost and the values ignored.
		"attribut sans nom":           {start + `<addRequest><identifier><id>E1</id></identifier><attributes><attr ="" name="ENTEleveClasses"><value>3A</value></attr></attributes></addRequest></ficAlimMENESR>`, "nom d'attribut"},
		"deux valeurs":                {start + `<addRequest><identifier><id>E1</id></identifier><attributes><attr name="ENTEleveClasses"="x"><value>3A</value></attr></attributes></addRequest></ficAlimMENESR>`, "nom d'attribut"},
		"nom d'attribut invalide":     {start + "<addRequest><identifier><id>E1</id></identifier><attributes><attr na\x01me=\"ENTEleveClasses\"><value>3A</value></attr></attributes></addRequest></ficAlimMENESR>", "nom d'attribut"},
		"balise fermante encombrée":   {start + "<addRequest><identifier><id>E1</id></identifier></addRequest junk></ficAlimMENESR>", "balise fermante"},
		"< dans un attribut":          {start + `<addRequest><identifier><id>E1</id></identifier><attributes><attr name="a<b"><value>3A</value></attr></attributes></addRequest></ficAlimMENESR>`, "« < »"},
		"]]> dans un texte":           {record("a]]>b"), "]]>"},
		"-- dans un commentaire":      {start + "<!-- a -- b --></ficAlimMENESR>", "commentaire"},
		"faux commentaire":            {start + "<!-x--></ficAlimMENESR>", "commentaire"},
		"fausse section CDATA":        {record("<![x]]>"), "section"},
		"ligne après un élément vide": {start + "<addRequest><identifier><id>E1</id></identifier><attributes><attr\n\nname=\"ENTPersonPrenom\"/>\n<bad/></attributes></addRequest></ficAlimMENESR>", "ligne 10 : élément inattendu \"bad\""},
	} {
		recs, _, err := readAll(c.body)
		if !errors.Is(err, aaf.ErrFormat) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s : erreur %v (attendue : %q), %d enregistrements", name, err, c.says, len(recs))
		}
	}
}
