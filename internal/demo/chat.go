package demo

import (
	"context"

	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// loadChat writes two discussions among the documented logins: the maths teacher's
// class discussion with 4e A (its pupils and teachers), and a parent writing to him.
func loadChat(ctx context.Context, c *chat.Service, teacher, pupil, parent directory.Person, class directory.Group) error {
	as := func(p directory.Person) actor.Actor {
		return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
	}
	group, err := c.Create(ctx, as(teacher), chat.NewConversation{Title: class.Name + " — Mathématiques", GroupIDs: []string{class.ID}})
	if err != nil {
		return err
	}
	direct, err := c.Create(ctx, as(parent), chat.NewConversation{PersonIDs: []string{teacher.ID}})
	if err != nil {
		return err
	}
	for _, m := range []struct {
		who  directory.Person
		conv string
		text string
	}{
		{teacher, group.ID, "Bonjour à tous ! Pour jeudi : exercices 3 et 4 page 112. Posez vos questions ici."},
		{pupil, group.ID, "Bonjour Monsieur, pour l'exercice 4, faut-il justifier chaque étape ?"},
		{teacher, group.ID, "Oui, Léa : une phrase par étape suffit."},
		{parent, direct.ID, "Bonjour Monsieur Durand, Léa sera absente lundi matin (rendez-vous médical). Pourra-t-elle rattraper le contrôle ?"},
		{teacher, direct.ID, "Bonjour Madame, merci de m'avoir prévenu. Elle le rattrapera mercredi à 13 h 30."},
	} {
		if _, err := c.Send(ctx, as(m.who), m.conv, m.text); err != nil {
			return err
		}
	}
	return nil
}
