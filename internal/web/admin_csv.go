package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/preau-ent/preau/internal/csvfeed"
	"github.com/preau-ent/preau/internal/directory"
)

// csvProblem is a problem of a CSV file with its message in the reader's language.
type csvProblem struct {
	Line    int
	Column  string
	Message string
}

type adminCSVData struct {
	Nav       adminNav
	Structure directory.Structure
	Columns   []string
	Previewed bool
	Preview   *csvfeed.Preview
	Problems  []csvProblem
	Content   string // the previewed file, sent back with the import button
}

// adminCSV shows the CSV import form with the documentation of its columns.
func (s *Server) adminCSV(w http.ResponseWriter, r *http.Request) {
	s.csvPage(w, r, http.StatusOK, nil, "")
}

func (s *Server) csvPage(w http.ResponseWriter, r *http.Request, status int, pv *csvfeed.Preview, content string) {
	st, nav, err := s.administered(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "admin.csv.title", nil)
	d := adminCSVData{Nav: nav, Structure: st, Columns: csvfeed.Columns, Previewed: pv != nil, Preview: pv}
	if pv != nil {
		for _, x := range pv.Problems {
			d.Problems = append(d.Problems, csvProblem{Line: x.Line, Column: x.Column, Message: p.L.T(x.Key, x.Args...)})
		}
		if len(pv.Problems) == 0 {
			d.Content = content
		}
	}
	p.Data = d
	s.render(w, r, status, "admin_csv", p)
}

// readCSV reads the uploaded file, or the previewed content sent back for the import.
func readCSV(r *http.Request) ([]byte, error) {
	if err := r.ParseMultipartForm(csvfeed.MaxSize); err != nil {
		return nil, err
	}
	if c := r.PostForm.Get("contenu"); c != "" {
		return []byte(c), nil
	}
	file, _, err := r.FormFile("fichier")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(io.LimitReader(file, csvfeed.MaxSize+1))
}

// adminCSVPreview shows what an uploaded file would do, and every problem with its
// line; nothing is written.
func (s *Server) adminCSVPreview(w http.ResponseWriter, r *http.Request) {
	data, err := readCSV(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pv, err := s.svc.CSV.Preview(r.Context(), actorOf(r), r.PathValue("id"), data)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.csvPage(w, r, http.StatusOK, pv, string(data))
}

// adminCSVImport imports a previewed file; if it has problems (it changed since, or
// the directory did), the preview comes back instead and nothing is written.
func (s *Server) adminCSVImport(w http.ResponseWriter, r *http.Request) {
	data, err := readCSV(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	pv, err := s.svc.CSV.Import(r.Context(), actorOf(r), id, data)
	if errors.Is(err, csvfeed.ErrProblems) {
		s.csvPage(w, r, http.StatusBadRequest, pv, string(data))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "admin.csv.done")
	http.Redirect(w, r, "/admin/structures/"+id, http.StatusSeeOther)
}
