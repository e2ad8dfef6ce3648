package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	if locked, err := IsLocked(path); locked || err != nil {
		t.Fatalf("IsLocked(missing) = %v, %v; want false, nil", locked, err)
	}
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := open(), open()
	if locked, err := IsLocked(path); locked || err != nil {
		t.Fatalf("IsLocked(unlocked) = %v, %v", locked, err)
	}
	steps := []struct {
		name string
		do   func() (bool, error)
		want bool
	}{
		{"a takes the lock", func() (bool, error) { return TryLock(a) }, true},
		{"a may take it again", func() (bool, error) { return TryLock(a) }, true},
		{"b, another open file description, may not", func() (bool, error) { return TryLock(b) }, false},
		{"it shows as locked", func() (bool, error) { return IsLocked(path) }, true},
		{"a lets go", func() (bool, error) { return true, Unlock(a) }, true},
		{"it shows as unlocked", func() (bool, error) { return IsLocked(path) }, false},
		{"b takes it", func() (bool, error) { return TryLock(b) }, true},
		{"a may not", func() (bool, error) { return TryLock(a) }, false},
		{"closing b releases it", func() (bool, error) { return true, b.Close() }, true},
		{"unlocked after close", func() (bool, error) { return IsLocked(path) }, false},
		{"a takes it after b closed", func() (bool, error) { return TryLock(a) }, true},
	}
	for _, s := range steps {
		got, err := s.do()
		if err != nil || got != s.want {
			t.Fatalf("%s: got %v, %v; want %v", s.name, got, err, s.want)
		}
	}
	// A duplicated descriptor shares a's open file description, and so
	// its lock: this is how a runner hands the lock to its child.
	fd, err := syscall.Dup(int(a.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	dup := os.NewFile(uintptr(fd), "dup")
	defer dup.Close()
	if ok, err := TryLock(dup); !ok || err != nil {
		t.Errorf("TryLock(dup of the holder) = %v, %v; want true", ok, err)
	}
	a.Close()
	if locked, _ := IsLocked(path); !locked {
		t.Error("closing one of two descriptors of the holder released the lock")
	}
	dup.Close()
	if locked, _ := IsLocked(path); locked {
		t.Error("the lock outlived every descriptor of its holder")
	}
}
