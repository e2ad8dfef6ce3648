package cli

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/bytesize"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/runner"
	"golang.org/x/sys/unix"
)

// doctorPostgresBin is where doctor looks for PostgreSQL's server, as the
// runner does; tests point it into their own directory.
var doctorPostgresBin = runner.DefaultPostgresBin

// doctorDrills says whether restore drills can run: the drills directory,
// its free space against each server's newest DONE backup, and the
// PostgreSQL server of that backup's major version.
func doctorDrills(r *doctorReport, file *FileConfig, cfg *ops.BarmanConfig) {
	dir := file.Drills.Directory
	if dir == "" {
		r.add("drills", checkOK, "not configured ([drills] directory is unset): drills are refused")
		return
	}
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		r.add("drills", checkFail, "[drills] directory %s: %v; create it, owned by Barman's user, mode 0700", dir, unwrapPath(err))
		return
	case !fi.IsDir():
		r.add("drills", checkFail, "[drills] directory %s is not a directory", dir)
		return
	}
	free, err := ops.FreeBytes(dir)
	if err != nil {
		r.add("drills", checkFail, "[drills] directory %s: %v", dir, err)
		return
	}
	if who, ok := drillsWritable(dir, fi, cfg); !ok {
		// Every drill would fail at its first step, after it was recorded.
		r.add("drills", checkFail, "[drills] directory %s is not writable by %s, whom drills run as (owner uid %d, mode %04o): chown %s %s; chmod 0700 %s",
			dir, who, ownerOf(fi), fi.Mode().Perm(), who, dir, dir)
		return
	}
	r.add("drills", checkOK, "[drills] directory %s exists, %s free", dir, bytesize.String(free))
	if cfg == nil {
		return
	}
	for i, e := range file.Drills.Schedule {
		// As serve checks it when it starts or reloads.
		if _, err := cfg.Server(e.Server); err != nil {
			r.add("drills", checkFail, "drills.schedule[%d]: %s; serve refuses to start (or reload) with it: fix the entry's server or remove the entry", i, ops.ErrorMessage(err))
		}
	}
	for _, name := range sortedKeys(cfg.Servers) {
		if err := ops.CheckDrillSocket(dir, name, ""); err != nil {
			r.add("drills", checkFail, "%s", ops.ErrorMessage(err))
			continue
		}
		// With the WAL database, as a create reads it: a drill needs room
		// for the backup and its WAL.
		cat, err := barman.ReadCatalog(cfg.Servers[name])
		if err != nil {
			r.add("drills", checkWarn, "server %s: its backups cannot be read: %v", name, ops.ErrorMessage(err))
			continue
		}
		backups := cat.Backups
		var newest *ops.CatalogBackup
		for i := range backups {
			if backups[i].Status == ops.BackupDone {
				newest = &backups[i]
			}
		}
		if newest == nil {
			r.add("drills", checkOK, "server %s: no DONE backup to drill yet", name)
			continue
		}
		major := backupMajor(newest.Path)
		if major == "" {
			r.add("drills", checkWarn, "server %s: backup %s's backup.info gives no PostgreSQL version; a drill reads PG_VERSION once restored", name, newest.ID)
		} else if postgres := filepath.Join(fmt.Sprintf(doctorPostgresBin, major), "postgres"); !isFile(postgres) {
			r.add("drills", checkFail, "server %s: its newest backup %s is of PostgreSQL %s, whose server %s is not installed: install postgresql-%s, or its drills fail at start", name, newest.ID, major, postgres, major)
		} else {
			r.add("drills", checkOK, "server %s: PostgreSQL %s's server for its newest backup %s is installed (%s)", name, major, newest.ID, postgres)
		}
		if need := newest.Size + newest.WALSize; need > 0 && uint64(need) > free {
			r.add("drills", checkWarn, "server %s: its newest backup %s needs %s (the backup and its WAL), more than the %s free in %s: a drill of it would be refused", name, newest.ID, bytesize.String(uint64(need)), bytesize.String(free), dir)
		}
	}
}

// drillsWritable says whether the user drills run as may create their
// directories in dir: this user, or Barman's barman_user when this is root
// (a runner started as root restores and starts PostgreSQL as that user).
func drillsWritable(dir string, fi os.FileInfo, cfg *ops.BarmanConfig) (who string, ok bool) {
	if os.Geteuid() == 0 {
		name := "barman"
		if cfg != nil && cfg.BarmanUser != "" {
			name = cfg.BarmanUser
		}
		u, err := user.Lookup(name)
		if err != nil {
			return name, false
		}
		return name, writableBy(fi, u)
	}
	who = strconv.Itoa(os.Geteuid())
	if me, err := user.Current(); err == nil {
		who = me.Username
	}
	return who, unix.Access(dir, unix.W_OK|unix.X_OK) == nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// backupMajor is the PostgreSQL major version a backup.info's version
// says: 150005 is "15", 90624 is "9.6"; "" when it says none.
func backupMajor(info string) string {
	f, err := os.Open(info)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(k) != "version" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case err != nil || n <= 0:
			return ""
		case n >= 100000:
			return strconv.Itoa(n / 10000)
		default:
			return fmt.Sprintf("%d.%d", n/10000, n/100%100)
		}
	}
	return ""
}
