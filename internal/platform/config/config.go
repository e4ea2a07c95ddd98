// Package config reads Préau's settings from flags, with PREAU_* environment
// variables as their defaults, so that the same binary runs from a terminal, a
// systemd unit or a container without a configuration file.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration.
type Config struct {
	Addr             string        // PREAU_ADDR: listen address
	DataDir          string        // PREAU_DATA: the one data folder (SQLite file, mail spool, files)
	Database         string        // PREAU_DATABASE: SQLite path or postgres:// URL; default DataDir/preau.db
	BaseHost         string        // PREAU_BASE_HOST: the default portal's host; schools get <uai>.<base host>
	Name             string        // PREAU_NAME: the deployment's name
	SecureCookies    bool          // PREAU_SECURE_COOKIES: set behind HTTPS (always in production)
	TrustProxy       bool          // PREAU_TRUST_PROXY: take the client address from X-Forwarded-For
	SessionIdle      time.Duration // PREAU_SESSION_IDLE
	MaxInflight      int           // PREAU_MAX_INFLIGHT: requests served at once before the waiting page
	SMTPHost         string        // PREAU_SMTP_HOST: without it, mails go to DataDir/mail-spool
	SMTPPort         int           // PREAU_SMTP_PORT
	SMTPUser         string        // PREAU_SMTP_USER
	SMTPPassword     string        // PREAU_SMTP_PASSWORD
	MailFrom         string        // PREAU_MAIL_FROM
	LogLevel         string        // PREAU_LOG_LEVEL: debug, info, warn, error
	LogFormat        string        // PREAU_LOG_FORMAT: text or json
	AAFDrop          string        // PREAU_AAF_DROP: folder watched for AAF exports to import ("" : none)
	AAFGrace         time.Duration // PREAU_AAF_GRACE: a person missing from the exports keeps access this long
	AAFPurge         time.Duration // PREAU_AAF_PURGE: and is deleted this long after losing it
	GARIDEnt         string        // PREAU_GAR_ID_ENT: the ENT's identifier at the GAR (idEnt, released to the GAR connector)
	MailAttachmentMB int           // PREAU_MAIL_ATTACHMENT_MB: largest attachment, and attachments of one message together
	MailQuotaMB      int           // PREAU_MAIL_QUOTA_MB: what one person sends and keeps in the messagerie
	ScanCommand      string        // PREAU_SCAN_COMMAND: checks each attachment, the file on stdin; non-zero exit refuses it

	// NotifyRetention is PREAU_NOTIFY_RETENTION: notifications older than this are deleted.
	NotifyRetention time.Duration
	// PublicURL is PREAU_PUBLIC_URL: the portal's address in e-mails ("" : made from
	// the base host and the listen port, https behind secure cookies).
	PublicURL string
	// SecretKey is PREAU_SECRET_KEY: 32 bytes in base64, which encrypt secrets stored in
	// the database (the OpenID Connect and SAML signing keys). Without it, a key is made once in
	// DataDir/secret.key (fine for one instance; several instances must share one key).
	SecretKey string
}

