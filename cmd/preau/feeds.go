package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/platform/actor"
)

const importUsage = `Utilisation : preau import aaf [options] DOSSIER

Importe l'export AAF (complet ou delta) d'un dossier : fichiers
<préfixe>_Complet|Delta_<AAAAMMJJ>_<Type>_<NNNN>.xml. L'import est tout ou rien :
un fichier illisible n'a aucun effet ; un enregistrement erroné est rejeté avec sa
raison et le reste est importé. Le rapport est affiché et conservé.
`

// importCmd runs "preau import aaf FOLDER".
func importCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "aaf" {
		fmt.Fprint(out, importUsage)
		return errors.New("indiquez « aaf » et un dossier")
	}
	cfg, fs, err := parse("import aaf", args[1:], nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprint(out, importUsage)
		return errors.New("indiquez un dossier")
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	im := aaf.New(a.DB, a.Services.Directory, a.Services.Audit, a.Services.Rights, aaf.Options{Grace: cfg.AAFGrace, PurgeAfter: cfg.AAFPurge,
		Progress: func(done, total int) { fmt.Fprintf(out, "  fichier %d/%d lu\n", done, total) }})
	rep, err := im.ImportDir(ctx, actor.System("import"), fs.Arg(0))
	if rep != nil {
		printReport(out, rep)
	}
	return err
}

func printReport(out io.Writer, r *aaf.Report) {
	status := "réussi"
	if r.Status != aaf.StatusOK {
		status = "échoué, aucune modification : " + r.Error
	}
	kind := r.Kind
	if kind == aaf.KindFull {
		kind = "complet"
	}
	fmt.Fprintf(out, "Import AAF %s (%s) : %s en %s\n", kind, r.Source, status, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	// "label : count" throughout: a count before its noun would need the singular for 0 and 1.
	fmt.Fprintf(out, "  établissements créés : %d ; modifiés : %d ; classes créées : %d ; groupes créés : %d ; matières créées : %d\n",
		r.StructuresCreated, r.StructuresUpdated, r.ClassesCreated, r.GroupsCreated, r.SubjectsCreated)
	fmt.Fprintf(out, "  personnes créées : %d ; modifiées : %d (changements d'établissement : %d) ; inchangées : %d ; rétablies : %d\n",
		r.Created, r.Updated, r.Moved, r.Unchanged, r.Restored)
	fmt.Fprintf(out, "  marquées pour suppression : %d ; accès retiré : %d ; supprimées : %d ; liens responsable-élève : %d\n",
		r.Marked, r.AccessEnded, r.Purged, r.Links)
	fmt.Fprintf(out, "  enregistrements rejetés : %d ; avertissements : %d\n", r.Rejected, r.Warnings)
	if len(r.Unknown) > 0 {
		fmt.Fprintf(out, "  attributs inconnus : %s\n", strings.Join(r.UnknownNames(), ", "))
	}
	for i, x := range r.Issues {
		if i == 50 {
			fmt.Fprintf(out, "  … %d autres (voir le rapport dans la console d'administration)\n", len(r.Issues)-50)
			break
		}
		where := x.File
		if x.Record > 0 {
			where = fmt.Sprintf("%s, enregistrement %d", x.File, x.Record)
		}
		label := "rejet"
		if x.Severity == aaf.SeverityWarning {
			label = "avertissement"
		}
		fmt.Fprintf(out, "  %s [%s] %s : %s\n", label, where, x.Jointure, x.Reason)
	}
}

// demoAAF runs "preau demo aaf": it writes a synthetic académie's export files.
func demoAAF(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("preau demo aaf", flag.ContinueOnError)
	var o aaf.GenOptions
	var dir, deltaDir, date string
	var percent float64
	fs.IntVar(&o.Persons, "persons", 10000, "nombre de personnes (élèves, responsables, enseignants, personnels)")
	fs.IntVar(&o.Schools, "schools", 0, "nombre d'établissements (défaut : un pour 2 000 personnes)")
	fs.Uint64Var(&o.Seed, "seed", 1, "graine : même graine, même académie")
	fs.StringVar(&dir, "out", "aaf-demo", "dossier de l'export complet")
	fs.StringVar(&deltaDir, "delta", "", "écrit aussi un delta dans ce dossier")
	fs.Float64Var(&percent, "delta-percent", 1, "part des élèves et enseignants que le delta change, en %")
	fs.StringVar(&date, "delta-date", "20260915", "date du delta (AAAAMMJJ)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := aaf.Generate(dir, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Export complet écrit dans %s : %d établissements, %d classes, %d élèves, %d responsables, %d enseignants, %d personnels (%d fichiers).\n",
		dir, st.Schools, st.Classes, st.Pupils, st.Responsables, st.Teachers, st.Staff, len(st.Files))
	if deltaDir != "" {
		ds, err := aaf.GenerateDelta(deltaDir, o, percent, date)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Delta écrit dans %s : %d enregistrements d'élèves, %d mutations d'enseignants.\n", deltaDir, ds.Pupils, ds.Teachers)
	}
	fmt.Fprintln(out, "Données entièrement synthétiques.")
	return nil
}
