package apptest

import (
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/rights"
)

// Partners are the collectivités above the fixture's schools: a Région with a
// Département below it; the collège hangs from the Département, the lycée from the
// Région, as their funding goes. Each has a local administrator (profile Collectivite).
type Partners struct {
	Region, Departement           directory.Structure
	RegionAdmin, DepartementAdmin directory.Person
}

// Partners creates the Région and the Département and hangs the schools below them.
func (k *Kit) Partners() Partners {
	k.T.Helper()
	s := k.App.Services
	var p Partners
	var err error
	p.Region, err = s.Directory.CreateStructure(k.Ctx, k.Sys, directory.StructureInput{Kind: directory.KindRegion, Name: "Région Auvergne-Rhône-Alpes"})
	k.must(err)
	p.Departement, err = s.Directory.CreateStructure(k.Ctx, k.Sys, directory.StructureInput{Kind: directory.KindDepartement, Name: "Département du Rhône", ParentID: p.Region.ID})
	k.must(err)
	for _, x := range []struct {
		st     *directory.Structure
		parent string
	}{{&k.School.College, p.Departement.ID}, {&k.School.Lycee, p.Region.ID}} {
		st := *x.st
		k.must(s.Directory.UpdateStructure(k.Ctx, k.Sys, st.ID, directory.StructureInput{ParentID: x.parent, Kind: st.Kind, UAI: st.UAI, Name: st.Name, City: st.City, Type: st.Type}))
		x.st.ParentID = x.parent
	}
	p.RegionAdmin = k.Person("Rémi", "Région", directory.Collectivite, p.Region.ID)
	p.DepartementAdmin = k.Person("Denise", "Département", directory.Collectivite, p.Departement.ID)
	k.must(s.Rights.Grant(k.Ctx, k.Sys, p.RegionAdmin.ID, rights.LocalAdmin, p.Region.ID))
	k.must(s.Rights.Grant(k.Ctx, k.Sys, p.DepartementAdmin.ID, rights.LocalAdmin, p.Departement.ID))
	return p
}
