package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// catalogEngine reads backup catalogs: Barman's files on this host, or a
// serve instance's GET /servers/{name}/backups (--url, --remote).
type catalogEngine interface {
	Backups(server string) (*ops.ServerCatalog, error)
	Backup(server, id string) (*ops.ServerCatalog, ops.CatalogBackup, error)
}

func (st *appState) catalogEngine(c *cli.Context) (catalogEngine, error) {
	if r, err := st.remote(c); err != nil || r != nil {
		return r, err
	}
	return &localEngine{st: st, c: c, svc: st.service()}, nil
}

func (l *localEngine) Backups(server string) (*ops.ServerCatalog, error) {
	return l.svc.Backups(l.c.Context, server)
}

func (l *localEngine) Backup(server, id string) (*ops.ServerCatalog, ops.CatalogBackup, error) {
	return l.svc.Backup(l.c.Context, server, id)
}

const backupsDescription = "Read from Barman's catalog on disk (the backup.info files, in both layouts Barman has used, and its " +
	"WAL database, <server>-xlog.db or xlog.db, where the configuration puts them) without starting Barman, or from a server with --url or --remote. " +
	"Backups are listed newest first, as `barman list-backups` lists them. SIZE is backup.info's size; WAL SIZE is the WAL " +
	"archived after the backup up to the next one, as `barman list-backups` reports it (\"-\" when the WAL database " +
	"is not found). KEEP is the backup's keep annotation (`barman keep`, see create keep): full or standalone, \"-\" when " +
	"the backup is not kept; Barman's retention policy and barman delete leave a kept backup alone. The recovery window runs from the end of the oldest DONE backup to the newest WAL segment archived: " +
	"the earliest and latest points in time a recovery can reach."

func (st *appState) backupsCommand() *cli.Command {
	flags := func(server string) []cli.Flag {
		return append([]cli.Flag{serverFlag(server), outputFlag()}, storeFlags()...)
	}
	return &cli.Command{
		Name:        "backups",
		Usage:       "list a server's backups and its recovery window, from Barman's catalog",
		UsageText:   "pg-backup-api backups --server NAME [-r NAME,NAME... | -r all] [-o json]",
		Description: backupsDescription + " " + fleetHelp,
		Flags:       flags("the Barman server `NAME` (required)"),
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError("backups takes no arguments (got %q); to show one backup use `backups show BACKUP --server NAME`", c.Args().First())
			}
			server, err := requireServer(c, "backups")
			if err != nil {
				return err
			}
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			members, err := st.fleet(c)
			if err != nil {
				return err
			}
			if members != nil {
				answers := askFleet(c, members, 0, func(client *httpd.Client) (any, error) { return client.Backups(server) })
				return p.fleetCatalogs(c, answers)
			}
			eng, err := st.catalogEngine(c)
			if err != nil {
				return err
			}
			cat, err := eng.Backups(server)
			if err != nil {
				return err
			}
			return p.catalog(cat)
		},
		Subcommands: []*cli.Command{{
			Name:      "show",
			Usage:     "show one backup: by ID, by name, or latest, oldest, last-failed",
			UsageText: "pg-backup-api backups show BACKUP --server NAME [-r NAME,NAME... | -r all] [-o json]",
			Description: "BACKUP is a backup ID, a backup name, or one of Barman's shortcuts: latest or last (the newest DONE " +
				"backup), oldest or first (the oldest DONE backup), last-failed — as a recovery's backup_id resolves it. " +
				"With several remotes (-r NAME,NAME... or -r all) it shows the backup of each, led by a Remote line; a remote that fails is named on standard error and the exit status is 8.",
			Flags: flags("the Barman server `NAME` (required)"),
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return usageError("backups show takes one backup ID, name or shortcut such as latest (see pg-backup-api backups --server NAME)")
				}
				server, err := requireServer(c, "backups show")
				if err != nil {
					return err
				}
				p, err := newPrinter(c)
				if err != nil {
					return err
				}
				members, err := st.fleet(c)
				if err != nil {
					return err
				}
				if members != nil {
					id := c.Args().First()
					answers := askFleet(c, members, 0, func(client *httpd.Client) (any, error) {
						cat, b, err := client.Backup(server, id)
						if err != nil {
							return nil, err
						}
						return shownBackup{b, cat.WALKnown}, nil
					})
					return p.fleetBlocks(c, answers, func(r any) any {
						sb := r.(shownBackup)
						return httpd.NewBackupJSON(sb.b, sb.walKnown)
					}, func(r any) error {
						sb := r.(shownBackup)
						return p.backup(sb.b, sb.walKnown)
					})
				}
				eng, err := st.catalogEngine(c)
				if err != nil {
					return err
				}
				cat, b, err := eng.Backup(server, c.Args().First())
				if err != nil {
					return err
				}
				return p.backup(b, cat.WALKnown)
			},
		}},
	}
}

// shownBackup is one remote's answer to backups show.
type shownBackup struct {
	b        ops.CatalogBackup
	walKnown bool
}

