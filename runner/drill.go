package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pgmask"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// DrillMarker is the file in each drill's directory that says the
// directory is a drill's, whose and which process ran it: a runner that
// finds one at start-up removes the directory (its drill's runner died).
const DrillMarker = ".pg-backup-api-drill"

// DefaultPostgresBin is where PostgreSQL's server programs of a major
// version are (Debian's and Ubuntu's layout); %s is the major version.
const DefaultPostgresBin = "/usr/lib/postgresql/%s/bin"

// drillPort is the port number in the socket's name; nothing listens on
// TCP (listen_addresses is empty).
const drillPort = ops.DrillPort

// drillCredential, when set, is whom a drill's PostgreSQL runs as when the
// runner runs as root, in place of Barman's barman_user: tests set it to a
// user that exists wherever they run.
var drillCredential *syscall.Credential

// drillUser is whom a drill's directory and PostgreSQL belong to: nil when
// the runner is not root (it runs as Barman's user, as it should, and
// PostgreSQL runs as the runner); as root, which PostgreSQL refuses,
// Barman's barman_user, as whom Barman itself restores (it drops to that
// user when started as root).
func (r *Runner) drillUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if drillCredential != nil {
		return drillCredential, nil
	}
	name := r.BarmanUser
	if name == "" {
		name = "barman"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("this runner runs as root, which PostgreSQL refuses, and Barman's user %q cannot be run as instead: %v; run pg-backup-api as Barman's user", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// chownTree gives dir and everything in it to c.
func chownTree(dir string, c *syscall.Credential) error {
	return filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err == nil {
			err = os.Lchown(path, int(c.Uid), int(c.Gid))
		}
		return err
	})
}

// drillStep is a failed step of a drill: which one, and why.
type drillStep struct {
	step string
	why  string
}

func (e *drillStep) Error() string { return "drill failed at step " + e.step + ": " + e.why }

