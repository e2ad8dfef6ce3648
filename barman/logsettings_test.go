package barman

import (
	"path/filepath"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
)

// TestReadLogSettings: log_file and log_format are read from [barman] as
// Barman's Config.get reads them (interpolated, quotes stripped, None and
// empty unset), with Barman's default format. Barman 3.10+ interpolates a
// value once when it merges the files and again when it reads it, so a
// literal "%(" takes "%%%%(".
func TestReadLogSettings(t *testing.T) {
	tests := []struct {
		name, barman string
		want         LogSettings
	}{
		{"unset", "", LogSettings{Format: DefaultLogFormat}},
		{"none", "log_file = None\nlog_format = None\n", LogSettings{Format: DefaultLogFormat}},
		{"empty", "log_file =\nlog_format =\n", LogSettings{Format: DefaultLogFormat}},
		{"interpolated", "log_file = %(barman_home)s/log/barman.log\nlog_format = \"%%%%(process)d %%%%(message)s\"\n",
			LogSettings{File: "/srv/barman/log/barman.log", Format: "%(process)d %(message)s"}},
		{"relative", "log_file = barman.log\n", LogSettings{File: "barman.log", Format: DefaultLogFormat}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "barman.conf")
			testenv.WriteFile(t, path, "[barman]\nbarman_home = /srv/barman\n"+tc.barman)
			got, err := ReadLogSettings(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReadLogSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadLogSettings(filepath.Join(dir, "missing.conf")); err == nil {
		t.Error("a missing file: no error")
	}
	bad := filepath.Join(dir, "bad.conf")
	testenv.WriteFile(t, bad, "[barman]\nlog_file = %(nowhere)s/barman.log\n")
	_, err := ReadLogSettings(bad)
	opstest.WantError(t, err, ops.EUNAVAILABLE, "nowhere")
}

// TestReadLogSettingsFixture: the recorded Barman configuration sets the
// packaged log_file, which the test set-up points into its own directory.
func TestReadLogSettingsFixture(t *testing.T) {
	b := testenv.NewBarman(t, "barman-3.17")
	got, err := ReadLogSettings(b.Conf)
	if err != nil {
		t.Fatal(err)
	}
	if want := (LogSettings{File: b.LogFile, Format: DefaultLogFormat}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
