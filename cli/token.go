package cli

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/urfave/cli/v2"
)

func (st *appState) tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "manage bearer tokens for serve",
		Subcommands: []*cli.Command{{
			Name:      "create",
			Usage:     "print a new token once, and the lines that make serve accept it",
			UsageText: "pg-backup-api token create NAME [--permissions read,recover]",
			Description: "The token is printed once and stored nowhere; the config file keeps only its SHA-256. " +
				"Revoke it by removing its [[serve.tokens]] entry and reloading serve (systemctl reload pg-backup-api, or SIGHUP).\n\n" +
				"Permissions: read (every GET and HEAD), recover (recovery, backup and keep operations, cancel), " +
				"configure (config_switch, config_update), delete (delete operations, releasing a keep), admin (everything). " +
				"A request outside them gets 403.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "permissions", Value: "admin", Usage: "what the token may do: a comma-separated `LIST` of " + httpd.PermissionNames},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 || strings.TrimSpace(c.Args().First()) == "" {
					return usageError("token create takes one NAME, e.g. pg-backup-api token create ci")
				}
				name := c.Args().First()
				// %q below must give a TOML string: no control characters
				// (Go's \x01, \a, \v are not TOML escapes), valid UTF-8.
				if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
					return usageError("token name %q has control characters or is not UTF-8", name)
				}
				perms, err := httpd.ParsePermissions(strings.Split(c.String("permissions"), ","))
				if err != nil {
					return usageError("--permissions %q: %v", c.String("permissions"), err)
				}
				var raw [32]byte
				if _, err := rand.Read(raw[:]); err != nil {
					return err
				}
				secret := "pgba_" + base64.RawURLEncoding.EncodeToString(raw[:])
				fmt.Fprintf(ioOf(c).Out, "%s\n", secret)
				quoted := make([]string, 0, 4)
				for _, n := range perms.Names() {
					quoted = append(quoted, strconv.Quote(n))
				}
				fmt.Fprintf(ioOf(c).ErrOut, "Add to %s and reload serve (systemctl reload pg-backup-api, or kill -HUP its pid); the token above is shown only now:\n\n[[serve.tokens]]\nname = %q\nsha256 = %q\npermissions = [%s]\n\nClients send: Authorization: Bearer <token>\n",
					st.settings.tokenConfigPath(), name, httpd.HashToken(secret), strings.Join(quoted, ", "))
				return nil
			},
		}},
	}
}
