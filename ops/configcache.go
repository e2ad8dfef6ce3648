package ops

import (
	"path/filepath"
	"sync"
	"time"
)

// configCache keeps the last Barman configuration read while none of the
// files it came from has changed. Each use costs a stat of those files and
// directories, so edits, new files in configuration_files_directory and
// config-switch results are seen at once without re-parsing on every
// request. A file changed within racyWindow of the read is not trusted: its
// time may not move on the next change.
type configCache struct {
	mu     sync.Mutex
	path   string
	cfg    *BarmanConfig
	stamps map[string]fileStamp // file or directory -> stamp ({} when absent)
	readAt time.Time
	// checked is when the stamps were last found unchanged.
	checked time.Time
}

// configRecheck is how long a configuration found unchanged is trusted
// without looking again.
const configRecheck = time.Second

func (c *configCache) get(path string) (*BarmanConfig, error) {
	return c.load(path, false)
}

// fresh is get without trusting a recent check: the stamps are looked at
// now. Creating an operation needs it: a config_update that just ended DONE
// may have added the model the next request names.
func (c *configCache) fresh(path string) (*BarmanConfig, error) {
	return c.load(path, true)
}

func (c *configCache) load(path string, recheck bool) (*BarmanConfig, error) {
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
	cfg, err := LoadBarmanConfig(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.path, c.cfg, c.stamps, c.readAt = path, cfg, stampsOf(cfg), before
	c.mu.Unlock()
	return cfg, nil
}

// watched are the paths whose change means the configuration may differ.
func watched(cfg *BarmanConfig) []string {
	paths := append([]string{}, cfg.Files...)
	paths = append(paths, filepath.Join(cfg.BarmanHome, barmanAutoConf))
	paths = append(paths, cfg.ActiveModelFiles...)
	if cfg.IncludeDir != "" {
		paths = append(paths, cfg.IncludeDir)
	}
	return paths
}

func stampsOf(cfg *BarmanConfig) map[string]fileStamp {
	stamps := map[string]fileStamp{}
	for _, p := range watched(cfg) {
		st, _ := fileStampOf(p)
		stamps[p] = st
	}
	return stamps
}

func unchanged(stamps map[string]fileStamp, readAt time.Time) bool {
	for p, old := range stamps {
		now, _ := fileStampOf(p)
		if now != old || readAt.Sub(time.Unix(0, now.MtimeNs)) < racyWindow {
			return false
		}
	}
	return true
}
