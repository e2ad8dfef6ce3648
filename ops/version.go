package ops

import (
	"fmt"
)

// Version is a Barman release number such as 3.4.0.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

// ModelsVersion is the Barman release that added models, config-switch and
// config-update.
var ModelsVersion = Version{3, 10, 0}

// optionVersions are the releases of Barman that added the options our
// extension keys become (Barman's NEWS); options older than Barman 2.0 are
// not listed.
var optionVersions = []struct {
	t       Type
	key     string
	value   any // the value that needs the option; nil: any value
	option  string
	version Version
}{
	{Recovery, "target_immediate", true, "recover --target-immediate", Version{2, 3, 0}},
	{Recovery, "target_action", nil, "recover --target-action", Version{2, 4, 0}},
	{Recovery, "standby_mode", true, "recover --standby-mode", Version{2, 4, 0}},
	{Recovery, "get_wal", nil, "recover --get-wal/--no-get-wal", Version{2, 2, 0}},
	{Recovery, "jobs", nil, "recover --jobs", Version{2, 2, 0}},
	{Recovery, "target_lsn", nil, "recover --target-lsn", Version{2, 9, 0}},
	{Recovery, "bwlimit", nil, "recover --bwlimit", Version{2, 9, 0}},
	{Recovery, "target_tli", "current", "recover --target-tli current", Version{2, 19, 0}},
	{Recovery, "target_tli", "latest", "recover --target-tli latest", Version{2, 19, 0}},
	{BackupOp, "type", nil, "backup --wait", Version{2, 10, 0}},
	{BackupOp, "backup_name", nil, "backup --name", Version{3, 3, 0}},
}

// checkBarmanSupports refuses operations the installed Barman cannot run, so
// the caller hears it at once rather than from a FAILED operation later.
func checkBarmanSupports(req *Request, installed Version) error {
	t := req.Type
	var command string
	switch t {
	case ConfigSwitch:
		command = "config-switch"
	case ConfigUpdate:
		command = "config-update"
	}
	if command != "" && installed.Less(ModelsVersion) {
		return Errorf(EINVALID, "%s needs `barman %s`, which Barman added in %s; the installed Barman is %s (upgrade Barman to use it)", t, command, ModelsVersion, installed)
	}
	for _, o := range optionVersions {
		if o.t != t || !installed.Less(o.version) {
			continue
		}
		v, ok := req.Payload.Get(o.key)
		if o.key == "type" {
			ok = true // the type itself needs the option
		}
		if !ok || (o.value != nil && v != o.value) {
			continue
		}
		what := fmt.Sprintf("%q", o.key)
		if o.key == "type" {
			what = "a " + string(t) + " operation"
		}
		return Errorf(EINVALID, "%s: %s needs `barman %s`, which Barman added in %s; the installed Barman is %s (upgrade Barman to use it)", t, what, o.option, o.version, installed)
	}
	return nil
}
