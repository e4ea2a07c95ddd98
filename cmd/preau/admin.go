package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/rights"
)

const adminUsage = `Utilisation : preau admin <action> [options]

Actions :
  create-superadmin --first Prénom --last Nom [--email adresse] [--structure UAI]
        crée un super administrateur et affiche son identifiant et son code d'activation
  reset-password IDENTIFIANT [--password MOT]
        sans --password : délivre un nouveau code d'activation ; avec : fixe le mot de passe
  unlock IDENTIFIANT
        déverrouille un compte bloqué après trop d'essais
  close-year [--structure UAI]
        clôt l'année scolaire (d'un établissement, ou de tout le déploiement) : classes et
        groupes archivés, élèves détachés ; le prochain import construit la nouvelle année
  rotate-saml-key
        fait une nouvelle clé de signature SAML (l'ancienne reste 30 jours dans les
        métadonnées : donnez le nouveau certificat aux fournisseurs de service)
`

func admin(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, adminUsage)
		return errors.New("action manquante")
	}
	action, rest := args[0], args[1:]
	var first, last, email, uai, password string
	cfg, fs, err := parse("admin "+action, rest, func(fs *flag.FlagSet) {
		fs.StringVar(&first, "first", "", "prénom")
		fs.StringVar(&last, "last", "", "nom")
		fs.StringVar(&email, "email", "", "adresse électronique")
		fs.StringVar(&uai, "structure", "", "UAI de l'établissement de rattachement")
		fs.StringVar(&password, "password", "", "mot de passe à fixer")
	})
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	s := a.Services
	sys := actor.System("admin")
	person := func() (directory.Person, error) {
		if fs.NArg() != 1 {
			return directory.Person{}, errors.New("indiquez un identifiant")
		}
		p, err := s.Directory.PersonByLogin(ctx, fs.Arg(0))
		if errors.Is(err, actor.ErrNotFound) {
			return p, fmt.Errorf("aucun compte %q", fs.Arg(0))
		}
		return p, err
	}
	switch action {
	case "create-superadmin":
		if first == "" || last == "" {
			return errors.New("--first et --last sont obligatoires")
		}
		var structureID string
		if uai != "" {
			st, err := s.Directory.StructureByUAI(ctx, uai)
			if err != nil {
				return fmt.Errorf("établissement %s : %w", uai, err)
			}
			structureID = st.ID
		} else {
			// A deployment's own administrators belong to a structure of their own.
			st, err := deploymentStructure(ctx, s.Directory, sys)
			if err != nil {
				return err
			}
			structureID = st.ID
		}
		p, err := s.Directory.CreatePerson(ctx, sys, directory.PersonInput{FirstName: first, LastName: last, Email: email, Profile: directory.Personnel, StructureIDs: []string{structureID}})
		if err != nil {
			return err
		}
		if err := s.Rights.Grant(ctx, sys, p.ID, rights.SuperAdmin, ""); err != nil {
			return err
		}
		code, err := s.Accounts.IssueActivation(ctx, sys, p.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Super administrateur créé.\n  identifiant : %s\n  code d'activation : %s (à saisir sur la page « Première connexion »)\n", p.Login, code)
	case "reset-password":
		p, err := person()
		if err != nil {
			return err
		}
		if password != "" {
			if err := s.Accounts.SetPassword(ctx, sys, p.ID, password); err != nil {
				return err
			}
			fmt.Fprintf(out, "Mot de passe de %s changé.\n", p.Login)
			return nil
		}
		code, err := s.Accounts.IssueActivation(ctx, sys, p.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Nouveau code d'activation de %s : %s\n", p.Login, code)
	case "unlock":
		p, err := person()
		if err != nil {
			return err
		}
		if err := s.Accounts.Unlock(ctx, sys, p.ID); err != nil {
			return err
		}
		fmt.Fprintf(out, "Compte %s déverrouillé.\n", p.Login)
	case "close-year":
		var structureID string
		if uai != "" {
			st, err := s.Directory.StructureByUAI(ctx, uai)
			if err != nil {
				return fmt.Errorf("établissement %s : %w", uai, err)
			}
			structureID = st.ID
		}
		ro, err := s.AAF.CloseSchoolYear(ctx, sys, structureID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Année scolaire close : %d classes et %d groupes archivés, %d élèves détachés.\n", ro.Classes, ro.Groups, ro.Pupils)
	case "rotate-saml-key":
		if err := s.SAML.Rotate(ctx, sys); err != nil {
			return err
		}
		fmt.Fprintln(out, "Nouvelle clé de signature SAML faite ; le certificat est dans /saml/metadata.")
	default:
		fmt.Fprint(out, adminUsage)
		return fmt.Errorf("action inconnue : %s", action)
	}
	return nil
}

const deploymentExternalID = "PREAU-DEPLOIEMENT"

func deploymentStructure(ctx context.Context, dir *directory.Service, sys actor.Actor) (directory.Structure, error) {
	all, err := dir.Structures(ctx, nil)
	if err != nil {
		return directory.Structure{}, err
	}
	for _, st := range all {
		if st.ExternalID == deploymentExternalID {
			return st, nil
		}
	}
	return dir.CreateStructure(ctx, sys, directory.StructureInput{Kind: directory.KindCollectivite, Name: "Administration du déploiement", ExternalID: deploymentExternalID})
}
