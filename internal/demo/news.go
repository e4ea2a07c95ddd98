package demo

import (
	"context"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// demoNews writes the demo's Actualités and public sites: the Département's news
// for its collèges, the Région's for its lycées, the collège's own news (public and
// for parents), pages and contact information of the collège.
func demoNews(ctx context.Context, svc *news.Service, sys actor.Actor, region, dept, college directory.Structure, collegeHead directory.Person) error {
	head := actor.Actor{PersonID: collegeHead.ID, Login: collegeHead.Login, Profile: collegeHead.Profile}
	publish := func(a actor.Actor, th news.Thread, in news.Input) error {
		in.ThreadID = th.ID
		it, err := svc.Save(ctx, a, "", in)
		if err != nil {
			return err
		}
		return svc.Publish(ctx, a, it.ID)
	}
	dth, err := svc.CreateThread(ctx, sys, dept.ID, "Le Département informe")
	if err != nil {
		return err
	}
	if err := publish(sys, dth, news.Input{Title: "Transport scolaire : les horaires de la rentrée", Public: true,
		Body:   "<p>Les horaires des lignes de cars scolaires desservant les collèges du Département sont en ligne.</p><ul><li>Inscriptions jusqu'au 15 juillet</li><li>Carte de transport envoyée à domicile</li></ul>",
		Target: news.Target{Types: []string{news.TypeCollege}}}); err != nil {
		return err
	}
	rth, err := svc.CreateThread(ctx, sys, region.ID, "La Région informe")
	if err != nil {
		return err
	}
	if err := publish(sys, rth, news.Input{Title: "Manuels scolaires gratuits pour les lycéens", Public: true,
		Body:   "<p>La Région prend en charge les manuels scolaires de tous les lycéens. Renseignez-vous auprès du CDI de votre lycée.</p>",
		Target: news.Target{Types: []string{news.TypeLycee}}}); err != nil {
		return err
	}
	cth, err := svc.CreateThread(ctx, sys, college.ID, "Vie du collège")
	if err != nil {
		return err
	}
	if err := publish(head, cth, news.Input{Title: "Journée portes ouvertes", Public: true, Headline: true,
		Body: "<p>Le collège ouvre ses portes aux futurs élèves de 6<sup>e</sup> et à leurs familles <strong>samedi de 9 h à 12 h</strong>.</p>"}); err != nil {
		return err
	}
	if err := publish(head, cth, news.Input{Title: "Réunion parents-professeurs", ExpireAt: time.Now().AddDate(0, 2, 0),
		Body:   "<p>Les professeurs principaux reçoivent les familles jeudi à partir de 17 h. Prenez rendez-vous par la messagerie.</p>",
		Target: news.Target{Profiles: []string{directory.Responsable}}}); err != nil {
		return err
	}
	for i, pg := range []news.PageInput{
		{Title: "Restauration scolaire", Body: "<p>Le restaurant scolaire accueille les demi-pensionnaires du lundi au vendredi.</p><h2>Tarifs</h2><p>Les tarifs sont fixés par le Département selon le quotient familial.</p>"},
		{Title: "Transport scolaire", Body: "<p>Le collège est desservi par les lignes 12 et 37. Les horaires sont publiés par le Département.</p>"},
	} {
		pg.Published, pg.Position = true, i
		if _, err := svc.SavePage(ctx, head, college.ID, "", pg); err != nil {
			return err
		}
	}
	return svc.SaveInfo(ctx, head, college.ID, news.InfoInput{Address: "12 rue des Écoles\n69100 Villeurbanne", Phone: "04 72 00 00 00", Email: "ce.0690001a@ac-demo.fr",
		Hours: "Lundi au vendredi, 7 h 45 – 17 h 30 ; mercredi, 7 h 45 – 12 h 30", Practical: "<p>Le secrétariat est fermé le mercredi après-midi.</p>"})
}
