package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
)

// Settings are a person's hours, in the deployment's time zone (Europe/Paris).
type Settings struct {
	// Quiet hours, in minutes after midnight: no immediate mail goes out from
	// QuietStart until QuietEnd (across midnight when QuietStart > QuietEnd); what
	// waits then goes out grouped. QuietStart == QuietEnd: no quiet hours.
	QuietStart, QuietEnd int
	DigestHour           int // 0–23: when the daily digest goes out
}

// DefaultSettings: quiet from 20:00 to 07:00, digest at 18:00.
var DefaultSettings = Settings{QuietStart: 20 * 60, QuietEnd: 7 * 60, DigestHour: 18}

func settingsOrDefault(qs, qe, dh int) Settings {
	if qs < 0 || qe < 0 || dh < 0 {
		return DefaultSettings
	}
	return Settings{QuietStart: qs, QuietEnd: qe, DigestHour: dh}
}

// Quiet tells whether t falls in the quiet hours.
func (st Settings) Quiet(t time.Time, loc *time.Location) bool {
	if st.QuietStart == st.QuietEnd {
		return false
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if st.QuietStart < st.QuietEnd {
		return m >= st.QuietStart && m < st.QuietEnd
	}
	return m >= st.QuietStart || m < st.QuietEnd
}

// next returns the first time strictly after t at minute m after midnight, local
// time (time.Date normalizes the days that daylight saving time shortens).
func next(t time.Time, loc *time.Location, m int) time.Time {
	lt := t.In(loc)
	d := time.Date(lt.Year(), lt.Month(), lt.Day(), m/60, m%60, 0, 0, loc)
	if !d.After(lt) {
		d = time.Date(lt.Year(), lt.Month(), lt.Day()+1, m/60, m%60, 0, 0, loc)
	}
	return d
}

// due returns when the mail of an event posted at t may go out on a channel: an
// immediate mail at once, or at the end of the quiet hours; a digest at the next
// digest hour.
func (st Settings) due(c Channel, t time.Time, loc *time.Location) time.Time {
	switch {
	case c == Digest:
		return next(t, loc, st.DigestHour*60)
	case st.Quiet(t, loc):
		return next(t, loc, st.QuietEnd)
	}
	return t
}

// Validate checks the hours.
func (st Settings) Validate() error {
	switch {
	case st.QuietStart < 0 || st.QuietStart >= 24*60:
		return actor.Invalid("quiet_start", "notify.bad_time")
	case st.QuietEnd < 0 || st.QuietEnd >= 24*60:
		return actor.Invalid("quiet_end", "notify.bad_time")
	case st.DigestHour < 0 || st.DigestHour > 23:
		return actor.Invalid("digest_hour", "notify.bad_hour")
	}
	return nil
}

// Clock formats minutes after midnight as "20:00".
func Clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// ParseClock reads "20:00" (or "7:30") as minutes after midnight.
func ParseClock(s string) (int, bool) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// Preferences are a person's choices: a channel per kind, and their hours.
type Preferences struct {
	Channels map[string]Channel // kind id → channel (defaults filled in)
	Settings Settings
}

// Preferences returns the actor's preferences, defaults filled in.
func (s *Service) Preferences(ctx context.Context, a actor.Actor) (Preferences, error) {
	if a.PersonID == "" {
		return Preferences{}, actor.ErrForbidden
	}
	p := Preferences{Channels: map[string]Channel{}, Settings: DefaultSettings}
	for _, k := range Kinds() {
		p.Channels[k.ID] = k.DefaultFor(a.Profile)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT kind, channel FROM notify_prefs WHERE person_id = $1`, a.PersonID)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, channel string
		if err := rows.Scan(&kind, &channel); err != nil {
			return p, err
		}
		if _, ok := KindOf(kind); ok && Channel(channel).Valid() {
			p.Channels[kind] = Channel(channel)
		}
	}
	if err := rows.Err(); err != nil {
		return p, err
	}
	err = s.db.QueryRowContext(ctx, `SELECT quiet_start, quiet_end, digest_hour FROM notify_settings WHERE person_id = $1`, a.PersonID).
		Scan(&p.Settings.QuietStart, &p.Settings.QuietEnd, &p.Settings.DigestHour)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, err
	}
	return p, nil
}

// SavePreferences stores the actor's preferences: the channels given (kinds left
// out keep theirs) and the hours. Mails already waiting are rescheduled with the new
// hours and channels: a parent who turns a kind to the ENT only at 19:55 gets no mail
// for it at 07:00.
func (s *Service) SavePreferences(ctx context.Context, a actor.Actor, p Preferences) error {
	if a.PersonID == "" {
		return actor.ErrForbidden
	}
	for kind, c := range p.Channels {
		if _, ok := KindOf(kind); !ok {
			return actor.Invalid("kind", "notify.bad_kind")
		}
		if !c.Valid() {
			return actor.Invalid(kind, "notify.bad_channel")
		}
	}
	if err := p.Settings.Validate(); err != nil {
		return err
	}
	now := s.cfg.Now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for kind, c := range p.Channels {
			if _, err := tx.ExecContext(ctx, `DELETE FROM notify_prefs WHERE person_id = $1 AND kind = $2`, a.PersonID, kind); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO notify_prefs(person_id, kind, channel) VALUES ($1,$2,$3)`, a.PersonID, kind, string(c)); err != nil {
				return err
			}
		}
		st := p.Settings
		if _, err := tx.ExecContext(ctx, `DELETE FROM notify_settings WHERE person_id = $1`, a.PersonID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_settings(person_id, quiet_start, quiet_end, digest_hour, updated_at) VALUES ($1,$2,$3,$4,$5)`,
			a.PersonID, st.QuietStart, st.QuietEnd, st.DigestHour, now.UnixMilli()); err != nil {
			return err
		}
		return s.reschedule(ctx, tx, a.PersonID, p, now)
	})
}

// reschedule recomputes when the person's waiting mails go out.
func (s *Service) reschedule(ctx context.Context, tx *sql.Tx, personID string, p Preferences, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT i.event_id, i.created_at, e.kind FROM notify_inbox i JOIN notify_events e ON e.id = i.event_id
		WHERE i.person_id = $1 AND i.mail_due > 0`, personID)
	if err != nil {
		return err
	}
	type pending struct {
		id      string
		created int64
		kind    string
	}
	var list []pending
	for rows.Next() {
		var x pending
		if err := rows.Scan(&x.id, &x.created, &x.kind); err != nil {
			rows.Close()
			return err
		}
		list = append(list, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range list {
		c, ok := p.Channels[x.kind]
		if !ok {
			continue
		}
		mailKind, due := "", int64(0)
		if c.Mailed() {
			// A waiting immediate mail goes out now, or when the new quiet hours end; a
			// digest entry at the new digest hour after its event.
			at := now
			if c == Digest {
				at = time.UnixMilli(x.created)
			}
			mailKind, due = string(c), p.Settings.due(c, at, s.cfg.Location).UnixMilli()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notify_inbox SET mail = $1, mail_due = $2 WHERE person_id = $3 AND event_id = $4 AND mail_due > 0`,
			mailKind, due, personID, x.id); err != nil {
			return err
		}
	}
	return nil
}
