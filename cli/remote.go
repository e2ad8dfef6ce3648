package cli

import (
	"io"
	"sort"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// RemoteConfig is one [remotes.NAME] table: a serve instance on another
// Barman host.
type RemoteConfig struct {
	URL        string `toml:"url"`
	Token      string `toml:"token"`
	CACert     string `toml:"ca_cert"`
	ClientCert string `toml:"client_cert"`
	ClientKey  string `toml:"client_key"`
}

// EnvToken carries the bearer token for --url.
const EnvToken = "PG_BACKUP_API_TOKEN"

func remoteFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "url", Usage: "work through the pg-backup-api server at `URL` (e.g. https://barman1:7480) instead of the local store"},
		&cli.StringFlag{Name: "remote", Aliases: []string{"r"}, Usage: "work through the server named `NAME` in the config file's [remotes.NAME]; list, status, backups and inspect take several, NAME,NAME... or all"},
		&cli.StringFlag{Name: "token", EnvVars: []string{EnvToken}, Usage: "bearer `TOKEN` for --url"},
		&cli.StringFlag{Name: "ca-cert", Usage: "CA certificate `FILE` that signed the server's certificate"},
		&cli.StringFlag{Name: "client-cert", Usage: "client certificate `FILE` for mutual TLS"},
		&cli.StringFlag{Name: "client-key", Usage: "client key `FILE` for mutual TLS"},
	}
}

// remote returns the remote engine when --url or --remote is given: the
// API's own client, beside the server in httpd.
func (st *appState) remote(c *cli.Context) (*httpd.Client, error) {
	rc, ok, err := st.remoteConfig(c)
	if err != nil || !ok {
		return nil, err
	}
	return newRemoteClient(c, rc, 0)
}

// remoteConfig resolves --url or --remote NAME, then --token, --ca-cert,
// --client-cert and --client-key over it; ok is false when neither --url
// nor --remote is given. Every command that talks to a server, status
// included, resolves it here.
func (st *appState) remoteConfig(c *cli.Context) (rc RemoteConfig, ok bool, err error) {
	switch {
	case c.IsSet("url") && c.IsSet("remote"):
		return rc, false, usageError("give --url or --remote, not both")
	case c.IsSet("remote"):
		name := c.String("remote")
		if st.isFleet(name) {
			return rc, false, usageError("-r %s names several remotes; this command works through one: give one NAME (several remotes are for list, status, backups and inspect)", name)
		}
		if rc, err = st.namedRemote(name); err != nil {
			return rc, false, err
		}
	case c.IsSet("url"):
		rc.URL = c.String("url")
	default:
		return rc, false, nil
	}
	overrideRemote(c, &rc)
	return rc, true, nil
}

// namedRemote is the config file's [remotes.NAME].
func (st *appState) namedRemote(name string) (RemoteConfig, error) {
	rc, known := st.settings.file.Remotes[name]
	if !known {
		return rc, ops.Errorf(ops.ENOTFOUND, "remote %q is not in %s (known: %s); add a [remotes.%s] table with its url", name, st.settings.configName(), listOrNone(st.remoteNames()), name)
	}
	return rc, nil
}

// remoteNames are the config file's remotes, sorted.
func (st *appState) remoteNames() []string {
	names := make([]string, 0, len(st.settings.file.Remotes))
	for k := range st.settings.file.Remotes {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// overrideRemote sets rc's credentials from the flags given (and
// PG_BACKUP_API_TOKEN), which win over a [remotes.NAME] table.
func overrideRemote(c *cli.Context, rc *RemoteConfig) {
	for flag, field := range map[string]*string{"token": &rc.Token, "ca-cert": &rc.CACert, "client-cert": &rc.ClientCert, "client-key": &rc.ClientKey} {
		if c.IsSet(flag) {
			*field = c.String(flag)
		}
	}
}

// newRemoteClient is the one wire client every remote call goes through;
// timeout 0 is the client's default.
func newRemoteClient(c *cli.Context, rc RemoteConfig, timeout time.Duration) (*httpd.Client, error) {
	return newRemoteClientTo(rc, timeout, ioOf(c).ErrOut)
}

// newRemoteClientTo is newRemoteClient writing its warnings to warnings.
func newRemoteClientTo(rc RemoteConfig, timeout time.Duration, warnings io.Writer) (*httpd.Client, error) {
	client, err := httpd.NewClient(httpd.ClientConfig{
		URL: rc.URL, Token: rc.Token, CACert: rc.CACert, ClientCert: rc.ClientCert, ClientKey: rc.ClientKey,
		Timeout:  timeout,
		Warnings: warnings,
	})
	if err != nil {
		return nil, err
	}
	return client, nil
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
