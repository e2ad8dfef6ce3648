package ops

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"
)

// A recovery's remote_ssh_command and destination_directory reach a shell:
// Barman runs the ssh command through /bin/sh (UnixRemoteCommand uses
// shell=True, rsync splits it again for -e), and the remote shell re-reads
// every command Barman sends, paths included. Treated as strings, they let
// whoever may recover run any command as Barman's user, so each is checked
// as a command policy: an ssh invocation and nothing else, and paths that no
// shell reads differently from how they are written.

// sshOptstring is ssh's getopt string (OpenSSH 9.x, ssh.c): a letter
// followed by ':' takes an argument.
const sshOptstring = "1246ab:c:e:fgi:kl:m:no:p:qstvxAB:CD:E:F:GI:J:KL:MNO:P:Q:R:S:TVw:W:XYy"

// refusedSSHFlags are the ssh options a recovery may not use, with why.
// ProxyJump (-J) is refused: the jump host escapes ssh_destinations and it
// runs a second ssh of its own; an operator who needs one sets ProxyJump in
// the Barman user's ~/.ssh/config for a Host alias and allows the alias.
var refusedSSHFlags = map[byte]string{
	'F': "it reads another ssh configuration file, which may run commands",
	'E': "it writes ssh's log to a file of the sender's choosing",
	'I': "it loads a PKCS#11 library, that is code, into ssh",
	'J': "a jump host escapes ssh_destinations; set ProxyJump in the Barman user's ~/.ssh/config for a Host alias instead",
	'L': "port forwarding opens ports through the Barman host, which a recovery never needs",
	'R': "port forwarding opens ports through the Barman host, which a recovery never needs",
	'D': "port forwarding opens ports through the Barman host, which a recovery never needs",
	'W': "it turns ssh into a network relay",
	'w': "it opens a tunnel device",
	'O': "it sends control commands to a master connection",
	'S': "it sends the session through an existing master connection, which may lead to another host than the destination (and escape ssh_destinations)",
	'A': "it hands the Barman user's ssh agent, and so its keys, to the target host",
}

// harmlessSSHValues are the values with which a refused -o option names no
// file and so does none of what refusedSSHKeywords says:
// "UserKnownHostsFile=/dev/null", with StrictHostKeyChecking=no, is how
// operators skip host key checks.
var harmlessSSHValues = map[string][]string{
	"userknownhostsfile": {"/dev/null", "none"},
	"controlpath":        {"none"},
}

// refusedSSHKeywords are the -o options a recovery may not use, but for
// the values harmlessSSHValues lists.
var refusedSSHKeywords = map[string]string{
	"proxycommand":        "it runs a local command",
	"localcommand":        "it runs a local command",
	"permitlocalcommand":  "it lets LocalCommand run a local command",
	"knownhostscommand":   "it runs a local command",
	"remotecommand":       "it replaces the commands Barman runs on the target host",
	"match":               "Match exec runs a local command",
	"host":                "it starts a configuration block, which -o cannot hold",
	"include":             "it reads another ssh configuration file, which may run commands",
	"proxyjump":           "a jump host escapes ssh_destinations; set ProxyJump in the Barman user's ~/.ssh/config for a Host alias instead",
	"pkcs11provider":      "it loads a library, that is code, into ssh",
	"smartcarddevice":     "it is PKCS11Provider under its old name: it loads a library, that is code, into ssh",
	"xauthlocation":       "it names the program ssh runs, through a shell, for X11 forwarding",
	"controlpath":         "it sends the session through an existing master connection, which may lead to another host than the destination (and escape ssh_destinations), or creates a socket at a path of the sender's choosing",
	"userknownhostsfile":  "ssh writes host keys to it: a file of the sender's choosing",
	"forwardagent":        "it hands the Barman user's ssh agent, and so its keys, to the target host",
	"securitykeyprovider": "it loads a library, that is code, into ssh",
	"localforward":        "port forwarding opens ports through the Barman host, which a recovery never needs",
	"remoteforward":       "port forwarding opens ports through the Barman host, which a recovery never needs",
	"dynamicforward":      "port forwarding opens ports through the Barman host, which a recovery never needs",
	"tunnel":              "it opens a tunnel device",
	"tunneldevice":        "it opens a tunnel device",
}

// destinationKeywords change whom or where ssh connects to behind the
// destination's back; they are refused when ssh_destinations limits it.
var destinationKeywords = []string{"user", "hostname", "canonicalizehostname", "canonicaldomains", "canonicalizepermittedcnames"}

