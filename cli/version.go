package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func (st *appState) versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, commit and build date",
		Flags: []cli.Flag{outputFlag()},
		Action: func(c *cli.Context) error {
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			if p.format == formatJSON {
				return p.json(map[string]string{"version": st.build.Version, "commit": st.build.Commit, "date": st.build.Date})
			}
			fmt.Fprintf(p.w, "pg-backup-api %s (commit %s, built %s)\n", st.build.Version, st.build.Commit, st.build.Date)
			return nil
		},
	}
}