// fleetCatalogs prints one server's catalog on several remotes as one
// table, then each remote's recovery window (on a terminal).
func (p *printer) fleetCatalogs(c *cli.Context, answers []fleetAnswer) error {
	var err error
	if p.format == formatJSON {
		err = p.fleetJSON(answers, func(r any) any { return httpd.NewCatalogJSON(r.(*ops.ServerCatalog)) })
	} else {
		var rows [][]string
		for _, a := range answers {
			if cat, ok := a.result.(*ops.ServerCatalog); ok {
				rows = append(rows, withRemote(a.remote, p.catalogRows(cat))...)
			} else if row, ok := p.failedRow(a, len(catalogHeader)); ok {
				rows = append(rows, row)
			}
		}
		err = p.table(append([]string{"REMOTE"}, catalogHeader...), rows)
		if err == nil && p.format == formatTable {
			if len(rows) > 0 {
				fmt.Fprintln(p.w)
			}
			for _, a := range answers {
				if cat, ok := a.result.(*ops.ServerCatalog); ok && err == nil {
					err = p.window(cat, "Recovery window of "+termsafe.Line(a.remote))
				}
			}
		}
	}
	if err != nil {
		return err
	}
	return fleetFailures(c, p, answers)
}

func requireServer(c *cli.Context, command string) (string, error) {
	server := c.String("server")
	if server == "" {
		return "", usageError("%s needs --server NAME: the Barman server whose catalog to read", command)
	}
	return server, nil
}

// catalog prints a server's backups, newest first, then its window.
func (p *printer) catalog(cat *ops.ServerCatalog) error {
	if p.format == formatJSON {
		return p.json(httpd.NewCatalogJSON(cat))
	}
	if len(cat.Backups) == 0 && p.format == formatTable {
		fmt.Fprintf(p.w, "no backups of server %s\n", p.field(cat.Server))
		return nil
	}
	if err := p.table(catalogHeader, p.catalogRows(cat)); err != nil {
		return err
	}
	// Plain output is the rows alone, for scripts; -o json has the window.
	if p.format != formatTable {
		return nil
	}
	fmt.Fprintln(p.w)
	return p.window(cat, "Recovery window")
}

// KEEP is the last column so that scripts reading the columns before it by
// position read what they did before it came.
var catalogHeader = []string{"ID", "NAME", "STATUS", "BEGAN", "ENDED", "BEGIN WAL", "END WAL", "TLI", "SIZE", "WAL SIZE", "KEEP"}

func (p *printer) catalogRows(cat *ops.ServerCatalog) [][]string {
	rows := make([][]string, 0, len(cat.Backups))
	for i := len(cat.Backups) - 1; i >= 0; i-- {
		b := cat.Backups[i]
		rows = append(rows, []string{p.field(b.ID), p.field(dash(b.Name)), p.backupStatus(b.Status), p.backupTime(b.BeginTime), p.backupTime(b.EndTime),
			p.field(dash(b.BeginWAL)), p.field(dash(b.EndWAL)), p.count(b.Timeline), p.bytes(b.Size, b.Size > 0), p.bytes(b.WALSize, cat.WALKnown), p.field(dash(b.Keep))})
	}
	return rows
}

// window prints cat's recovery window on a line that begins with label.
func (p *printer) window(cat *ops.ServerCatalog, label string) error {
	w := cat.Window
	if w == nil {
		_, err := fmt.Fprintf(p.w, "%s: none (no DONE backup)\n", label)
		return err
	}
	latest := "newest backup's end; no WAL database found"
	if w.LatestWAL != "" {
		latest = "WAL " + p.field(w.LatestWAL)
	} else if cat.WALKnown {
		latest = "newest backup's end"
	}
	_, err := fmt.Fprintf(p.w, "%s: %s to %s (%s)\n", label,
		w.Earliest.Local().Format("2006-01-02 15:04:05 MST"), w.Latest.Local().Format("2006-01-02 15:04:05 MST"), latest)
	return err
}

// backup prints one backup as "Key: value" lines.
func (p *printer) backup(b ops.CatalogBackup, walKnown bool) error {
	if p.format == formatJSON {
		return p.json(httpd.NewBackupJSON(b, walKnown))
	}
	rows := [][]string{
		{"ID", p.field(b.ID)},
		{"Name", p.field(dash(b.Name))},
		{"Status", p.backupStatus(b.Status)},
		{"Began", p.when(b.BeginTime)},
		{"Ended", p.when(b.EndTime)},
		{"Begin WAL", p.field(dash(b.BeginWAL))},
		{"End WAL", p.field(dash(b.EndWAL))},
		{"Timeline", p.count(b.Timeline)},
		{"Size", p.bytes(b.Size, b.Size > 0)},
		{"WAL size", p.bytes(b.WALSize, walKnown)},
		{"Keep", p.field(dash(b.Keep))},
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(p.w, "%-10s %s\n", r[0]+":", r[1]); err != nil {
			return err
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (p *printer) count(n int) string {
	if n <= 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// backupTime is a catalog time: absolute, since a backup is found by when
// it ended; RFC 3339 when piped.
func (p *printer) backupTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if p.format == formatTable {
		return t.Local().Format("2006-01-02 15:04:05")
	}
	return t.UTC().Format(time.RFC3339)
}

// bytes is a size: in bytes when piped, as Barman prints it on a terminal.
func (p *printer) bytes(n int64, known bool) string {
	if !known {
		return "-"
	}
	if p.format != formatTable {
		return strconv.FormatInt(n, 10)
	}
	return prettySize(n)
}

// prettySize prints bytes as Barman's pretty_size does: "0 B", "38.2 MiB".
func prettySize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= 1024
		if f < 1024 || unit == "PiB" {
			return fmt.Sprintf("%.1f %s", f, unit)
		}
	}
	return ""
}

// backupStatus colours a backup's status on a terminal; the status is
// backup.info's, or a remote server's, and may say anything.
func (p *printer) backupStatus(s string) string {
	s = p.field(s)
	if !p.color {
		return s
	}
	code := "33"
	switch s {
	case ops.BackupDone:
		code = "32"
	case ops.BackupFailed:
		code = "31"
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
