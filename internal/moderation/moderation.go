// Package moderation is the shared shape of the one moderation queue: each service
// that takes reports (news, blogs, forums, messagerie, discussions) keeps its tables
// and its rules, and lists the open reports an actor may act on as Items; the web
// layer merges the sources registered in the application's wiring.
package moderation

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/preau-ent/preau/internal/platform/actor"
)

// Kinds of reported content.
const (
	KindNews        = "actualite"
	KindBlogPost    = "billet"
	KindBlogComment = "commentaire"
	KindForum       = "forum"
	KindMail        = "messagerie"
	KindChat        = "discussion"
)

// Kinds lists every kind, in the order the page shows them.
var Kinds = []string{KindNews, KindBlogPost, KindBlogComment, KindForum, KindMail, KindChat}

// Item is one reported content waiting for a decision, as its service lets the
// actor see it.
type Item struct {
	Source       string // the registered source, filled by Collect
	Kind         string // one of the Kind constants
	ReportID     string // what the source's Resolve takes
	StructureID  string
	Title        string // the content's title, subject or context (plain text)
	Excerpt      string // a short plain text of the content; empty when not shown here
	Author       string // who wrote the content, when the source tells
	ReporterName string // the (first) reporter
	Reporters    int    // how many reported it (at least 1)
	Reason       string // the reasons, one per line
	At           time.Time
	Link         string // where a moderator sees the content in place (a path)
	Note         bool   // the source keeps a moderator's note with the decision
	State        string // the content's state when it matters (news: draft, published...)
}

// Source is a service that takes reports.
type Source interface {
	// PendingReports lists at most limit open reports the actor may act on, newest
	// first; nothing (and no error) for someone who moderates nothing.
	PendingReports(ctx context.Context, a actor.Actor, limit int) ([]Item, error)
	// Resolve takes the content down (remove) or dismisses the report, audited.
	Resolve(ctx context.Context, a actor.Actor, reportID string, remove bool, note string) error
}

// Registry names the sources (the name goes into the decision's address).
type Registry map[string]Source

// Collect merges the open reports of every source, newest first; each source gives
// at most limit.
func (r Registry) Collect(ctx context.Context, a actor.Actor, limit int) ([]Item, error) {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Item
	for _, n := range names {
		items, err := r[n].PendingReports(ctx, a, limit)
		if err != nil {
			return nil, err
		}
		for i := range items {
			items[i].Source = n
		}
		out = append(out, items...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, nil
}

// Clip cuts a plain text to n runes on a word, with an ellipsis, spaces folded.
func Clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := string([]rune(s)[:n])
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.") + "…"
}

// ExcerptLen is the length of the excerpts the sources give.
const ExcerptLen = 300

// Scoper tells which structures an actor moderates (the rights service: their
// local administrators and moderators; all for super administrators).
type Scoper interface {
	ModeratedStructures(ctx context.Context, a actor.Actor) (all bool, structureIDs []string, err error)
}

// ScoperFunc is a function that tells which structures an actor moderates.
type ScoperFunc func(ctx context.Context, a actor.Actor) (all bool, structureIDs []string, err error)

// ModeratedStructures calls f.
func (f ScoperFunc) ModeratedStructures(ctx context.Context, a actor.Actor) (bool, []string, error) {
	return f(ctx, a)
}

// Where is the condition that keeps the rows whose column is a structure the actor
// moderates, with its arguments from $1; ok is false when they moderate nothing.
func Where(ctx context.Context, s Scoper, a actor.Actor, column string) (cond string, args []any, ok bool, err error) {
	all, sids, err := s.ModeratedStructures(ctx, a)
	if err != nil || (!all && len(sids) == 0) {
		return "", nil, false, err
	}
	cond, args = Scope(column, all, sids, 1)
	return cond, args, true, nil
}

// Scope is the condition that keeps the rows whose column is one of the structures
// (from argument $first on), and its arguments; empty when all.
func Scope(column string, all bool, structureIDs []string, first int) (string, []any) {
	if all {
		return "", nil
	}
	args := make([]any, len(structureIDs))
	marks := make([]string, len(structureIDs))
	for i, id := range structureIDs {
		args[i] = id
		marks[i] = "$" + strconv.Itoa(first+i)
	}
	return ` AND ` + column + ` IN (` + strings.Join(marks, ",") + `)`, args
}

// Merge folds the rows of one report each (newest first) into one item per
// ReportID, for sources whose reports are per reporter on the same content: the
// count of reporters, the reasons one per line, the newest date and reporter. It
// keeps at most limit items.
func Merge(rows []Item, limit int) []Item {
	var out []Item
	index := map[string]int{}
	for _, r := range rows {
		i, ok := index[r.ReportID]
		if !ok {
			if len(out) == limit {
				continue
			}
			first := r
			first.Reporters, first.Reason = 0, ""
			out = append(out, first)
			i = len(out) - 1
			index[r.ReportID] = i
		}
		out[i].Reporters++
		if r.Reason = strings.TrimSpace(r.Reason); r.Reason != "" {
			if out[i].Reason != "" {
				out[i].Reason += "\n"
			}
			out[i].Reason += r.Reason
		}
	}
	return out
}

// PersonName writes "first|last" (as the sources select it) the way the directory
// shows a person: "Léa MARTIN".
func PersonName(joined string) string {
	first, last, _ := strings.Cut(joined, "|")
	return strings.TrimSpace(first + " " + strings.ToUpper(last))
}