// shellSafeRune reports whether r means itself to a POSIX shell outside
// quotes, wherever it stands in a word. '~' expands only at the start of a
// word, to one word, so it cannot change the word count.
func shellSafeRune(r rune) bool {
	return r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./@:=,+%~^", r)) ||
		r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// shellWords splits s into words as a POSIX shell does, accepting only what
// reads the same to every shell and to rsync's -e splitting: words of
// shellSafeRune characters separated by spaces, and single or double quotes
// that group text. Anything that could run, substitute, redirect, expand or
// escape is refused with a description of where it is.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			r = []rune(s[i:])[0]
			size = len(string(r))
		}
		switch {
		case r == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '\'' || r == '"':
			end := strings.IndexRune(s[i+1:], r)
			if end < 0 {
				return nil, fmt.Errorf("the quote %q at byte %d is never closed", r, i)
			}
			inner := s[i+1 : i+1+end]
			if j := strings.IndexAny(inner, "$`\\\n"); j >= 0 {
				return nil, fmt.Errorf("%q at byte %d is a shell substitution or escape, even inside quotes", inner[j], i+1+j)
			}
			cur.WriteString(inner)
			inWord = true
			size = end + 2
		case shellSafeRune(r):
			cur.WriteRune(r)
			inWord = true
		default:
			return nil, fmt.Errorf("%q at byte %d is a shell operator, substitution, expansion or escape", r, i)
		}
		i += size
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// sshShellChars names what shellWords accepts, for error messages.
const sshShellChars = "letters, digits, spaces, - _ . / @ : = , + % ~ ^, and single or double quotes around text without $ ` or \\"

// checkSSHCommand checks a recovery's remote_ssh_command against p: ssh (or
// one of p.SSHPrograms), ssh options that run nothing and exactly one
// destination, allowed by p.SSHDestinations when that is set.
func (p Policy) checkSSHCommand(cmd string) error {
	const key = "remote_ssh_command"
	bad := func(format string, args ...any) error {
		return Errorf(EINVALID, "recovery: %q %q: "+format, append([]any{key, cmd}, args...)...)
	}
	words, err := shellWords(cmd)
	if err != nil {
		return bad("%v; Barman runs this command through a shell, so it may hold only %s", err, sshShellChars)
	}
	if len(words) == 0 {
		return bad("names no program; give an ssh command such as \"ssh postgres@db\"")
	}
	if prog := words[0]; prog != "ssh" && !slices.Contains(p.SSHPrograms, prog) {
		also := "none listed"
		if len(p.SSHPrograms) > 0 {
			also = strings.Join(p.SSHPrograms, ", ")
		}
		return bad("the program %q is not ssh; allowed: \"ssh\" and the absolute paths of [recovery] ssh_programs in pg-backup-api's configuration file (%s)", prog, also)
	}
	limited := len(p.SSHDestinations) > 0
	var dests []string
	args := words[1:]
	optionsDone := false
	for i := 0; i < len(args); i++ {
		w := args[i]
		if optionsDone || !strings.HasPrefix(w, "-") || w == "-" {
			dests = append(dests, w)
			continue
		}
		if w == "--" {
			optionsDone = true
			continue
		}
		for j := 1; j < len(w); j++ {
			c := w[j]
			k := strings.IndexByte(sshOptstring, c)
			if c == ':' || k < 0 {
				return bad("-%c is not an ssh option", c)
			}
			if why, refused := refusedSSHFlags[c]; refused {
				return bad("ssh option -%c is refused: %s", c, why)
			}
			if k+1 >= len(sshOptstring) || sshOptstring[k+1] != ':' {
				continue
			}
			val := w[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					return bad("ssh option -%c needs a value", c)
				}
				i++
				val = args[i]
			}
			switch c {
			case 'o':
				if err := checkSSHConfigOption(val, limited); err != nil {
					return bad("%v", err)
				}
			case 'l':
				if limited {
					return bad("ssh option -l is refused while [recovery] ssh_destinations is set: give the user in the destination (user@host), which ssh_destinations checks")
				}
			}
			break
		}
	}
	switch {
	case len(dests) == 0:
		return bad("has no destination; give exactly one, such as postgres@db (Barman adds the commands it runs)")
	case len(dests) > 1:
		return bad("has %d words that are not ssh options (%q); give exactly one destination and no command: Barman adds the commands it runs", len(dests), dests)
	}
	dest := dests[0]
	if err := checkSSHDestination(dest); err != nil {
		return bad("%v", err)
	}
	if limited {
		if _, ok := matchesAny(p.SSHDestinations, dest); !ok {
			return bad("the destination %q is not allowed by [recovery] ssh_destinations in pg-backup-api's configuration file (%s)", dest, strings.Join(p.SSHDestinations, ", "))
		}
	}
	return nil
}

