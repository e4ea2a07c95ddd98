package demo

// Synthetic names: common French first and last names, combined at random. No real
// person is described anywhere in the demo.
var firstNames = []string{
	"Léa", "Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Rose", "Anna", "Mila",
	"Inès", "Ambre", "Julia", "Léna", "Zoé", "Manon", "Juliette", "Camille", "Lucie", "Sarah",
	"Gabriel", "Raphaël", "Léo", "Louis", "Lucas", "Adam", "Arthur", "Hugo", "Jules", "Maël",
	"Nathan", "Paul", "Tom", "Noah", "Ethan", "Sacha", "Théo", "Mohamed", "Aaron", "Timéo",
	"Yanis", "Nolan", "Samuel", "Maxime", "Clément", "Baptiste", "Noé", "Élise", "Margaux", "Anaïs",
}

var lastNames = []string{
	"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
	"Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
	"Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefebvre", "Faure", "André",
	"Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
	"Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
	"Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
	"Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
	"Martínez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
	"Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
	"Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
}

// SyntheticNames returns the invented first and last names the generators draw
// from (the AAF export generator among them): no real person's data.
func SyntheticNames() (first, last []string) { return firstNames, lastNames }
