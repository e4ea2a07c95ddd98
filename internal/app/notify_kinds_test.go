package app

import (
	"testing"

	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/platform/i18n"
)

// Every kind of notification that a service of the application registers has a
// name in French and in English: the centre, the preferences and the mails show it.
func TestNotificationKindsHaveNames(t *testing.T) {
	c := loadCatalog(t)
	kinds := notify.Kinds()
	if len(kinds) < 4 {
		t.Fatalf("%d kinds registered", len(kinds))
	}
	for _, k := range kinds {
		for _, lang := range i18n.Languages {
			if !c.Has(lang, k.Label) {
				t.Errorf("kind %s: %q missing in %s", k.ID, k.Label, lang)
			}
		}
		for _, ch := range notify.Channels {
			if !c.Has("fr", "notify.channel."+string(ch)) || !c.Has("en", "notify.channel."+string(ch)) {
				t.Errorf("channel %s has no name", ch)
			}
		}
	}
}