// drill restores op's backup with argv (barman recover, local), starts
// PostgreSQL on it, runs the queries and removes everything again,
// whatever happens. Each step and its duration go to the operation's log.
func (r *Runner) drill(ctx context.Context, op *ops.Operation, argv []string, blog *barmanLog) (int, error) {
	policy := ops.Policy{Options: barman.Options, DrillDirectory: r.DrillDirectory}
	backupID, do, err := policy.DrillJob(op)
	if err != nil {
		return -1, err
	}
	out, err := os.OpenFile(r.Store.LogPath(r.Server, op.ID), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return -1, err
	}
	defer out.Close()
	say := func(format string, args ...any) {
		fmt.Fprintf(out, ops.DrillLinePrefix+format+"\n", args...)
	}
	dir := ops.DrillDir(r.DrillDirectory, op.Server, op.ID)
	// Checked at create time for the longest ID the store gives; here for
	// this one, which another tool may have named, under the directory
	// configured now: before a restore that PostgreSQL could not use.
	if err := ops.CheckDrillSocket(r.DrillDirectory, op.Server, op.ID); err != nil {
		return -1, &drillStep{"prepare", ops.ErrorMessage(err)}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return -1, &drillStep{"prepare", fmt.Sprintf("cannot create %s: %v; check [drills] directory and that Barman's user owns it", filepath.Dir(dir), err)}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return -1, &drillStep{"prepare", fmt.Sprintf("cannot create %s: %v", dir, err)}
	}
	d := &drillRun{r: r, op: op, dir: dir, data: filepath.Join(dir, "data"), say: say}
	defer d.cleanup()
	if d.cred, err = r.drillUser(); err != nil {
		return -1, &drillStep{"prepare", err.Error()}
	}
	if d.cred != nil {
		// Barman restores as its user: it must be able to write here.
		for _, p := range []string{filepath.Dir(dir), dir} {
			if err := os.Chown(p, int(d.cred.Uid), int(d.cred.Gid)); err != nil {
				return -1, &drillStep{"prepare", err.Error()}
			}
		}
	}
	marker := fmt.Sprintf("pid %d\noperation %s\nserver %s\n", os.Getpid(), op.ID, op.Server)
	if err := os.WriteFile(filepath.Join(dir, DrillMarker), []byte(marker), 0o600); err != nil {
		return -1, &drillStep{"prepare", err.Error()}
	}

	tsArgs, moved, err := r.drillTablespaceArgs(op, backupID, dir)
	if err != nil {
		return -1, &drillStep{"prepare", err.Error()}
	}
	argv = append(argv[:len(argv):len(argv)], tsArgs...)

	say("restoring backup %s of server %s into %s", backupID, op.Server, d.data)
	for _, ts := range moved {
		say("tablespace %s (oid %d) is restored into %s, not where the server has it", ts.Name, ts.OID, ts.Location)
	}
	start := time.Now()
	// The timeout counts from the restore: what comes before takes
	// milliseconds, and a limit given whole reads as the one configured.
	deadline := start.Add(do.Timeout)
	code, err := r.runBarman(ctx, op, argv, blog, do.Timeout, `the drill's "timeout"`)
	if err != nil {
		return code, err
	}
	if code != 0 {
		why := fmt.Sprintf("barman recover exited with code %d", code)
		if e := barmanError(r.Store.LogPath(r.Server, op.ID)); e != "" {
			why += ": " + e
		}
		return code, &drillStep{"restore", why + " (its output is above)"}
	}
	say(ops.DrillStepLine("restore", since(start), ""))

	// The remaining steps stop on a cancel request, at the deadline, or
	// when the runner is told to stop, as Barman does.
	sctx, stop := r.watchStop(ctx, op, deadline, do.Timeout)
	defer stop()
	d.ctx = sctx

	start = time.Now()
	if err := d.startPostgres(); err != nil {
		return -1, d.stepError("start", err)
	}
	if err := d.waitConsistent(do); err != nil {
		step := "consistency"
		if !d.connected {
			step = "start"
		}
		return -1, d.stepError(step, err)
	}
	say(ops.DrillStepLine("consistency", since(start), "PostgreSQL started and ended recovery"))

	start = time.Now()
	for i, q := range do.Queries {
		qs := time.Now()
		first, err := d.psql(do, q.Query)
		if err != nil {
			return -1, d.stepError(fmt.Sprintf("query %d", i+1), err)
		}
		if q.Expect != nil && first != *q.Expect {
			return -1, &drillStep{fmt.Sprintf("query %d", i+1), fmt.Sprintf("%q returned %q first, expected %q", clip(q.Query), clip(first), clip(*q.Expect))}
		}
		say("query %d: ok in %s, first value %q", i+1, since(qs), clip(first))
	}
	say(ops.DrillStepLine("queries", since(start), fmt.Sprintf("%d queries", len(do.Queries))))
	return 0, nil
}

// watchStop returns a context that ends with a *stopped cause on a cancel
// request, at the deadline, or when ctx ends.
func (r *Runner) watchStop(ctx context.Context, op *ops.Operation, deadline time.Time, limit time.Duration) (context.Context, func()) {
	sctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan struct{})
	go func() {
		poll := r.CancelPoll
		if poll <= 0 {
			poll = 250 * time.Millisecond
		}
		tick := time.NewTicker(poll)
		defer tick.Stop()
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		for {
			select {
			case <-done:
				return
			case <-timer.C:
				cancel(&stopped{ops.PhaseTimeout, fmt.Sprintf(`timed out: the drill's "timeout" is %s; PostgreSQL was stopped and the drill's directory removed`, limit)})
				return
			case <-ctx.Done():
				cancel(&stopped{"", fmt.Sprintf("the runner was stopped (%v) during the drill; PostgreSQL was stopped and the drill's directory removed", context.Cause(ctx))})
				return
			case <-tick.C:
				if who, ok := r.Store.CancelRequested(r.Server, op.ID); ok {
					cancel(&stopped{ops.PhaseCancelled, "cancelled by " + who + " during the drill; PostgreSQL was stopped and the drill's directory removed"})
					return
				}
			}
		}
	}()
	return sctx, func() { close(done); cancel(nil) }
}