// checkSSHConfigOption checks the value of one -o option: ssh reads the
// keyword up to the first space or '=', in any case.
func checkSSHConfigOption(val string, limited bool) error {
	trimmed := strings.TrimLeft(val, " ")
	end := strings.IndexAny(trimmed, " =")
	if end < 0 {
		end = len(trimmed)
	}
	kw := trimmed[:end]
	if kw == "" || strings.IndexFunc(kw, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0 {
		return fmt.Errorf("ssh option -o %q does not start with an option name (write -o Name=value)", val)
	}
	lower := strings.ToLower(kw)
	if why, refused := refusedSSHKeywords[lower]; refused {
		value := strings.TrimLeft(strings.TrimPrefix(strings.TrimLeft(trimmed[end:], " "), "="), " ")
		if allowed, ok := harmlessSSHValues[lower]; ok {
			if files := strings.Fields(value); len(files) > 0 && !slices.ContainsFunc(files, func(f string) bool {
				return !slices.Contains(allowed, strings.ToLower(f))
			}) {
				return nil
			}
			return fmt.Errorf("ssh option -o %s is refused: %s; only %s is accepted", kw, why, strings.Join(allowed, " or "))
		}
		return fmt.Errorf("ssh option -o %s is refused: %s", kw, why)
	}
	if limited && slices.Contains(destinationKeywords, lower) {
		return fmt.Errorf("ssh option -o %s is refused while [recovery] ssh_destinations is set: it changes where ssh connects behind the destination's back; give user@host as the destination", kw)
	}
	return nil
}

// checkSSHDestination checks the form of ssh's destination:
// [user@]host or ssh://[user@]host[:port].
func checkSSHDestination(dest string) error {
	rest := strings.TrimPrefix(dest, "ssh://")
	user, host, hasUser := strings.Cut(rest, "@")
	if !hasUser {
		host, user = user, ""
	}
	okChars := func(s, extra string) bool {
		return s != "" && strings.IndexFunc(s, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_."+extra, r))
		}) < 0
	}
	if (hasUser && !okChars(user, "")) || !okChars(host, ":[]") || strings.HasPrefix(host, "-") {
		return fmt.Errorf("the destination %q is not [user@]host or ssh://[user@]host[:port] (user: letters, digits, - _ .; host: a name or address)", dest)
	}
	return nil
}

// remotePathSafe: what a path Barman sends through ssh may hold, so that
// neither the remote shell nor PostgreSQL's restore_command ('%' is one of
// its placeholders, a quote ends its value) reads it differently.
func remotePathSafe(r rune) bool {
	return r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+,@=", r)) ||
		r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// checkRemotePath checks a path on the target host that Barman sends through
// `ssh … 'cmd'` and writes into PostgreSQL's configuration.
func checkRemotePath(key, p string) error {
	if !path.IsAbs(p) {
		return Errorf(EINVALID, "recovery: %q %q must be an absolute path on the target host", key, p)
	}
	if i := strings.IndexFunc(p, func(r rune) bool { return !remotePathSafe(r) }); i >= 0 {
		r := []rune(p[i:])[0]
		return Errorf(EINVALID, "recovery: %q %q holds %q at byte %d, which the target host's shell or PostgreSQL's restore_command would read differently; a path may hold letters, digits and - _ . / + , @ =", key, p, r, i)
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return Errorf(EINVALID, "recovery: %q %q has a \"..\" component; give the directory itself", key, p)
	}
	// Barman copies into the directory and may empty it first (a delta
	// restore's rsync --delete); the root of the target host is never
	// the directory meant.
	if path.Clean(p) == "/" {
		return Errorf(EINVALID, "recovery: %q %q is the root directory of the target host; give the directory Barman should restore into, e.g. /var/lib/postgresql/15/main", key, p)
	}
	return nil
}

// CheckSSHDestinationPatterns reports the first entry of patterns that is
// not a usable glob ([recovery] ssh_destinations).
func CheckSSHDestinationPatterns(patterns []string) error {
	for _, pat := range patterns {
		if _, err := path.Match(pat, ""); err != nil || strings.TrimSpace(pat) == "" {
			return fmt.Errorf("%q is not a destination pattern such as \"postgres@db*.example.org\" ('*' any run of characters, '?' one, [a-z] a class)", pat)
		}
	}
	return nil
}

// CheckSSHPrograms reports the first entry of programs that is not an
// absolute, clean path that a shell reads as written ([recovery]
// ssh_programs).
func CheckSSHPrograms(programs []string) error {
	for _, prog := range programs {
		if !path.IsAbs(prog) || path.Clean(prog) != prog || strings.IndexFunc(prog, func(r rune) bool { return !remotePathSafe(r) }) >= 0 {
			return fmt.Errorf("%q is not an absolute path of an ssh program such as \"/usr/bin/ssh\" (letters, digits and - _ . / + , @ =)", prog)
		}
	}
	return nil
}
