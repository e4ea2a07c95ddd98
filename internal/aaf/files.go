package aaf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Kinds of exports.
const (
	KindFull  = "full"
	KindDelta = "delta"
)

// File types, in the order an export is processed: structures first, then what
// persons refer to, then pupils before the responsables and staff that name them.
var fileTypes = []string{"EtabEducNat", "MatiereEducNat", "MefEducNat", "Eleve", "PersRelEleve", "PersEducNat"}

func typeRank(t string) int {
	for i, x := range fileTypes {
		if x == t {
			return i
		}
	}
	return -1
}

// fileName matches <prefix>_Complet_<YYYYMMDD>_<Type>_<NNNN>.xml and its _Delta_
// twin; the prefix may itself contain underscores.
var fileName = regexp.MustCompile(`^(.+)_(Complet|Delta)_(\d{8})(?:_\d{6})?_(?:(?:1D|2D)_)?([A-Za-z]+)_(\d{1,6})\.xml$`)

// Source is one file of an export: a name in the national pattern and a way to read
// it (a file on disk, an uploaded archive member...).
type Source struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// FileSource reads a file on disk.
func FileSource(path string) Source {
	return Source{Name: filepath.Base(path), Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// DirSources lists the export files of a folder. Other files (the DTD, a README) are
// returned apart, to be shown in the report.
func DirSources(dir string) (files []Source, ignored []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if fileName.MatchString(e.Name()) {
			files = append(files, FileSource(filepath.Join(dir, e.Name())))
		} else {
			ignored = append(ignored, e.Name())
		}
	}
	if len(files) == 0 {
		return nil, ignored, fmt.Errorf("aucun fichier d'export AAF dans %s", dir)
	}
	return files, ignored, nil
}

// plannedFile is a source with what its name says.
type plannedFile struct {
	Source
	kind   string
	date   string
	typ    string
	number int
}

// ErrPlan is returned when the files do not make one export.
var ErrPlan = errors.New("fichiers AAF incohérents")

// plan sorts the files of one export in processing order and tells its kind. Deltas
// of several dates are applied in date order; a full export must be of one date.
func plan(files []Source) ([]plannedFile, string, error) {
	var out []plannedFile
	kinds := map[string]bool{}
	dates := map[string]bool{}
	for _, f := range files {
		m := fileName.FindStringSubmatch(f.Name)
		if m == nil {
			return nil, "", fmt.Errorf("%w : nom de fichier non conforme : %s", ErrPlan, f.Name)
		}
		typ := m[4]
		if typ == "MatEducNat" {
			typ = "MatiereEducNat"
		}
		if typeRank(typ) < 0 {
			return nil, "", fmt.Errorf("%w : type de fichier inconnu %q : %s", ErrPlan, m[4], f.Name)
		}
		n, _ := strconv.Atoi(m[5])
		kind := KindFull
		if m[2] == "Delta" {
			kind = KindDelta
		}
		kinds[kind] = true
		dates[m[3]] = true
		out = append(out, plannedFile{Source: f, kind: kind, date: m[3], typ: typ, number: n})
	}
	if len(out) == 0 {
		return nil, "", fmt.Errorf("%w : aucun fichier", ErrPlan)
	}
	if len(kinds) > 1 {
		return nil, "", fmt.Errorf("%w : export complet et delta mélangés ; importez-les séparément", ErrPlan)
	}
	kind := out[0].kind
	if kind == KindFull && len(dates) > 1 {
		return nil, "", fmt.Errorf("%w : exports complets de plusieurs dates ; importez-en un seul", ErrPlan)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.date != b.date {
			return a.date < b.date
		}
		if ra, rb := typeRank(a.typ), typeRank(b.typ); ra != rb {
			return ra < rb
		}
		if a.number != b.number {
			return a.number < b.number
		}
		return strings.Compare(a.Name, b.Name) < 0
	})
	return out, kind, nil
}