// drillRun is one drill's PostgreSQL.
type drillRun struct {
	r         *Runner
	op        *ops.Operation
	ctx       context.Context
	dir, data string
	bin       string
	say       func(string, ...any)
	pg        *exec.Cmd
	exited    chan struct{}
	logStart  int64 // where this start's lines begin in postgres.log
	connected bool  // PostgreSQL has accepted a connection
	// cred is whom PostgreSQL runs as when the runner is root (see
	// Runner.drillUser); nil: as the runner.
	cred *syscall.Credential
}

func (d *drillRun) logPath() string { return filepath.Join(d.dir, "postgres.log") }

// stepError is err as the failure of step: the run's stop reason when it
// was stopped, else err with PostgreSQL's log lines of this start.
func (d *drillRun) stepError(step string, err error) error {
	if d.ctx != nil {
		var st *stopped
		if errors.As(context.Cause(d.ctx), &st) && d.ctx.Err() != nil {
			return st
		}
	}
	why := err.Error()
	// PostgreSQL's log says why it did not start or recover; a query's
	// failure psql reports itself.
	if strings.HasPrefix(step, "query") {
		return &drillStep{step, why}
	}
	if lines := d.logTail(20); lines != "" {
		why += "; PostgreSQL's log:\n" + lines
	}
	return &drillStep{step, why}
}

// logTail is the last n lines PostgreSQL wrote since it was started,
// masked.
func (d *drillRun) logTail(n int) string {
	data, err := os.ReadFile(d.logPath())
	if err != nil || int64(len(data)) < d.logStart {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data[d.logStart:]), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return pgmask.Text(strings.TrimSpace(strings.Join(lines, "\n")))
}

