package cli

import (
	"io/fs"
	"os/user"
	"syscall"
	"testing"
	"time"
)

type fakeDir struct {
	mode     fs.FileMode
	uid, gid uint32
}

func (f fakeDir) Name() string       { return "home" }
func (f fakeDir) Size() int64        { return 0 }
func (f fakeDir) Mode() fs.FileMode  { return fs.ModeDir | f.mode }
func (f fakeDir) ModTime() time.Time { return time.Time{} }
func (f fakeDir) IsDir() bool        { return true }
func (f fakeDir) Sys() any           { return &syscall.Stat_t{Uid: f.uid, Gid: f.gid} }

// writableBy decides by the owner's, the group's or the others' bits, as
// the kernel does, for a user doctor is not running as (Barman's, when
// doctor runs as root).
func TestWritableBy(t *testing.T) {
	owner := &user.User{Uid: "1000", Gid: "1000", Username: "pgba-test-no-such-user-1"}
	member := &user.User{Uid: "2000", Gid: "1000", Username: "pgba-test-no-such-user-2"}
	other := &user.User{Uid: "3000", Gid: "3000", Username: "pgba-test-no-such-user-3"}
	root := &user.User{Uid: "0", Gid: "0"}
	for _, tt := range []struct {
		mode fs.FileMode
		who  *user.User
		want bool
	}{
		{0o755, owner, true},
		{0o555, owner, false},
		{0o077, owner, false}, // the owner's bits decide for the owner
		{0o775, member, true},
		{0o755, member, false},
		{0o757, member, false}, // the group's bits decide for a member
		{0o757, other, true},
		{0o775, other, false},
		{0o500, root, true},
	} {
		if got := writableBy(fakeDir{mode: tt.mode, uid: 1000, gid: 1000}, tt.who); got != tt.want {
			t.Errorf("mode %04o, uid %s gid %s: writable = %v, want %v", tt.mode, tt.who.Uid, tt.who.Gid, got, tt.want)
		}
	}
}
