package cli

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

const statusDescription = "Without --url or --remote, status checks the serve of this host's config file: serve.listen " +
	"(a wildcard address such as 0.0.0.0 is checked on loopback), over HTTPS when serve.tls_cert is set, trusting " +
	"that certificate unless --ca-cert names a CA. --port N checks port N on 127.0.0.1 the same way. With --url or " +
	"--remote it checks that server with the token, CA and client certificate other remote commands would use. " +
	"Redirects are followed only on the same scheme, host and port."

func (st *appState) statusCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.IntFlag{Name: "port", Usage: "check port `N` on 127.0.0.1 (HTTPS when serve.tls_cert is set)"},
		&cli.StringFlag{Name: "url", Usage: "check the server at `URL` (default: serve.listen of the config file, else http://" + DefaultListen + ")"},
		&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give up after `DURATION` (with several remotes: on each)"},
		outputFlag(),
	}
	// The remote flags but --url, which status has with its own help.
	for _, f := range remoteFlags() {
		if f.Names()[0] != "url" {
			flags = append(flags, f)
		}
	}
	return &cli.Command{
		Name:        "status",
		Usage:       "check that a pg-backup-api server answers; prints OK",
		UsageText:   "pg-backup-api status [--port N | --url URL | --remote NAME | -r NAME,NAME... | -r all] [--ca-cert FILE] [--token TOKEN]",
		Description: statusDescription + " " + fleetHelp,
		Flags:       flags,
		Action: func(c *cli.Context) error {
			if c.IsSet("port") && (c.IsSet("url") || c.IsSet("remote")) {
				return usageError("give --port or --url (or --remote), not both")
			}
			if _, err := newPrinter(c); err != nil {
				return err // a bad -o
			}
			members, err := st.fleet(c)
			if err != nil {
				return err
			}
			if members != nil {
				return st.fleetStatus(c, members)
			}
			rc, ok, err := st.remoteConfig(c)
			if err != nil {
				return err
			}
			if !ok {
				if rc, err = st.localServe(c); err != nil {
					return err
				}
			}
			client, err := newRemoteClient(c, rc, c.Duration("timeout"))
			if err != nil {
				return err
			}
			if err := client.Status(); err != nil {
				return err
			}
			if c.String("output") == formatJSON {
				// A JSON string: what each remote's result is with several.
				fmt.Fprintln(ioOf(c).Out, `"OK"`)
				return nil
			}
			fmt.Fprintln(ioOf(c).Out, "OK")
			return nil
		},
	}
}

// fleetStatus checks several remotes: a REMOTE, STATUS row for each that
// answers.
func (st *appState) fleetStatus(c *cli.Context, members []fleetMember) error {
	p, err := newPrinter(c)
	if err != nil {
		return err
	}
	answers := askFleet(c, members, c.Duration("timeout"), func(client *httpd.Client) (any, error) {
		return "OK", client.Status()
	})
	if p.format == formatJSON {
		err = p.fleetJSON(answers, func(r any) any { return r })
	} else {
		var rows [][]string
		for _, a := range answers {
			if a.err == nil {
				rows = append(rows, []string{termsafe.Line(a.remote), "OK"})
			} else if row, ok := p.failedRow(a, 1); ok {
				rows = append(rows, row)
			}
		}
		err = p.table([]string{"REMOTE", "STATUS"}, rows)
	}
	if err != nil {
		return err
	}
	return fleetFailures(c, p, answers)
}

// localServe is how status reaches the serve of this host's config file:
// the scheme it speaks (HTTPS with serve.tls_cert), where it listens, and
// its own certificate as the one to trust when no --ca-cert is given, so
// that a serve with a self-signed certificate can be checked as it is.
func (st *appState) localServe(c *cli.Context) (RemoteConfig, error) {
	serve := st.settings.file.Serve
	scheme := "http"
	if serve.TLSCert != "" {
		scheme = "https"
	}
	addr := DefaultListen
	if serve.Listen != "" {
		addr = serve.Listen
	}
	if c.IsSet("port") {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Int("port")))
	}
	rc := RemoteConfig{URL: scheme + "://" + dialable(addr)}
	overrideRemote(c, &rc)
	if scheme == "https" && rc.CACert == "" {
		if _, err := os.ReadFile(serve.TLSCert); err != nil {
			return rc, ops.Errorf(ops.EINVALID, "serve.tls_cert %s, the certificate to trust: %v; give --ca-cert FILE, the CA that signed it", serve.TLSCert, err)
		}
		rc.CACert = serve.TLSCert
	}
	return rc, nil
}

// dialable is a listen address as a client dials it: a wildcard host (all
// addresses, or none given) is reached on loopback.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr // the client says what is wrong with it
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
