package demo

import (
	"context"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/notify"
)

// demoCast are the demo persons who find notifications waiting for them.
type demoCast struct {
	head, teacher, pupil, parent directory.Person
	class                        directory.Group
	college                      string
}

// notifications posts a few events, as the services would, so that the dashboard
// block, the badge and the centre have something to show. Their links lead to pages
// that exist without the other services.
func (c demoCast) notifications(ctx context.Context, n *notify.Service) error {
	if n == nil || c.parent.ID == "" || c.teacher.ID == "" {
		return nil
	}
	for _, e := range []notify.Event{
		{Kind: notify.KindPublication, Recipients: []string{c.pupil.ID, c.parent.ID, c.teacher.ID}, ActorID: c.head.ID,
			Title: "Réunion parents-professeurs de la " + c.class.Name + " le jeudi 3 décembre", Link: "/annuaire/groupes/" + c.class.ID, StructureID: c.college},
		{Kind: notify.KindMessage, Recipients: []string{c.parent.ID}, ActorID: c.teacher.ID,
			Title: "Sortie au musée des Confluences : autorisation à signer", Link: "/annuaire/personnes/" + c.teacher.ID, StructureID: c.college},
		{Kind: notify.KindMessage, Recipients: []string{c.teacher.ID}, ActorID: c.head.ID,
			Title: "Conseil de classe de la " + c.class.Name + " : ordre du jour", Link: "/annuaire/personnes/" + c.head.ID, StructureID: c.college},
		{Kind: notify.KindChat, Recipients: []string{c.pupil.ID}, ActorID: c.teacher.ID,
			Title: "Exercices 4 et 5 page 112 pour lundi", Link: "/annuaire/groupes/" + c.class.ID, StructureID: c.college},
	} {
		if err := n.Post(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