// Flags registers the configuration's flags on fs; call Finish after fs.Parse.
func Flags(fs *flag.FlagSet) *Config {
	c := &Config{}
	fs.StringVar(&c.Addr, "addr", env("PREAU_ADDR", "127.0.0.1:8080"), "adresse d'écoute (PREAU_ADDR)")
	fs.StringVar(&c.DataDir, "data", env("PREAU_DATA", "preau-data"), "dossier des données (PREAU_DATA)")
	fs.StringVar(&c.Database, "database", env("PREAU_DATABASE", ""), "base de données : chemin SQLite ou URL postgres:// (PREAU_DATABASE ; défaut : <data>/preau.db)")
	fs.StringVar(&c.BaseHost, "base-host", env("PREAU_BASE_HOST", "localhost"), "nom d'hôte du portail par défaut (PREAU_BASE_HOST)")
	fs.StringVar(&c.Name, "name", env("PREAU_NAME", "Préau"), "nom du déploiement (PREAU_NAME)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envBool("PREAU_SECURE_COOKIES", false), "cookies Secure, derrière HTTPS (PREAU_SECURE_COOKIES)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", envBool("PREAU_TRUST_PROXY", false), "adresse du client lue dans X-Forwarded-For (PREAU_TRUST_PROXY)")
	fs.DurationVar(&c.SessionIdle, "session-idle", envDuration("PREAU_SESSION_IDLE", 60*time.Minute), "durée d'inactivité qui ferme une session (PREAU_SESSION_IDLE)")
	fs.IntVar(&c.MaxInflight, "max-inflight", envInt("PREAU_MAX_INFLIGHT", 512), "requêtes servies en même temps avant la page d'attente (PREAU_MAX_INFLIGHT)")
	fs.StringVar(&c.SMTPHost, "smtp-host", env("PREAU_SMTP_HOST", ""), "serveur SMTP (PREAU_SMTP_HOST ; sans lui, les courriels vont dans <data>/mail-spool)")
	fs.IntVar(&c.SMTPPort, "smtp-port", envInt("PREAU_SMTP_PORT", 587), "port SMTP (PREAU_SMTP_PORT)")
	fs.StringVar(&c.SMTPUser, "smtp-user", env("PREAU_SMTP_USER", ""), "utilisateur SMTP (PREAU_SMTP_USER)")
	fs.StringVar(&c.SMTPPassword, "smtp-password", env("PREAU_SMTP_PASSWORD", ""), "mot de passe SMTP (PREAU_SMTP_PASSWORD)")
	fs.StringVar(&c.MailFrom, "mail-from", env("PREAU_MAIL_FROM", "ne-pas-repondre@localhost"), "expéditeur des courriels (PREAU_MAIL_FROM)")
	fs.StringVar(&c.LogLevel, "log-level", env("PREAU_LOG_LEVEL", "info"), "niveau de journalisation (PREAU_LOG_LEVEL)")
	fs.StringVar(&c.SecretKey, "secret-key", env("PREAU_SECRET_KEY", ""), "clé secrète du déploiement, 32 octets en base64 (PREAU_SECRET_KEY ; défaut : <data>/secret.key, créée au premier démarrage)")
	fs.StringVar(&c.LogFormat, "log-format", env("PREAU_LOG_FORMAT", "text"), "format des journaux : text ou json (PREAU_LOG_FORMAT)")
	fs.StringVar(&c.AAFDrop, "aaf-drop", env("PREAU_AAF_DROP", ""), "dossier de dépôt surveillé des exports AAF à importer (PREAU_AAF_DROP)")
	fs.DurationVar(&c.AAFGrace, "aaf-grace", envDuration("PREAU_AAF_GRACE", 90*24*time.Hour), "délai d'accès d'une personne absente des exports AAF (PREAU_AAF_GRACE)")
	fs.DurationVar(&c.AAFPurge, "aaf-purge", envDuration("PREAU_AAF_PURGE", 90*24*time.Hour), "délai de suppression après la fin d'accès (PREAU_AAF_PURGE)")
	fs.StringVar(&c.GARIDEnt, "gar-id-ent", env("PREAU_GAR_ID_ENT", ""), "identifiant de l'ENT auprès du GAR, attribut idEnt (PREAU_GAR_ID_ENT)")
	fs.IntVar(&c.MailAttachmentMB, "mail-attachment-mb", envInt("PREAU_MAIL_ATTACHMENT_MB", 20), "taille maximale des pièces jointes d'un message, en Mio (PREAU_MAIL_ATTACHMENT_MB)")
	fs.IntVar(&c.MailQuotaMB, "mail-quota-mb", envInt("PREAU_MAIL_QUOTA_MB", 100), "quota de messagerie par personne, en Mio (PREAU_MAIL_QUOTA_MB)")
	fs.StringVar(&c.ScanCommand, "scan-command", env("PREAU_SCAN_COMMAND", ""), "commande d'analyse des pièces jointes, fichier sur l'entrée standard ; code de sortie non nul = refus (PREAU_SCAN_COMMAND)")
	fs.DurationVar(&c.NotifyRetention, "notify-retention", envDuration("PREAU_NOTIFY_RETENTION", 365*24*time.Hour), "durée de conservation des notifications (PREAU_NOTIFY_RETENTION)")
	fs.StringVar(&c.PublicURL, "public-url", env("PREAU_PUBLIC_URL", ""), "adresse publique du portail, dans les courriels (PREAU_PUBLIC_URL ; défaut : http://<base host>:<port>)")
	return c
}

// PortalURL is the portal's address for links in e-mails: PublicURL, or one made
// from the base host (with the listen port unless it is 80 or 443).
func (c *Config) PortalURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	scheme := "http://"
	if c.SecureCookies {
		scheme = "https://"
	}
	port := ""
	if i := strings.LastIndex(c.Addr, ":"); i >= 0 && c.Addr[i+1:] != "80" && c.Addr[i+1:] != "443" && !c.SecureCookies {
		port = c.Addr[i:]
	}
	return scheme + c.BaseHost + port
}

// Finish fills derived defaults.
func (c *Config) Finish() {
	if c.Database == "" {
		c.Database = filepath.Join(c.DataDir, "preau.db")
	}
}

func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func envBool(k string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(k)); err == nil {
		return b
	}
	return def
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return n
	}
	return def
}

func envDuration(k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(k)); err == nil {
		return d
	}
	return def
}

// LoadSecretKey returns the deployment's secret key: PREAU_SECRET_KEY, or the one kept
// in DataDir/secret.key, made on first use (readable by the owner only).
func (c *Config) LoadSecretKey() ([]byte, error) {
	decode := func(v, from string) ([]byte, error) {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s : 32 octets en base64 attendus", from)
		}
		return k, nil
	}
	if c.SecretKey != "" {
		return decode(c.SecretKey, "PREAU_SECRET_KEY")
	}
	path := filepath.Join(c.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		return decode(string(b), path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}
