package cli

import (
	"fmt"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"
)

func (st *appState) statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "check that a pg-backup-api server answers; prints OK",
		UsageText: "pg-backup-api status [--port N | --url URL]",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "port", Usage: "check http://127.0.0.1:`N`"},
			&cli.StringFlag{Name: "url", Usage: "check the server at `URL` (default http://" + DefaultListen + ")"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give up after `DURATION`"},
		},
		Action: func(c *cli.Context) error {
			if c.IsSet("port") && c.IsSet("url") {
				return usageError("give --port or --url, not both")
			}
			base := "http://" + DefaultListen
			if l := st.settings.file.Serve.Listen; l != "" {
				base = "http://" + l
			}
			if c.IsSet("port") {
				base = fmt.Sprintf("http://127.0.0.1:%d", c.Int("port"))
			}
			if c.IsSet("url") {
				base = c.String("url")
			}
			client := &http.Client{Timeout: c.Duration("timeout")}
			resp, err := client.Get(trimSlash(base) + "/status")
			if err != nil {
				return cli.Exit(fmt.Sprintf("pg-backup-api: no answer from %s: %v", base, err), ExitUnavailable)
			}
			defer resp.Body.Close()
			var body string
			dec := jsonDecoder(resp.Body)
			if resp.StatusCode != http.StatusOK || dec.Decode(&body) != nil || body != "OK" {
				return cli.Exit(fmt.Sprintf("pg-backup-api: %s answered %s, not \"OK\"; is it a pg-backup-api server?", base, resp.Status), ExitUnavailable)
			}
			fmt.Fprintln(c.App.Writer, "OK")
			return nil
		},
	}
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
