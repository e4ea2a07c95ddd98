package aaf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
)

// A drop folder receives exports for scheduled imports. Each export is a sub-folder
// holding its files and, once the transfer is over, an empty file named ReadyMarker:
// a transfer in progress is never imported half-way. The watcher claims a ready
// export by moving it into ClaimedDir (a rename, atomic: of several instances
// watching the same folder, one wins), imports it, and moves it into DoneDir or
// FailedDir with the report's summary beside it.
const (
	ReadyMarker = "PRET"
	ClaimedDir  = "en-cours"
	DoneDir     = "traites"
	FailedDir   = "echecs"
)

// ImportReady imports, oldest first, every ready export of the drop folder, and
// returns their reports.
func (im *Importer) ImportReady(ctx context.Context, drop string) ([]*Report, error) {
	entries, err := os.ReadDir(drop)
	if err != nil {
		return nil, err
	}
	type ready struct {
		name string
		at   time.Time
	}
	var list []ready
	for _, e := range entries {
		if !e.IsDir() || e.Name() == ClaimedDir || e.Name() == DoneDir || e.Name() == FailedDir {
			continue
		}
		st, err := os.Stat(filepath.Join(drop, e.Name(), ReadyMarker))
		if err != nil {
			continue // not ready yet
		}
		list = append(list, ready{e.Name(), st.ModTime()})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].at.Before(list[j].at) })
	var reports []*Report
	for _, x := range list {
		if ctx.Err() != nil {
			return reports, ctx.Err()
		}
		rep, err := im.importDropped(ctx, drop, x.name)
		if rep != nil {
			reports = append(reports, rep)
		}
		if err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrPlan) && !errors.Is(err, os.ErrNotExist) {
			return reports, err
		}
	}
	return reports, nil
}

func (im *Importer) importDropped(ctx context.Context, drop, name string) (*Report, error) {
	for _, d := range []string{ClaimedDir, DoneDir, FailedDir} {
		if err := os.MkdirAll(filepath.Join(drop, d), 0o750); err != nil {
			return nil, err
		}
	}
	claimed := filepath.Join(drop, ClaimedDir, name)
	if err := os.Rename(filepath.Join(drop, name), claimed); err != nil {
		// Another instance claimed it first.
		return nil, fmt.Errorf("%w : %s déjà pris", os.ErrNotExist, name)
	}
	rep, err := im.ImportDir(ctx, actor.System("dépôt"), claimed)
	dest := DoneDir
	if err != nil {
		dest = FailedDir
		slog.Error("import AAF du dossier de dépôt", "export", name, "err", err)
	} else {
		slog.Info("import AAF du dossier de dépôt", "export", name, "créées", rep.Created, "modifiées", rep.Updated, "marquées", rep.Marked, "rejets", rep.Rejected)
	}
	final := filepath.Join(drop, dest, time.Now().Format("20060102-150405")+"-"+name)
	if merr := os.Rename(claimed, final); merr != nil {
		slog.Error("export AAF importé non déplacé", "export", name, "err", merr)
	} else if rep != nil {
		summary := fmt.Sprintf("rapport %s : %s\ncréées %d, modifiées %d, déplacées %d, marquées %d, rejetées %d\n%s\n",
			rep.ID, rep.Status, rep.Created, rep.Updated, rep.Moved, rep.Marked, rep.Rejected, rep.Error)
		if werr := os.WriteFile(filepath.Join(final, "RAPPORT.txt"), []byte(summary), 0o640); werr != nil {
			slog.Error("résumé d'import non écrit", "err", werr)
		}
	}
	return rep, err
}

// Watch imports the drop folder's ready exports every interval until ctx ends.
func (im *Importer) Watch(ctx context.Context, drop string, every time.Duration) {
	if err := os.MkdirAll(drop, 0o750); err != nil {
		slog.Error("dossier de dépôt AAF", "dossier", drop, "err", err)
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := im.ImportReady(ctx, drop); err != nil && ctx.Err() == nil {
			slog.Error("dossier de dépôt AAF", "dossier", drop, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
