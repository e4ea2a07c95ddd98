package aaf

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// Job statuses.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is an import started from the console, running in the background.
type Job struct {
	ID, ActorLogin, Status string
	FilesDone, FilesTotal  int
	ReportID, Error        string
	CreatedAt, UpdatedAt   time.Time
}

// Start imports the export files of dir in the background and returns the job that
// follows it; dir is removed at the end. Super administrators only.
func (im *Importer) Start(ctx context.Context, a actor.Actor, dir string) (string, error) {
	if err := im.mustSuper(ctx, a); err != nil {
		return "", err
	}
	files, ignored, err := DirSources(dir)
	if err != nil {
		return "", err
	}
	if _, _, err := plan(files); err != nil {
		return "", err
	}
	id, now := ids.New(), im.opts.Now().UnixMilli()
	if _, err := im.db.ExecContext(ctx, `INSERT INTO aaf_jobs(id, actor_login, status, files_total, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$5)`,
		id, a.Login, JobRunning, len(files), now); err != nil {
		return "", err
	}
	// The import outlives the request that started it.
	bg := context.WithoutCancel(ctx)
	go func() {
		defer os.RemoveAll(dir)
		progress := func(done, total int) {
			im.live.Store(id, [2]int{done, total})
			if im.db.Dialect != db.Postgres {
				// SQLite has one writer, the import's own transaction: the
				// progress is kept in memory (a SQLite deployment is one instance).
				return
			}
			if _, err := im.db.ExecContext(bg, `UPDATE aaf_jobs SET files_done = $1, files_total = $2, updated_at = $3 WHERE id = $4`,
				done, total, time.Now().UnixMilli(), id); err != nil {
				slog.Warn("avancement de l'import non enregistré", "err", err)
			}
		}
		withProgress := *im
		withProgress.opts.Progress = progress
		rep, err := withProgress.Import(bg, a, dir, files)
		status, msg, reportID := JobDone, "", ""
		if rep != nil {
			rep.Ignored = ignored
			reportID = rep.ID
		}
		if err != nil {
			status, msg = JobFailed, err.Error()
		}
		var last [2]int
		if v, ok := im.live.Load(id); ok {
			last = v.([2]int)
		}
		if _, err := im.db.ExecContext(bg, `UPDATE aaf_jobs SET status = $1, error = $2, report_id = $3, updated_at = $4,
			files_done = $5, files_total = $6 WHERE id = $7`, status, clip(msg, 2000), reportID, time.Now().UnixMilli(), last[0], max(last[1], len(files)), id); err != nil {
			slog.Error("fin de l'import non enregistrée", "job", id, "err", err)
		}
		im.live.Delete(id)
	}()
	return id, nil
}

// Job returns a background import, for super administrators.
func (im *Importer) Job(ctx context.Context, a actor.Actor, id string) (Job, error) {
	if err := im.mustSuper(ctx, a); err != nil {
		return Job{}, err
	}
	var j Job
	var done, total, created, updated int64
	err := im.db.QueryRowContext(ctx, `SELECT id, actor_login, status, files_done, files_total, report_id, error, created_at, updated_at
		FROM aaf_jobs WHERE id = $1`, id).Scan(&j.ID, &j.ActorLogin, &j.Status, &done, &total, &j.ReportID, &j.Error, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return j, actor.ErrNotFound
	}
	j.FilesDone, j.FilesTotal = int(done), int(total)
	if v, ok := im.live.Load(id); ok && j.Status == JobRunning {
		p := v.([2]int)
		j.FilesDone, j.FilesTotal = p[0], p[1]
	}
	j.CreatedAt, j.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return j, err
}

func (im *Importer) mustSuper(ctx context.Context, a actor.Actor) error {
	ok, err := im.rights.IsSuperAdmin(ctx, a)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return nil
}
