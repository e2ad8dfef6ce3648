package cli

// doctor checks, in one run, what operators get wrong when they deploy
// pg-backup-api, and says for each what to do. It reads everything through
// the code the other commands use (LoadFileConfig, barman.Reader, the wire
// client, the TLS loader of serve), so that what it says is what they do.

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// Levels of a doctor check. Only a failure changes the exit status.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
)

// certWarnDays is how close to its expiry serve's certificate is worth a
// warning: time to renew it before clients refuse it.
const certWarnDays = 14

// remoteCheckTimeout bounds each remote's checks: doctor is run by a person
// waiting for an answer, and a remote that takes longer is worth a line.
const remoteCheckTimeout = 5 * time.Second

const doctorDescription = "Checks, one line each, with what to do about a problem: each configuration file of the search " +
	"order (which one is read; its syntax, keys, and whether secrets in it are readable by every user); Barman's " +
	"configuration as Barman reads it, and its broken server sections with their file:line; that barman_home is " +
	"writable by the user runners run as (Barman's barman_user when doctor runs as root), and that every operation file under it is " +
	"that user's (a command once run as root leaves files serve cannot write); the Barman command and " +
	"its version; that each [remotes.NAME] answers within 5s and accepts its credentials; that serve.listen " +
	"is free or held by a pg-backup-api that answers; and that serve's TLS certificate and key are readable, match, " +
	"and are not expired (a warning under 14 days left); and whether restore drills can run: the [drills] directory and whether drills may write to it, " +
	"its free space against the newest backup and its WAL, that each [[drills.schedule]] server is one of Barman's, whether each server's drill socket fits a Unix socket path, and the PostgreSQL server of each server's " +
	"newest backup's major version.\n\n" +
	"Exit status: 0 when no check failed (warnings included), 5 when one did. -o json prints " +
	`{"ok": BOOL, "checks": [{"check", "status" (ok, warn, fail), "message"}]}.`

