package barman

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// configCache keeps the last Barman configuration read while none of the
// files it came from has changed. Each use costs a stat of those files and
// directories, so edits, new files in configuration_files_directory and
// config-switch results are seen at once without re-parsing on every
// request. A file changed within filestamp.RacyWindow of the read is not trusted: its
// time may not move on the next change.
type configCache struct {
	mu     sync.Mutex
	path   string
	cfg    *ops.BarmanConfig
	stamps map[string]filestamp.Stamp // file or directory -> stamp ({} when absent)
	readAt time.Time
	// checked is when the stamps were last found unchanged.
	checked time.Time
}

// configRecheck is how long a configuration found unchanged is trusted
// without looking again.
const configRecheck = time.Second

func (c *configCache) get(path string) (*ops.BarmanConfig, error) {
	return c.load(path, false)
}

// fresh is get without trusting a recent check: the stamps are looked at
// now. Creating an operation needs it: a config_update that just ended DONE
// may have added the model the next request names.
func (c *configCache) fresh(path string) (*ops.BarmanConfig, error) {
	return c.load(path, true)
}

func (c *configCache) load(path string, recheck bool) (*ops.BarmanConfig, error) {
	c.mu.Lock()
	cfg, stamps, readAt, samePath, checked := c.cfg, c.stamps, c.readAt, c.path == path, c.checked
	c.mu.Unlock()
	if !recheck && cfg != nil && samePath && !checked.IsZero() && time.Since(checked) < configRecheck {
		return cfg, nil
	}
	if cfg != nil && samePath && unchanged(stamps, readAt) {
		c.mu.Lock()
		if c.cfg == cfg {
			c.checked = time.Now()
		}
		c.mu.Unlock()
		return cfg, nil
	}
	// Stamp first, then read: a change in between makes the stamps stale,
	// which only costs a re-read next time.
	before := time.Now()
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.path, c.cfg, c.stamps, c.readAt = path, cfg, stampsOf(cfg), before
	c.mu.Unlock()
	return cfg, nil
}

// watched are the paths whose change means the configuration may differ.
func watched(cfg *ops.BarmanConfig) []string {
	paths := append([]string{}, cfg.Files...)
	paths = append(paths, filepath.Join(cfg.BarmanHome, barmanAutoConf))
	paths = append(paths, cfg.ActiveModelFiles...)
	if cfg.IncludeDir != "" {
		paths = append(paths, cfg.IncludeDir)
	}
	return paths
}

func stampsOf(cfg *ops.BarmanConfig) map[string]filestamp.Stamp {
	stamps := map[string]filestamp.Stamp{}
	for _, p := range watched(cfg) {
		st, _ := filestamp.Of(p)
		stamps[p] = st
	}
	return stamps
}

func unchanged(stamps map[string]filestamp.Stamp, readAt time.Time) bool {
	for p, old := range stamps {
		now, _ := filestamp.Of(p)
		if now != old || readAt.Sub(time.Unix(0, now.MtimeNs)) < filestamp.RacyWindow {
			return false
		}
	}
	return true
}

// Reader is Barman's side as the Service reads it (ops.Barman): the
// configuration at Path, kept while its files are unchanged, and the backup
// catalogs of its servers.
type Reader struct {
	Catalog
	Path  string
	cache configCache
}

// NewReader returns a Reader of the configuration at path.
func NewReader(path string) *Reader { return &Reader{Path: path} }

// Config returns the configuration, re-read when one of its files changed.
func (r *Reader) Config() (*ops.BarmanConfig, error) { return r.cache.get(r.Path) }

// FreshConfig is Config with the files' stamps looked at now.
func (r *Reader) FreshConfig() (*ops.BarmanConfig, error) { return r.cache.fresh(r.Path) }

// Options returns the option table (Options) to validation: ops.Barman.
func (r *Reader) Options() ops.OptionTable { return Options }
