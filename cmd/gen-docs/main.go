// Command gen-docs writes the shell completions (completions/) and the man
// page (man/) from pg-backup-api's command-line definition. It is run by
// `make docs` and `go generate ./cli/`, never shipped: the binary only
// answers `__complete`, which the completions call. It imports cli to read
// the command tree; cli never imports it.
//
// Usage: go run ./cmd/gen-docs [-dir DIR]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/cli/iostreams"
	urfave "github.com/urfave/cli/v2"
)

// The files gendocs writes, relative to its -dir. They are committed, and
// TestDocsUpToDate fails when they differ from what the code generates.
const (
	docBashCompletion = "completions/pg-backup-api.bash"
	docZshCompletion  = "completions/pg-backup-api.zsh"
	docFishCompletion = "completions/pg-backup-api.fish"
	docManPage        = "man/pg-backup-api.1"
)

// docFiles lists the generated files in the order they are written.
var docFiles = []string{docBashCompletion, docZshCompletion, docFishCompletion, docManPage}

func main() {
	dir := flag.String("dir", ".", "write completions/ and man/ under `DIR` (the repository root)")
	flag.Parse()
	written, err := writeDocs(newApp(), *dir)
	for _, p := range written {
		fmt.Println(p)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

// newApp is a fresh definition, untouched by any run's set-up, so the output
// depends on nothing but the code.
func newApp() *urfave.App {
	ios, _, _, _ := iostreams.Test()
	return cli.NewApp(cli.BuildInfo{}, ios)
}

// generateDocs renders every generated file from the application's
// definition.
func generateDocs(app *urfave.App) map[string]string {
	m := docModel(app)
	return map[string]string{
		docBashCompletion: bashCompletion(app.Name, m),
		docZshCompletion:  zshCompletion(app.Name, m),
		docFishCompletion: fishCompletion(app.Name, m),
		docManPage:        manPage(app.Name, m),
	}
}

// writeDocs writes the generated files under dir and returns their paths.
func writeDocs(app *urfave.App, dir string) ([]string, error) {
	files := generateDocs(app)
	var written []string
	for _, name := range docFiles {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// generatedNotice heads every generated file.
const generatedNotice = "Generated from the command-line definition by cmd/gen-docs (make docs); do not edit."
