package cli

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// storeParts are the directories of a scope (barman_home, or
// barman_home/SERVER) that the store writes; Barman's own directories
// beside them are Barman's business.
var storeParts = []string{"jobs", "output", store.StateDirName}

// doctorStoreOwner finds store files that the user runners run as does not
// own. A command run once as root leaves root's 0600 job files and root's
// directories behind; serve, started by its unit as Barman's user, then
// answers 503 on every operation of that scope, and nothing says why.
func doctorStoreOwner(r *doctorReport, cfg *ops.BarmanConfig) {
	if cfg == nil {
		return
	}
	who, err := user.Current()
	if os.Geteuid() == 0 && cfg.BarmanUser != "" {
		who, err = user.Lookup(cfg.BarmanUser)
	}
	if err != nil || who.Uid == "0" {
		return // barman_home's check said why; root may touch anything
	}
	reportStoreOwner(r, cfg.BarmanHome, who)
}

func reportStoreOwner(r *doctorReport, home string, who *user.User) {
	foreign, roots, err := foreignStoreEntries(home, who)
	if err != nil {
		r.add("store", checkFail, "reading the operations under %s: %v", home, unwrapPath(err))
		return
	}
	if len(foreign) == 0 {
		r.add("store", checkOK, "every operation file under %s belongs to %s", home, who.Username)
		return
	}
	const shown = 3
	list := foreign[:min(shown, len(foreign))]
	more := ""
	if len(foreign) > shown {
		more = fmt.Sprintf(" and %d more", len(foreign)-shown)
	}
	r.add("store", checkFail, "%d files and directories of the operations under %s are not %s's (%s%s), so runners and serve running as %s cannot write them: "+
		"a command was run as another user; fix: chown -R %s: %s", len(foreign), home, who.Username,
		strings.Join(list, ", "), more, who.Username, who.Username, strings.Join(roots, " "))
}

// foreignStoreEntries lists, as "PATH (owner NAME)", the entries of the
// store's directories under home that who does not own, and the store
// directories that hold them (what to chown).
func foreignStoreEntries(home string, who *user.User) (foreign, roots []string, err error) {
	scopes := []string{home}
	entries, err := os.ReadDir(home)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !isStorePart(e.Name()) {
			scopes = append(scopes, filepath.Join(home, e.Name()))
		}
	}
	names := map[uint32]string{}
	for _, scope := range scopes {
		for _, part := range storeParts {
			root := filepath.Join(scope, part)
			n := len(foreign)
			err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					if os.IsNotExist(err) {
						return nil // gone meanwhile, or a scope without operations
					}
					return err
				}
				fi, err := d.Info()
				if err != nil {
					return nil // removed between the listing and the stat
				}
				uid := ownerOf(fi)
				if strconv.FormatUint(uint64(uid), 10) != who.Uid {
					foreign = append(foreign, fmt.Sprintf("%s (owner %s)", path, userName(names, uid)))
				}
				return nil
			})
			if err != nil {
				return nil, nil, err
			}
			if len(foreign) > n {
				roots = append(roots, root)
			}
		}
	}
	return foreign, roots, nil
}

func isStorePart(name string) bool {
	for _, p := range storeParts {
		if name == p {
			return true
		}
	}
	return false
}

func userName(cache map[uint32]string, uid uint32) string {
	if n, ok := cache[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	cache[uid] = n
	return n
}
