package cli

import "github.com/urfave/cli/v2"

func (st *appState) logsCommand() *cli.Command {
	return &cli.Command{
		Name:        "logs",
		Usage:       "print Barman's output for an operation; -f follows it until the operation ends",
		UsageText:   "pg-backup-api logs ID [-f] [--server NAME | --instance]",
		Description: idArgHelp + " " + remoteArgHelp,
		Flags: append(scopeFlags(),
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "stream the output as Barman writes it, until the operation ends"}),
		Action: func(c *cli.Context) error {
			eng, server, id, err := st.target(c, "logs")
			if err != nil {
				return err
			}
			op, err := st.follow(c, eng, server, id, c.Bool("follow"))
			if err != nil {
				return err
			}
			if c.Bool("follow") {
				return failedExit(op)
			}
			return nil
		},
	}
}