// startPostgres starts PostgreSQL of the backup's major version on the
// restored data directory, reachable only on a socket in the drill's
// directory, with its own configuration so that nothing of the original
// server's (archiving, replication, preloaded libraries, ports, paths)
// applies.
func (d *drillRun) startPostgres() error {
	v, err := os.ReadFile(filepath.Join(d.data, "PG_VERSION"))
	if err != nil {
		return fmt.Errorf("the restored directory has no PG_VERSION (%v): Barman restored no data directory", err)
	}
	major := strings.TrimSpace(string(v))
	pattern := d.r.PostgresBin
	if pattern == "" {
		pattern = DefaultPostgresBin
	}
	d.bin = fmt.Sprintf(pattern, major)
	postgres := filepath.Join(d.bin, "postgres")
	if _, err := os.Stat(postgres); err != nil {
		return fmt.Errorf("the backup is of PostgreSQL %s, whose server is not installed here (%s: %v); install postgresql-%s on the Barman host", major, postgres, err, major)
	}
	// A standby would wait for a primary for ever; recovery from the
	// archive (Barman's restore_command) ends and promotes.
	if err := os.Remove(filepath.Join(d.data, "standby.signal")); err == nil {
		os.WriteFile(filepath.Join(d.data, "recovery.signal"), nil, 0o600)
		d.say("removed standby.signal: the drill recovers from the archive and promotes")
	}
	os.Remove(filepath.Join(d.data, "postmaster.pid"))
	// PostgreSQL refuses a data directory that others can read.
	os.Chmod(d.data, 0o700)
	files := map[string]string{
		"postgresql.conf": "# pg-backup-api drill: settings are on the command line\n",
		"pg_hba.conf":     "local all all trust\n",
		"pg_ident.conf":   "",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(d.dir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	logf, err := os.OpenFile(d.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	if fi, err := logf.Stat(); err == nil {
		d.logStart = fi.Size()
	}
	args := []string{"-D", d.data}
	for _, s := range []string{
		"config_file=" + filepath.Join(d.dir, "postgresql.conf"),
		"hba_file=" + filepath.Join(d.dir, "pg_hba.conf"),
		"ident_file=" + filepath.Join(d.dir, "pg_ident.conf"),
		"listen_addresses=",
		"unix_socket_directories=" + d.dir,
		"unix_socket_permissions=0700",
		"port=" + drillPort,
		"archive_mode=off",
		"primary_conninfo=",
		"primary_slot_name=",
		"synchronous_standby_names=",
		"shared_preload_libraries=",
		"hot_standby=off",
		"logging_collector=off",
		"log_destination=stderr",
		"ssl=off",
		"cluster_name=pg-backup-api-drill",
		// The data directory's postgresql.auto.conf (ALTER SYSTEM on the
		// original server) still applies, below the command line: what
		// was set there for that host must not stop PostgreSQL from
		// starting on this one, or from letting the drill in.
		"shared_buffers=128MB",
		"huge_pages=off",
		"session_preload_libraries=",
		"local_preload_libraries=",
		"unix_socket_group=",
		"lc_messages=C",
	} {
		args = append(args, "-c", s)
	}
	if n, err := strconv.Atoi(major); err == nil && n >= 12 {
		// Commands recovery runs (recovery.conf's before 12): Barman
		// writes neither; one of the original standby's would run here.
		args = append(args, "-c", "archive_cleanup_command=", "-c", "recovery_end_command=")
	}
	cmd := exec.Command(postgres, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = append(os.Environ(), MarkerEnv+"="+d.r.marker(d.op.ID), "LC_MESSAGES=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if c := d.cred; c != nil {
		if err := chownTree(d.dir, c); err != nil {
			return fmt.Errorf("giving %s to Barman's user: %v", d.dir, err)
		}
		cmd.SysProcAttr.Credential = c
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start %s: %v", postgres, err)
	}
	d.pg = cmd
	d.exited = make(chan struct{})
	go func() { cmd.Wait(); close(d.exited) }()
	d.say("started PostgreSQL %s (pid %d) on %s, socket in %s", major, cmd.Process.Pid, d.data, d.dir)
	return nil
}

// waitConsistent waits until PostgreSQL accepts connections and is out of
// recovery.
func (d *drillRun) waitConsistent(do *ops.DrillOptions) error {
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-d.exited:
			if !d.connected {
				return fmt.Errorf("PostgreSQL exited before it accepted a connection (%s)", d.pg.ProcessState)
			}
			return fmt.Errorf("PostgreSQL exited before recovery ended (%s)", d.pg.ProcessState)
		case <-d.ctx.Done():
			return context.Cause(d.ctx)
		case <-tick.C:
		}
		v, err := d.psqlAs(do.User, do.Database, "select pg_is_in_recovery()")
		if err == nil {
			d.connected = true
			if v == "f" {
				return nil
			}
			continue
		}
		// A server still starting or recovering refuses connections
		// (SQLSTATE 57P03, which pg_isready tells apart); one that
		// accepts them but not ours (no such role or database) never
		// will: waiting would only end at the drill's timeout.
		if d.ctx.Err() == nil && d.accepting() {
			d.connected = true
			// It may have begun to accept them since psql asked: an
			// end-of-recovery checkpoint (after a promotion at a
			// recovery target, say) refuses connections until it ends.
			// Only a refusal while it accepts is the drill's own.
			v, err := d.psqlAs(do.User, do.Database, "select pg_is_in_recovery()")
			if err == nil {
				if v == "f" {
					return nil
				}
				continue
			}
			return fmt.Errorf("PostgreSQL accepts connections, but not the drill's: %v; give the drill a \"user\" and \"database\" that exist in the backup", err)
		}
	}
}

// accepting says whether PostgreSQL accepts connections: pg_isready's
// exit status 0, which it gives also when the role or database it would
// use does not exist, and not while the server is starting or recovering.
func (d *drillRun) accepting() bool {
	cmd := exec.CommandContext(d.ctx, filepath.Join(d.bin, "pg_isready"), "-q", "-t", "10", "-h", d.dir, "-p", drillPort)
	cmd.Env = append(os.Environ(), MarkerEnv+"="+d.r.marker(d.op.ID), "LC_MESSAGES=C")
	return cmd.Run() == nil
}

// psql runs query in the drill's database and returns the first value of
// its first row.
func (d *drillRun) psql(do *ops.DrillOptions, query string) (string, error) {
	return d.psqlAs(do.User, do.Database, query)
}

func (d *drillRun) psqlAs(user, database, query string) (string, error) {
	cmd := exec.CommandContext(d.ctx, filepath.Join(d.bin, "psql"), "-X", "-A", "-t", "-q",
		"-v", "ON_ERROR_STOP=1", "-F", "\x1f", "-h", d.dir, "-p", drillPort, "-U", user, "-d", database, "-c", query)
	cmd.Env = append(os.Environ(), MarkerEnv+"="+d.r.marker(d.op.ID), "PGCONNECT_TIMEOUT=10", "LC_MESSAGES=C", "PGAPPNAME=pg-backup-api-drill")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if cause := context.Cause(d.ctx); cause != nil && d.ctx.Err() != nil {
			return "", cause
		}
		return "", fmt.Errorf("%q failed (%v): %s", clip(query), err, pgmask.Text(strings.TrimSpace(stderr.String())))
	}
	first, _, _ := strings.Cut(stdout.String(), "\n")
	first, _, _ = strings.Cut(first, "\x1f")
	return first, nil
}

// cleanup stops PostgreSQL (immediate shutdown) and removes the drill's
// directory, whatever state the drill is in.
func (d *drillRun) cleanup() {
	if d.pg != nil && d.pg.Process != nil {
		select {
		case <-d.exited:
		default:
			d.pg.Process.Signal(syscall.SIGQUIT) // immediate shutdown
			select {
			case <-d.exited:
			case <-time.After(10 * time.Second):
				syscall.Kill(-d.pg.Process.Pid, syscall.SIGKILL)
				<-d.exited
			}
		}
		// Backends that outlived the postmaster still hold its group.
		syscall.Kill(-d.pg.Process.Pid, syscall.SIGKILL)
		d.say("stopped PostgreSQL")
	}
	killMarked(d.r.marker(d.op.ID))
	if err := os.RemoveAll(d.dir); err != nil {
		d.say("could not remove %s: %v; remove it by hand", d.dir, err)
		return
	}
	d.say("removed %s", d.dir)
}

// sweepDrills removes what drills of this server left behind when their
// runner died: every directory under the server's drills directory that
// has a DrillMarker. Called holding the drill lane's lock, so none of them
// is running.
func (r *Runner) sweepDrills() {
	if r.DrillDirectory == "" || r.Lane != ops.LaneDrill {
		return
	}
	root := filepath.Join(r.DrillDirectory, r.Server)
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if !e.IsDir() || !ops.ValidName(e.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, DrillMarker)); err != nil {
			continue
		}
		killed := killMarked(r.marker(e.Name()))
		if err := os.RemoveAll(dir); err != nil {
			r.logf("drill %s: cannot remove what it left behind in %s: %v", e.Name(), dir, err)
			continue
		}
		r.logf("drill %s: its runner died; removed %s (killed %d leftover processes)", e.Name(), dir, killed)
	}
}

func since(t time.Time) time.Duration {
	d := time.Since(t)
	if d > time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// clip keeps recorded text short, and masked.
func clip(s string) string { return clipN(s, 200) }

func clipN(s string, n int) string {
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return pgmask.Text(s)
}
