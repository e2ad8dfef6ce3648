package barman

import (
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestBrokenSectionLeavesOthersUsable: a syntax error in one barman.d file,
// or an interpolation error in one server's section (such as a % a
// config_update wrote into .barman.auto.conf), used to refuse the whole
// configuration, so every request answered 503. Now only that server is
// broken, its error names the file and line, and fixing it is seen.
func TestBrokenSectionLeavesOthersUsable(t *testing.T) {
	c := confCase{
		main: mainConf + "[good]\nbackup_directory = /b/good\n",
		extra: map[string]string{
			"syntax.conf": "[bad1]\nbackup_directory = /b/bad1\noops\n",
			"other.conf":  "[good2]\nbackup_directory = /b/good2\n",
		},
		auto: "[bad2]\ndescription = backups at 100%\n[good2]\ndescription = fine\n",
	}
	conf, home, dir := c.write(t)
	r := NewReader(conf)
	cfg, err := r.Config()
	if err != nil {
		t.Fatalf("one broken section refused the whole configuration: %v", err)
	}
	for _, name := range []string{"good", "good2"} {
		if _, err := cfg.Server(name); err != nil {
			t.Errorf("Server(%s): %v", name, err)
		}
	}
	if got := cfg.Servers["good2"].Values["description"]; got != "fine" {
		t.Errorf("good2 description = %q, want the auto conf's \"fine\"", got)
	}
	_, err = cfg.Server("bad1")
	opstest.WantError(t, err, ops.EUNAVAILABLE, "[bad1] cannot be used", filepath.Join(dir, "syntax.conf")+":3:", "is neither a [section] header", "the other servers are unaffected")
	// bad2 exists only in .barman.auto.conf: a config_update's value.
	_, err = cfg.Server("bad2")
	opstest.WantError(t, err, ops.EUNAVAILABLE, "[bad2] cannot be used", filepath.Join(home, ".barman.auto.conf")+":2:", "'%' must be followed")
	if _, err := cfg.Model("bad1"); err == nil || !strings.Contains(err.Error(), "syntax.conf:3:") {
		t.Errorf("Model(bad1) = %v, want the broken section's error", err)
	}
	if names := strings.Join(cfg.ServerNames(), ","); names != "good,good2" {
		t.Errorf("ServerNames = %s", names)
	}

	// Fixing the file is noticed although its parse failed.
	testenv.WriteFile(t, filepath.Join(dir, "syntax.conf"), "[bad1]\nbackup_directory = /b/bad1\n")
	cfg, err = r.FreshConfig()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Server("bad1"); err != nil {
		t.Errorf("after the fix, Server(bad1): %v", err)
	}
	if _, ok := cfg.Broken["bad2"]; !ok {
		t.Errorf("bad2 is no longer broken: %v", cfg.Broken)
	}
}

// TestBrokenMainFileStillRefused: the main file holds [barman]; a syntax
// error there, or in a file whose sections cannot be told, refuses all.
func TestBrokenMainFileStillRefused(t *testing.T) {
	for name, c := range map[string]confCase{
		"main":             {main: mainConf + "[good]\noops\n"},
		"no section":       {main: mainConf, extra: map[string]string{"x.conf": "oops\n"}},
		"[barman] in file": {main: mainConf, extra: map[string]string{"x.conf": "[barman]\noops\n"}},
	} {
		t.Run(name, func(t *testing.T) {
			conf, _, _ := c.write(t)
			_, err := LoadConfig(conf)
			opstest.WantError(t, err, ops.EUNAVAILABLE, "Barman configuration is not valid")
		})
	}
}
