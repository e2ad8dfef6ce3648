package ops

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// Validate checks payload as a request for the scope of server ("" for the
// instance) against Barman's configuration and backup catalog, and against
// p. It is the one validation path for every door: CLI and HTTP alike.
func (p Policy) Validate(cfg *BarmanConfig, catalog Catalog, server string, payload *pyjson.Object) (*Request, error) {
	if server != "" {
		if !ValidName(server) {
			return nil, Errorf(ENOTFOUND, "server %q is not in %s: not a valid server name (known: %s)", server, cfg.Path, cfg.serverList())
		}
		if _, err := cfg.Server(server); err != nil {
			return nil, err
		}
	}
	for _, k := range reservedKeys {
		if _, ok := payload.Get(k); ok {
			return nil, Errorf(EINVALID, "key %q is reserved for the operation's record and cannot be sent", k)
		}
	}
	if payload.Lossy() {
		return nil, Errorf(EINVALID, `the payload has a lone UTF-16 surrogate escape (such as "\ud800"), which is not a character; send the text as UTF-8 or as a surrogate pair`)
	}

	var t Type
	switch raw, ok := payload.Get(KeyType); {
	case !ok && server != "":
		t = Recovery // as the reference does
	case !ok:
		return nil, Errorf(EINVALID, `"type" is required: instance operations support %q`, ConfigUpdate)
	default:
		s, isString := raw.(string)
		if !isString {
			return nil, Errorf(EINVALID, `"type" must be a string, got %s`, pyjson.TypeName(raw))
		}
		t = Type(s)
	}

	switch {
	case !t.Known():
		return nil, Errorf(EINVALID, "unknown operation type %q: expected one of %s", t, typeList())
	case t.ServerScoped() && server == "":
		return nil, Errorf(EINVALID, "%s is a server operation: send it to a server's operations (/servers/NAME/operations, or --server NAME)", t)
	case !t.ServerScoped() && server != "":
		return nil, Errorf(EINVALID, "%s is an instance operation: send it to /operations, not to server %q", t, server)
	}

	req := &Request{Server: server, Type: t, Payload: payload}
	var err error
	switch t {
	case Recovery:
		err = p.validateRecovery(cfg, catalog, req)
	case ConfigSwitch:
		err = validateConfigSwitch(cfg, req)
	case ConfigUpdate:
		err = p.validateConfigUpdate(req)
	case BackupOp:
		err = p.validateBackup(req)
	case KeepOp:
		err = p.validateKeep(cfg, catalog, req)
	case DeleteOp:
		err = validateDelete(cfg, catalog, req)
	case DrillOp:
		err = p.validateDrill(cfg, catalog, req)
	}
	if err != nil {
		return nil, err
	}
	// After the type's own checks, whose messages are more precise about
	// the values they know: this one catches the rest, extra keys included.
	if err := checkControls(payload, ""); err != nil {
		return nil, err
	}
	if err := p.checkExtraKeys(t, payload); err != nil {
		return nil, err
	}
	return req, nil
}

func typeList() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// requiredString returns payload[key] if it is a non-empty string with no
// control characters.
func requiredString(payload *pyjson.Object, op Type, key string) (string, error) {
	raw, ok := payload.Get(key)
	if !ok {
		return "", Errorf(EINVALID, "%s needs %q", op, key)
	}
	s, ok := raw.(string)
	if !ok {
		return "", Errorf(EINVALID, "%s: %q must be a string, got %s", op, key, pyjson.TypeName(raw))
	}
	if strings.TrimSpace(s) == "" {
		return "", Errorf(EINVALID, "%s: %q must not be empty", op, key)
	}
	if len(s) > maxArgBytes {
		return "", Errorf(EINVALID, "%s: %q is %d bytes long; one argument of Barman's command line can be at most %d", op, key, len(s), maxArgBytes)
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		return "", Errorf(EINVALID, "%s: %q contains a control character (%q at byte %d)", op, key, s[i], i)
	}
	return s, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkControls refuses control characters anywhere in a payload, extra keys
// included, since every key and value is stored and shown: in a key none at
// all (C0, DEL, C1); in a string value none but tab, line feed and carriage
// return, which free text may hold. Values that reach Barman are held to
// more (requiredString, validateChange). Terminal escape sequences start
// with ESC or a C1 control, so none can be stored; nor can the
// bidirectional embeddings, overrides and isolates (isBidiFormatting).
func checkControls(v any, where string) error {
	switch v := v.(type) {
	case *pyjson.Object:
		for _, k := range v.Keys() {
			at := k
			if where != "" {
				at = where + "." + k
			}
			if i := strings.IndexFunc(k, isKeyControl); i >= 0 {
				r, _ := utf8.DecodeRuneInString(k[i:])
				if !unicode.IsControl(r) {
					return Errorf(EINVALID, "key %q contains a bidirectional formatting character (%U at byte %d); keys never hold them", at, r, i)
				}
				return Errorf(EINVALID, "key %q contains a control character (%U at byte %d); keys never hold control characters", at, r, i)
			}
			child, _ := v.Get(k)
			if err := checkControls(child, at); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := checkControls(e, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case string:
		if i := strings.IndexFunc(v, isValueControl); i >= 0 {
			r, _ := utf8.DecodeRuneInString(v[i:])
			if isBidiFormatting(r) {
				return Errorf(EINVALID, "the value of %q contains a bidirectional embedding, override or isolate (%U at byte %d), which can make text read in another order than it is stored; remove it", where, r, i)
			}
			return Errorf(EINVALID, "the value of %q contains a control character (%U at byte %d); only tab, line feed and carriage return are accepted in text", where, r, i)
		}
	}
	return nil
}

func isValueControl(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' || isBidiFormatting(r)
}

// isBidiFormatting: the explicit directional embeddings, overrides and
// isolates, with which stored text can be shown in an order other than its
// bytes' (Trojan Source, CVE-2021-42574). The directional marks (U+200E,
// U+200F, U+061C) only nudge neighbouring punctuation and may appear in
// right-to-left free text; keys refuse them too.
func isBidiFormatting(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

func isKeyControl(r rune) bool {
	return unicode.IsControl(r) || isBidiFormatting(r) || r == 0x200E || r == 0x200F || r == 0x061C
}

// requiredPositional is requiredString for a value that reaches Barman as a
// positional argument (a backup ID, a model name): one that starts with "-"
// would be read by Barman's parser as an option, so it is refused.
func requiredPositional(payload *pyjson.Object, op Type, key string) (string, error) {
	s, err := requiredString(payload, op, key)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(s, "-") {
		return "", Errorf(EINVALID, "%s: %q is %q, which starts with \"-\": Barman would read it as an option; no %s starts with \"-\"", op, key, s, strings.ReplaceAll(key, "_", " "))
	}
	return s, nil
}

// maxArgBytes is the longest single argument Linux passes to a program
// (MAX_ARG_STRLEN: 32 pages of 4 KiB, less the terminating NUL). A longer
// value would be recorded, then fail to start Barman every time.
const maxArgBytes = 32*4096 - 1
