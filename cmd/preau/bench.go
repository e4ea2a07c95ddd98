package main

import (
	"context"
	"flag"
	"io"
	"os"
	"time"

	"github.com/preau-ent/preau/internal/bench"
)

func runBench(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("preau bench", flag.ContinueOnError)
	o := bench.Options{Out: out}
	fs.StringVar(&o.Database, "database", os.Getenv("PREAU_BENCH_DATABASE"), "base à remplir : chemin SQLite ou URL postgres:// d'une base vide (défaut : un fichier SQLite temporaire)")
	fs.IntVar(&o.Persons, "persons", 100000, "taille de l'annuaire généré")
	fs.IntVar(&o.Connections, "connections", 64, "connexions HTTP simultanées")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "durée de la mesure de charge")
	fs.IntVar(&o.Searches, "searches", 2000, "recherches dans l'annuaire")
	fs.IntVar(&o.Logins, "logins", 400, "connexions (mots de passe vérifiés)")
	cpuProfile := fs.String("cpuprofile", "", "écrit le profil CPU de la mesure de charge dans ce fichier")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		o.Profile = f
	}
	return bench.Run(ctx, o)
}
