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
	switch {
	case req.Recovery != nil:
		return checkOptionVersions(t, req.Recovery.Options, installed)
	case req.Backup != nil:
		return checkOptionVersions(t, req.Backup.Options, installed)
	case req.Keep != nil:
		return checkOptionVersions(t, req.Keep.Options, installed)
	case req.Drill != nil:
		return checkOptionVersions(t, req.Drill.Options, installed)
	}
	return nil
}