// checkResult is one line of doctor's report.
type checkResult struct {
	Check   string `json:"check"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// doctorReport collects the results in the order they were checked.
type doctorReport struct {
	checks []checkResult
}

func (r *doctorReport) add(check, status, format string, args ...any) {
	r.checks = append(r.checks, checkResult{Check: check, Status: status, Message: fmt.Sprintf(format, args...)})
}

func (r *doctorReport) failed() int {
	n := 0
	for _, c := range r.checks {
		if c.Status == checkFail {
			n++
		}
	}
	return n
}

func (st *appState) doctorCommand() *cli.Command {
	return &cli.Command{
		Name:        "doctor",
		Usage:       "check the configuration, Barman, barman_home, remotes, and serve's address and certificate",
		UsageText:   "pg-backup-api doctor [-o json]",
		Description: doctorDescription,
		Flags:       []cli.Flag{configFlag(), barmanConfigFlag(), outputFlag()},
		Action: func(c *cli.Context) error {
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			r := &doctorReport{}
			file := st.doctorConfig(c, r)
			bcfg := st.doctorBarman(c, r)
			doctorBarmanHome(r, bcfg)
			doctorStoreOwner(r, bcfg)
			doctorBarmanCommand(r, st.settings.barmanCommand)
			doctorRemotes(c, r, file)
			st.doctorListen(c, r, file.Serve)
			doctorTLS(r, file.Serve, time.Now())
			doctorDrills(r, file, bcfg)
			if p.format == formatJSON {
				if err := p.json(map[string]any{"ok": r.failed() == 0, "checks": r.checks}); err != nil {
					return err
				}
			} else {
				for _, ch := range r.checks {
					label := ch.Status
					if ch.Status != checkOK {
						label = strings.ToUpper(label)
					}
					fmt.Fprintf(p.w, "%-4s  %s: %s\n", label, ch.Check, termsafe.Line(ch.Message))
				}
			}
			if n := r.failed(); n > 0 {
				return cli.Exit(fmt.Sprintf("pg-backup-api: doctor: %d of %d checks failed", n, len(r.checks)), ExitUnavailable)
			}
			return nil
		},
	}
}

// doctorConfig reports on each configuration file of the search order and
// resolves the settings as load does, with an empty configuration when the
// file cannot be read, so that the other checks still run.
func (st *appState) doctorConfig(c *cli.Context, r *doctorReport) *FileConfig {
	path, required := findConfig(c)
	if !c.IsSet("config") {
		for _, p := range configSearchPath() {
			switch _, err := os.Lstat(p); {
			case p == path:
			case errors.Is(err, os.ErrNotExist):
				r.add("config", checkOK, "%s: not present", p)
			default:
				r.add("config", checkWarn, "%s exists but is not read: %s comes first in the search order and files are never merged; "+
					"move what you need into %s and remove %s", p, path, path, p)
			}
		}
		if user := userConfigPath(); user != "" {
			for _, p := range misplacedUserConfigs(user) {
				if _, err := os.Lstat(p); err == nil {
					r.add("config", checkWarn, "%s is never read: a user's configuration file is %s; move it there (or pass --config %s)", p, user, p)
				}
			}
		}
	}
	file := &FileConfig{}
	switch {
	case path == "":
		r.add("config", checkOK, "no configuration file (looked in %s): defaults apply", strings.Join(configSearchPath(), ", "))
	default:
		loaded, err := LoadFileConfig(path, required)
		if err != nil {
			r.add("config", checkFail, "%v", err)
			break
		}
		file = loaded
		if w := secretsWarning(path, file); w != "" {
			r.add("config", checkFail, "%s", w)
		} else {
			r.add("config", checkOK, "%s is read: its syntax and keys are valid", path)
		}
	}
	st.settings = newSettings(c, file, path)
	return file
}

// misplacedUserConfigs are the names beside user (the user's configuration
// file) that operators write by mistake, ~/.config/pg-backup-api.toml
// first: nothing reads them, and nothing else would say so.
func misplacedUserConfigs(user string) []string {
	dir := filepath.Dir(user)
	return []string{filepath.Join(filepath.Dir(dir), "pg-backup-api.toml"), filepath.Join(dir, "pg-backup-api.toml")}
}

// doctorBarman reads Barman's configuration as every command does; nil when
// it cannot be read.
func (st *appState) doctorBarman(c *cli.Context, r *doctorReport) *ops.BarmanConfig {
	cfg, err := barman.NewReader(st.settings.barmanConfig).FreshConfig()
	if err != nil {
		r.add("barman config", checkFail, "%v", err)
		return nil
	}
	r.add("barman config", checkOK, "%s is read as Barman reads it (%d files): %d servers, %d models",
		cfg.Path, len(cfg.Files), len(cfg.Servers), len(cfg.Models))
	for _, name := range sortedKeys(cfg.Broken) {
		r.add("barman config", checkFail, "section [%s] cannot be read, so requests for it are refused: %s", name, cfg.Broken[name])
	}
	for _, name := range sortedKeys(cfg.Servers) {
		if p := cfg.Servers[name].Problem; p != "" {
			r.add("barman config", checkWarn, "server %s: %s", name, p)
		}
	}
	return cfg
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// doctorBarmanHome checks that the user runners run as may create
// operations under barman_home: this user, or Barman's barman_user when
// this is root (as root, the files we would create are ones Barman cannot
// replace; see checkBarmanUser).
func doctorBarmanHome(r *doctorReport, cfg *ops.BarmanConfig) {
	if cfg == nil {
		r.add("barman_home", checkFail, "not checked: Barman's configuration cannot be read (see above)")
		return
	}
	home := cfg.BarmanHome
	fi, err := os.Stat(home)
	if err != nil {
		r.add("barman_home", checkFail, "%s (barman_home in %s): %v; create it, or fix barman_home (is its volume mounted?)", home, cfg.Path, unwrapPath(err))
		return
	}
	if !fi.IsDir() {
		r.add("barman_home", checkFail, "%s (barman_home in %s) is not a directory", home, cfg.Path)
		return
	}
	me, _ := user.Current()
	myName := strconv.Itoa(os.Geteuid())
	if me != nil {
		myName = me.Username
	}
	if os.Geteuid() == 0 && cfg.BarmanUser != "" {
		who, err := user.Lookup(cfg.BarmanUser)
		if err != nil {
			r.add("barman_home", checkFail, "barman_user %s (in %s) is not a user of this machine: %v", cfg.BarmanUser, cfg.Path, err)
			return
		}
		if !writableBy(fi, who) {
			r.add("barman_home", checkFail, "%s is not writable by Barman's user %s, whom runners should run as (owner uid %d, mode %04o): chown %s %s",
				home, who.Username, ownerOf(fi), fi.Mode().Perm(), who.Username, home)
			return
		}
		if who.Uid == "0" {
			r.add("barman_home", checkOK, "%s is writable by Barman's user %s", home, who.Username)
			return
		}
		r.add("barman_home", checkOK, "%s is writable by Barman's user %s; run commands as %s (sudo -u %s pg-backup-api ...), not as root, "+
			"so that the files they create are Barman's", home, who.Username, who.Username, who.Username)
		return
	}
	if err := unix.Access(home, unix.W_OK|unix.X_OK); err != nil {
		r.add("barman_home", checkFail, "%s is not writable by %s, whom runners started now would run as: run as Barman's user (sudo -u %s pg-backup-api ...) or fix its owner",
			home, myName, orDefault(cfg.BarmanUser, "barman"))
		return
	}
	r.add("barman_home", checkOK, "%s is writable by %s, whom runners started now run as", home, myName)
	if cfg.BarmanUser != "" && (me == nil || me.Username != cfg.BarmanUser) {
		r.add("barman_home", checkWarn, "running as %s, not as Barman's user %s: files created now would belong to %s (run as %s, e.g. sudo -u %s pg-backup-api ...)",
			myName, cfg.BarmanUser, myName, cfg.BarmanUser, cfg.BarmanUser)
	}
}

// writableBy says whether who may create files in the directory fi by its
// mode bits, as the kernel decides without ACLs.
func writableBy(fi os.FileInfo, who *user.User) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	if who.Uid == "0" {
		return true
	}
	mode := fi.Mode().Perm()
	if strconv.FormatUint(uint64(st.Uid), 10) == who.Uid {
		return mode&0o300 == 0o300
	}
	groups, _ := who.GroupIds()
	groups = append(groups, who.Gid)
	for _, g := range groups {
		if g == strconv.FormatUint(uint64(st.Gid), 10) {
			return mode&0o030 == 0o030
		}
	}
	return mode&0o003 == 0o003
}

func ownerOf(fi os.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return 0
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// doctorBarmanCommand runs `barman -v` as every operation would run Barman.
func doctorBarmanCommand(r *doctorReport, command string) {
	v, err := barman.NewCommand(command).Version()
	if err != nil {
		r.add("barman", checkFail, "cannot run %q: %v; install Barman, or set barman_command (--barman-command) to the command that runs it", command+" -v", err)
		return
	}
	r.add("barman", checkOK, "%q runs Barman %s", command, v)
}

// doctorRemotes asks each [remotes.NAME] for a page of operations, which
// needs the read permission: an answer says that the server is there and
// accepts its credentials. When it does not answer, GET /status without
// credentials (open by default) tells a server that refuses them from one
// that cannot be reached.
func doctorRemotes(c *cli.Context, r *doctorReport, file *FileConfig) {
	if len(file.Remotes) == 0 {
		r.add("remotes", checkOK, "none configured")
		return
	}
	for _, name := range sortedKeys(file.Remotes) {
		rc := file.Remotes[name]
		check := "remotes." + name
		client, err := newRemoteClient(c, rc, remoteCheckTimeout)
		if err != nil {
			r.add(check, checkFail, "%s; fix the [remotes.%s] table", exitMessage(err), name)
			continue
		}
		_, _, err = client.ListPage("", ops.ListOptions{Limit: 1})
		if err == nil {
			r.add(check, checkOK, "%s answers and accepts our credentials", rc.URL)
			continue
		}
		anon, aerr := newRemoteClient(c, RemoteConfig{URL: rc.URL, CACert: rc.CACert}, remoteCheckTimeout)
		if aerr == nil {
			aerr = anon.Status()
		}
		if aerr == nil {
			r.add(check, checkFail, "%s; %s answers, so check remotes.%s.token (and client_cert, client_key) and the permissions the server gives them", strings.TrimSuffix(err.Error(), httpd.CredentialsHint), rc.URL, name)
			continue
		}
		r.add(check, checkFail, "%v; is serve running there, and is %s its address?", err, rc.URL)
	}
}

// exitMessage is an error's message without the program name fail adds.
func exitMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "pg-backup-api: ")
}

// doctorListen checks that serve could listen where it is told to, or that
// a pg-backup-api serve already does.
func (st *appState) doctorListen(c *cli.Context, r *doctorReport, sc ServeConfig) {
	addr := orDefault(sc.Listen, DefaultListen)
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		r.add("serve.listen", checkOK, "%s is free for serve", addr)
		return
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		r.add("serve.listen", checkFail, "serve could not listen on %s: %v; fix serve.listen", addr, err)
		return
	}
	rc, err := st.localServe(c)
	if err == nil {
		var client interface{ Status() error }
		if client, err = newRemoteClient(c, rc, remoteCheckTimeout); err == nil {
			err = client.Status()
		}
	}
	if err != nil {
		r.add("serve.listen", checkFail, "%s is in use by a program that does not answer as pg-backup-api (%s): stop it, or set serve.listen to a free address",
			addr, exitMessage(err))
		return
	}
	r.add("serve.listen", checkOK, "%s is in use by a pg-backup-api serve that answers (%s)", addr, rc.URL)
}

// doctorTLS checks serve's certificate and key as serve loads them, and
// how long the certificate has left.
func doctorTLS(r *doctorReport, sc ServeConfig, now time.Time) {
	if sc.TLSCert == "" {
		r.add("serve tls", checkOK, "serve speaks plain HTTP (no serve.tls_cert)")
		return
	}
	m, err := loadTLSMaterial(sc, nil)
	if err != nil {
		r.add("serve tls", checkFail, "%v; serve would refuse to start", err)
		return
	}
	leaf, err := x509.ParseCertificate(m.cert.Certificate[0])
	if err != nil {
		r.add("serve tls", checkFail, "serve.tls_cert %s: %v", sc.TLSCert, err)
		return
	}
	until := leaf.NotAfter.UTC().Format("2006-01-02")
	days := int(leaf.NotAfter.Sub(now).Hours() / 24)
	switch {
	case now.After(leaf.NotAfter):
		r.add("serve tls", checkFail, "serve.tls_cert %s expired on %s: clients refuse it; renew it, then systemctl reload pg-backup-api", sc.TLSCert, until)
	case now.Before(leaf.NotBefore):
		r.add("serve tls", checkFail, "serve.tls_cert %s is not valid before %s: clients refuse it until then (is this machine's clock right?)",
			sc.TLSCert, leaf.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
	case days < certWarnDays:
		r.add("serve tls", checkWarn, "serve.tls_cert %s expires in %d days (%s): renew it, then systemctl reload pg-backup-api", sc.TLSCert, days, until)
	default:
		r.add("serve tls", checkOK, "serve.tls_cert %s and serve.tls_key %s are readable and match; %d days left (until %s)", sc.TLSCert, sc.TLSKey, days, until)
	}
}
