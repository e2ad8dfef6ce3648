package testenv

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Snapshot maps every file and directory under root to its mode and a hash
// of its content, to prove that a request wrote nothing (DiffSnapshots).
func Snapshot(t testing.TB, root string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		if !d.IsDir() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		snap[path] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", root, err)
	}
	return snap
}

// DiffSnapshots describes how after differs from before, a line a path
// ("created P", "changed P", "removed P", sorted); "" if not at all.
func DiffSnapshots(before, after map[string]string) string {
	var diffs []string
	for p, d := range after {
		if b, ok := before[p]; !ok {
			diffs = append(diffs, "created "+p)
		} else if b != d {
			diffs = append(diffs, "changed "+p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			diffs = append(diffs, "removed "+p)
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "\n")
}
