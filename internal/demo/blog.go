package demo

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"

	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/rights"
)

func personActor(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

// blog makes the class blog of the demo class: kept by its teacher, written by its
// pupils, read by their parents, with comments moderated; one post with a picture and
// a parent's approved comment.
func (c demoCast) blog(ctx context.Context, dir *directory.Service, b *blog.Service) error {
	if b == nil || c.teacher.ID == "" || c.parent.ID == "" {
		return nil
	}
	teacher := personActor(c.teacher)
	bl, err := b.Create(ctx, teacher, blog.Input{StructureID: c.college, Title: "Le blog de la " + c.class.Name,
		Description: "Les projets, les sorties et les travaux de la classe.", Moderated: true})
	if err != nil {
		return err
	}
	groups, err := dir.Groups(ctx, c.college, directory.GroupClassProfile)
	if err != nil {
		return err
	}
	for _, g := range groups {
		level := map[string]rights.Level{directory.Eleve: rights.Contribute, directory.Responsable: rights.Read, directory.Enseignant: rights.Read}[g.Profile]
		if g.ClassID != c.class.ID || level == rights.None {
			continue
		}
		if err := b.Share(ctx, teacher, bl.ID, rights.Grantee{Kind: "group", ID: g.ID}, level); err != nil {
			return err
		}
	}
	// A picture: a blue sky over green grass, made here so that the demo needs no file.
	img := image.NewRGBA(image.Rect(0, 0, 480, 270))
	for y := 0; y < 270; y++ {
		for x := 0; x < 480; x++ {
			col := color.RGBA{0x8e, 0xc5, 0xff, 0xff}
			if y > 180 {
				col = color.RGBA{0x4c, 0x9a, 0x3b, 0xff}
			}
			img.Set(x, y, col)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	f, err := b.AddFile(ctx, teacher, bl.ID, "parc.png", &buf)
	if err != nil {
		return err
	}
	post, err := b.CreatePost(ctx, teacher, bl.ID, blog.PostInput{Title: "Sortie au parc de la Tête d'Or",
		Body: `<p>Jeudi, la classe a observé les arbres du parc pour le projet de SVT.</p><h2>Ce que nous avons vu</h2><ul><li>des platanes centenaires ;</li><li>les serres tropicales.</li></ul>` +
			`<figure><img src="/blogs/fichiers/` + f.ID + `" alt="Une pelouse sous un ciel bleu"><figcaption>Le parc au printemps</figcaption></figure>`})
	if err != nil {
		return err
	}
	cm, err := b.AddComment(ctx, personActor(c.parent), post.ID, "Merci pour ces photos, Léa nous a tout raconté !")
	if err != nil {
		return err
	}
	return b.ApproveComment(ctx, teacher, cm.ID)
}
