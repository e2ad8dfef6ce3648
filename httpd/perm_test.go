package httpd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/httpd"
)

// TestPermissionDelete: delete is a permission of its own; admin and the
// zero value (a credential configured before permissions existed) include
// it, recover and configure do not.
func TestPermissionDelete(t *testing.T) {
	p, err := httpd.ParsePermissions([]string{"read", " Delete "})
	if err != nil || p != httpd.PermRead|httpd.PermDelete || p.String() != "read,delete" {
		t.Fatalf("ParsePermissions(read, Delete) = %v (%s), %v", p, p, err)
	}
	for _, tc := range []struct {
		p    httpd.Permission
		want bool
	}{
		{httpd.PermAdmin, true},
		{0, true},
		{httpd.PermDelete, true},
		{httpd.PermRecover, false},
		{httpd.PermRecover | httpd.PermConfigure | httpd.PermRead, false},
	} {
		if got := tc.p.Allows(httpd.PermDelete); got != tc.want {
			t.Errorf("%s allows delete: %v, want %v", tc.p, got, tc.want)
		}
	}
	if httpd.PermDelete.Allows(httpd.PermRecover) {
		t.Error("delete allows recover")
	}
	if _, err := httpd.ParsePermissions([]string{"destroy"}); err == nil || !strings.Contains(err.Error(), "read, recover, configure, delete, admin") {
		t.Errorf("an unknown permission: %v, want the list of known ones", err)
	}
}

// TestPermissionsDocumented: every permission is documented where an
// operator looks for it: the Permissions table of docs/security.md and the packaged
// configuration's comments.
func TestPermissionsDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Permissions\n")
	section, _, _ = strings.Cut(section, "\n# ")
	packaged, err := os.ReadFile(filepath.Join("..", "packaging", "pg-backup-api.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(httpd.PermissionNames, ", ") {
		if !strings.Contains(section, "| `"+name+"` |") {
			t.Errorf("README's Permissions table has no row for %q", name)
		}
		if !strings.Contains(string(packaged), name+" (") && !strings.Contains(string(packaged), name+",") {
			t.Errorf("packaging/pg-backup-api.toml does not mention permission %q", name)
		}
	}
}
