package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// changeWatch follows the output directories of the scopes whose finished
// operations are cached, through inotify: the kernel queues an event for
// every change to a directory's entries or their files, so an entry read
// after the watch began stands until an event about its file arrives, and a
// cached answer costs no system call. Its fields are guarded by Store.mu.
type changeWatch struct {
	fd     int
	file   *os.File // fd, read through the runtime's poller
	scopes map[string]*watchedScope
	byWD   map[int32]*watchedScope
	stop   chan struct{}
	done   chan struct{}
}

// watchedScope is one watched output directory.
type watchedScope struct {
	server   string
	dir      string
	wd       int32
	dev, ino uint64 // of the directory when the watch began
	// gen counts the events seen in the directory; a reader that began at
	// gen may keep what it read only if no event came meanwhile.
	gen uint64
	// gone: the watch ended (directory removed, replaced or the queue
	// overflowed); a new one is made on the next read.
	gone bool
}

// changeMask is every change that can make a cached output stale:
// writes, attribute changes (permissions), and names coming and going,
// and the directory itself going away.
const changeMask = syscall.IN_MODIFY | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO |
	syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF | syscall.IN_ONLYDIR

// recheckEvery is how often the watched directories' own paths are looked
// at: a parent directory renamed or replaced sends no event to a watch on
// its child, so a store moved aside and put back under the same path is
// noticed within this time.
const recheckEvery = time.Second

// WatchChanges makes the store follow changes to its output directories
// as the kernel reports them, instead of looking at an output file's stamp
// each time a cached finished operation is served. For long-lived
// processes (serve); stop ends the watch and waits for its goroutines.
func (s *Store) WatchChanges() (stop func(), err error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("cannot watch %s for changes (inotify): %v; cached operations are checked with a stat each instead", s.Home, err)
	}
	w := &changeWatch{fd: fd, file: os.NewFile(uintptr(fd), "inotify"), scopes: map[string]*watchedScope{}, byWD: map[int32]*watchedScope{},
		stop: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	if s.watch != nil {
		s.mu.Unlock()
		w.file.Close()
		return nil, errors.New("the store already watches its directories")
	}
	s.watch = w
	s.mu.Unlock()
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		s.readEvents(w)
	}()
	go func() {
		defer close(w.done)
		t := time.NewTicker(recheckEvery)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				w.file.Close() // ends readEvents
				<-readerDone
				return
			case <-t.C:
				s.recheckScopes(w)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.watch == w { // not ended already by a failed read
				s.watch = nil
				s.dropWatched("")
			}
			s.mu.Unlock()
			close(w.stop)
			<-w.done
		})
	}, nil
}

// watchScope returns server's watched scope and its generation, adding a
// watch when there is none; nil when the store does not watch or cannot.
func (s *Store) watchScope(server string) (*watchedScope, uint64) {
	s.mu.Lock()
	w := s.watch
	if w == nil {
		s.mu.Unlock()
		return nil, 0
	}
	if sc := w.scopes[server]; sc != nil && !sc.gone {
		gen := sc.gen
		s.mu.Unlock()
		return sc, gen
	}
	s.mu.Unlock()
	dir := filepath.Join(s.ScopeDir(server), "output")
	var st syscall.Stat_t
	if syscall.Stat(dir, &st) != nil {
		return nil, 0 // no output directory yet: nothing to cache
	}
	wd, err := syscall.InotifyAddWatch(w.fd, dir, changeMask)
	if err != nil {
		return nil, 0 // out of watches, say: the stat per answer remains
	}
	sc := &watchedScope{server: server, dir: dir, wd: int32(wd), dev: uint64(st.Dev), ino: st.Ino}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watch != w {
		return nil, 0
	}
	// inotify gives one descriptor per directory: a second caller racing
	// this one gets the same wd, and the newest scope record wins.
	if old := w.byWD[sc.wd]; old != nil && old != sc {
		old.gone = true
	}
	w.scopes[server] = sc
	w.byWD[sc.wd] = sc
	return sc, sc.gen
}

// current reports whether no event has come since gen; Store.mu is held.
func (sc *watchedScope) current(gen uint64) bool {
	return !sc.gone && sc.gen == gen
}

// readEvents applies the kernel's events until the watch is closed.
func (s *Store) readEvents(w *changeWatch) {
	buf := make([]byte, 64<<10)
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			// A read that fails otherwise leaves events unseen: trust
			// nothing cached, and stop watching (stat per answer).
			s.mu.Lock()
			if s.watch == w {
				s.watch = nil
				s.dropWatched("")
			}
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.applyEvents(w, buf[:n])
		s.mu.Unlock()
	}
}

// applyEvents drops what the events in buf make stale; Store.mu is held.
func (s *Store) applyEvents(w *changeWatch, buf []byte) {
	for len(buf) >= syscall.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(buf[0:]))
		mask := binary.NativeEndian.Uint32(buf[4:])
		nameLen := int(binary.NativeEndian.Uint32(buf[12:]))
		end := syscall.SizeofInotifyEvent + nameLen
		if end > len(buf) {
			end = len(buf)
		}
		name := strings.TrimRight(string(buf[syscall.SizeofInotifyEvent:end]), "\x00")
		buf = buf[end:]
		if mask&syscall.IN_Q_OVERFLOW != 0 {
			// Events were lost: every scope starts again.
			for _, sc := range w.scopes {
				s.endScope(w, sc)
			}
			continue
		}
		sc := w.byWD[wd]
		if sc == nil {
			continue
		}
		sc.gen++
		if mask&(syscall.IN_IGNORED|syscall.IN_DELETE_SELF|syscall.IN_MOVE_SELF|syscall.IN_UNMOUNT) != 0 {
			s.endScope(w, sc)
			continue
		}
		if id, ok := strings.CutSuffix(name, ".json"); ok {
			delete(s.finished, opKey{sc.server, id})
		}
	}
}

// endScope forgets sc's watch and trusts none of its entries; Store.mu is
// held.
func (s *Store) endScope(w *changeWatch, sc *watchedScope) {
	sc.gone = true
	sc.gen++
	if w.scopes[sc.server] == sc {
		delete(w.scopes, sc.server)
	}
	if w.byWD[sc.wd] == sc {
		delete(w.byWD, sc.wd)
		syscall.InotifyRmWatch(w.fd, uint32(sc.wd)) // fails harmlessly when the kernel removed it already
	}
	s.dropWatched(sc.server)
}

// dropWatched removes the cached entries of server ("" for all) that rely
// on the watch; Store.mu is held.
func (s *Store) dropWatched(server string) {
	for k, e := range s.finished {
		if e.watched && (server == "" || k.server == server) {
			delete(s.finished, k)
		}
	}
}

// recheckScopes ends the watch of a directory whose path now names another
// directory, or none.
func (s *Store) recheckScopes(w *changeWatch) {
	s.mu.Lock()
	scopes := make([]*watchedScope, 0, len(w.scopes))
	for _, sc := range w.scopes {
		scopes = append(scopes, sc)
	}
	s.mu.Unlock()
	for _, sc := range scopes {
		var st syscall.Stat_t
		if err := syscall.Stat(sc.dir, &st); err == nil && uint64(st.Dev) == sc.dev && st.Ino == sc.ino {
			continue
		}
		s.mu.Lock()
		if s.watch == w && w.scopes[sc.server] == sc {
			s.endScope(w, sc)
		}
		s.mu.Unlock()
	}
}
