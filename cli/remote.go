package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/httpd"
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
		&cli.StringFlag{Name: "remote", Aliases: []string{"r"}, Usage: "work through the server named `NAME` in the config file's [remotes.NAME]"},
		&cli.StringFlag{Name: "token", EnvVars: []string{EnvToken}, Usage: "bearer `TOKEN` for --url"},
		&cli.StringFlag{Name: "ca-cert", Usage: "CA certificate `FILE` that signed the server's certificate"},
		&cli.StringFlag{Name: "client-cert", Usage: "client certificate `FILE` for mutual TLS"},
		&cli.StringFlag{Name: "client-key", Usage: "client key `FILE` for mutual TLS"},
	}
}

// remote returns the remote engine when --url or --remote is given: the
// API's own client, beside the server in httpd.
func (st *appState) remote(c *cli.Context) (*httpd.Client, error) {
	var rc RemoteConfig
	switch {
	case c.IsSet("url") && c.IsSet("remote"):
		return nil, usageError("give --url or --remote, not both")
	case c.IsSet("remote"):
		name := c.String("remote")
		var ok bool
		if rc, ok = st.settings.file.Remotes[name]; !ok {
			known := make([]string, 0, len(st.settings.file.Remotes))
			for k := range st.settings.file.Remotes {
				known = append(known, k)
			}
			sort.Strings(known)
			return nil, cli.Exit(fmt.Sprintf("pg-backup-api: remote %q is not in %s (known: %s); add a [remotes.%s] table with its url", name, st.settings.configName(), listOrNone(known), name), ExitNotFound)
		}
	case c.IsSet("url"):
		rc.URL = c.String("url")
	default:
		return nil, nil
	}
	for flag, field := range map[string]*string{"token": &rc.Token, "ca-cert": &rc.CACert, "client-cert": &rc.ClientCert, "client-key": &rc.ClientKey} {
		if c.IsSet(flag) {
			*field = c.String(flag)
		}
	}
	client, err := httpd.NewClient(httpd.ClientConfig(rc))
	if err != nil {
		return nil, fail(err)
	}
	return client, nil
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
