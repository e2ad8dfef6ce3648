package httpd

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Permission is a set of things a credential may do.
type Permission uint8

// The permissions a credential can hold. The zero Permission, as a Token or
// ClientSubject built before permissions existed has, means every one.
const (
	// PermRead allows every GET and HEAD.
	PermRead Permission = 1 << iota
	// PermRecover allows recovery and backup operations and cancelling
	// operations.
	PermRecover
	// PermConfigure allows config_switch and config_update operations.
	PermConfigure
	// PermAdmin allows everything.
	PermAdmin
	// PermDelete allows delete operations and releasing a backup's keep:
	// what destroys backups, or lets the retention policy destroy them.
	// recover does not imply it, so that a restore robot cannot remove
	// the backups it restores from.
	PermDelete
)

var permNames = []struct {
	p    Permission
	name string
}{{PermRead, "read"}, {PermRecover, "recover"}, {PermConfigure, "configure"}, {PermDelete, "delete"}, {PermAdmin, "admin"}}

// PermissionNames lists the valid names, for messages and documentation.
const PermissionNames = "read, recover, configure, delete, admin"

// ParsePermissions reads names such as ["read", "recover"]. An empty list is
// an error: a credential that may do nothing is a mistake.
func ParsePermissions(names []string) (Permission, error) {
	if len(names) == 0 {
		return 0, fmt.Errorf("the permissions list is empty; give one or more of %s", PermissionNames)
	}
	var p Permission
	for _, n := range names {
		found := false
		for _, pn := range permNames {
			if strings.EqualFold(strings.TrimSpace(n), pn.name) {
				p |= pn.p
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown permission %q (known: %s)", n, PermissionNames)
		}
	}
	return p, nil
}

// String is the comma-separated names, "read,recover".
func (p Permission) String() string {
	if p == 0 {
		return "admin"
	}
	var names []string
	for _, pn := range permNames {
		if p&pn.p != 0 {
			names = append(names, pn.name)
		}
	}
	return strings.Join(names, ",")
}

// Names are the permissions as a list of names.
func (p Permission) Names() []string { return strings.Split(p.String(), ",") }

// effective is what p allows: the zero value is every permission.
func (p Permission) effective() Permission {
	if p == 0 || p&PermAdmin != 0 {
		return PermRead | PermRecover | PermConfigure | PermDelete | PermAdmin
	}
	return p
}

// Allows reports whether p includes need (admin includes everything).
func (p Permission) Allows(need Permission) bool {
	return p.effective()&need == need
}

// permissionFor is what creating an operation of this type needs, with
// payload (nil when unknown) for the types whose payload decides. A type
// we do not know needs recover, configure or delete; validation then
// refuses it.
func permissionFor(t ops.Type, payload *pyjson.Object) Permission {
	switch t {
	case ops.DrillOp:
		// A drill restores the backup's data onto the Barman host. Its
		// queries run on a PostgreSQL that runs as Barman's user, as the
		// drill's user, a superuser by default, who can run programs as
		// Barman's user (COPY ... TO PROGRAM): queries need admin.
		if payload != nil {
			if _, ok := payload.Get("sql"); ok {
				return PermAdmin
			}
		}
		return PermRecover
	case ops.Recovery, ops.BackupOp:
		return PermRecover
	case ops.ConfigSwitch, ops.ConfigUpdate:
		return PermConfigure
	case ops.DeleteOp:
		return PermDelete
	case ops.KeepOp:
		// Keeping a backup only protects it; releasing the keep hands
		// it back to the retention policy, which may delete it at once.
		// Any "release" key counts: validation refuses all but true.
		if payload != nil {
			if _, ok := payload.Get("release"); ok {
				return PermDelete
			}
		}
		return PermRecover
	}
	return 0
}

// authorize checks that the request's credential holds need and answers
// 403 naming the missing permission when it does not. need 0 asks for any
// one of recover, configure and delete.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, need Permission) bool {
	who := identityOf(r)
	a := auditOf(r)
	ok := false
	name := need.String()
	if need == 0 {
		name = "recover, configure or delete"
		ok = who.Perms.Allows(PermRecover) || who.Perms.Allows(PermConfigure) || who.Perms.Allows(PermDelete)
	} else {
		ok = who.Perms.Allows(need)
	}
	if a != nil {
		a.permission = name
	}
	if ok {
		return true
	}
	if a != nil {
		a.denied = true
	}
	writeError(w, r, http.StatusForbidden, fmt.Sprintf("%s lacks the %s permission for %s %s (it has: %s); grant it in the configuration (permissions = [...])",
		who.Name, name, r.Method, r.URL.Path, who.Perms.String()))
	return false
}

// authorizeConfigUpdate is authorize's second step for a config_update: a
// change that moves where Barman connects or what it keeps, or that adds a
// server section, needs admin unless [config_update] allow_keys (or
// allow_new_servers) lifts it (ops.Policy.AdminChanges); configure is not
// enough. It answers 403 naming what needs admin and how to allow it.
func (s *Server) authorizeConfigUpdate(w http.ResponseWriter, r *http.Request, payload *pyjson.Object) bool {
	if payload == nil {
		return true
	}
	if typ, _ := payload.String("type"); ops.Type(typ) != ops.ConfigUpdate {
		return true
	}
	who := identityOf(r)
	if who.Perms.Allows(PermAdmin) {
		return true
	}
	cfg, err := s.Service.Config(r.Context())
	if err != nil {
		// Not knowing which servers exist, refuse as validation would.
		s.fail(w, r, err)
		return false
	}
	need := s.Service.Policy.AdminChanges(cfg, payload)
	if len(need) == 0 {
		return true
	}
	if a := auditOf(r); a != nil {
		a.permission = PermAdmin.String()
		a.denied = true
	}
	writeError(w, r, http.StatusForbidden, fmt.Sprintf("%s lacks the admin permission for this config_update (it has: %s): %s moves where Barman connects, what it keeps or which servers it has, which configure does not allow; "+
		"grant admin (permissions = [...]), or list the option in [config_update] allow_keys (a new server: allow_new_servers = true) in pg-backup-api's configuration file",
		who.Name, who.Perms.String(), strings.Join(need, ", ")))
	return false
}
