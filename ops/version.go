package ops

import (
	"fmt"
	"strconv"
	"strings"
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

// ParseBarmanVersion reads the first line `barman -v` prints, for example
// "3.4.0 Barman by EnterpriseDB (www.enterprisedb.com)".
func ParseBarmanVersion(out string) (Version, error) {
	line := strings.TrimSpace(out)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	word := strings.Fields(line + " ")
	if len(word) == 0 {
		return Version{}, fmt.Errorf("barman -v printed nothing")
	}
	parts := strings.SplitN(word[0], ".", 3)
	var nums [3]int
	for i, p := range parts {
		// Keep the leading digits: "0a1" in a pre-release is still 0.
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			return Version{}, fmt.Errorf("barman -v printed %q, not a version", line)
		}
		nums[i] = n
	}
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("barman -v printed %q, not a version", line)
	}
	return Version{nums[0], nums[1], nums[2]}, nil
}

// ModelsVersion is the Barman release that added models, config-switch and
// config-update.
var ModelsVersion = Version{3, 10, 0}

// checkBarmanSupports refuses operations the installed Barman cannot run, so
// the caller hears it at once rather than from a FAILED operation later.
func checkBarmanSupports(t Type, installed Version) error {
	var command string
	switch t {
	case ConfigSwitch:
		command = "config-switch"
	case ConfigUpdate:
		command = "config-update"
	default:
		return nil
	}
	if installed.Less(ModelsVersion) {
		return Errorf(EINVALID, "%s needs `barman %s`, which Barman added in %s; the installed Barman is %s (upgrade Barman to use it)", t, command, ModelsVersion, installed)
	}
	return nil
}
