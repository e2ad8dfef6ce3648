package cli

//go:generate go run ../cmd/gen-docs -dir ..

import (
	"encoding"
	"reflect"
	"strings"
)

// What cmd/gen-docs reads beyond the command tree (NewApp) to write the
// completions and the man page. The generator lives outside this package so
// the shipped binary carries none of it; it imports cli, never the reverse.

// ExitCodesHelp is the EXIT STATUS text that ends the application's help.
const ExitCodesHelp = exitCodesHelp

// OutputFormats are the values of --output.
func OutputFormats() []string { return []string{formatTable, formatPlain, formatJSON} }

// ConfigKeys lists the keys of the configuration file, from FileConfig's
// toml tags: "barman_config", "serve.listen", ...
func ConfigKeys() []string {
	textType := reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	var keys []string
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, prefix string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(textType) {
				walk(f.Type, prefix+tag+".")
				continue
			}
			keys = append(keys, prefix+tag)
		}
	}
	walk(reflect.TypeOf(FileConfig{}), "")
	return keys
}
