package httpd

// Limits on what clients can make the server write: its log, for now.

import (
	"fmt"
	"sync"
	"time"
)

// Limits bound what clients can make the server write. Its zero value is
// the defaults.
type Limits struct {
	failures failureLog
}

// A client that keeps failing authentication (a wrong token in a retry
// loop, a scanner) would otherwise write one access-log line per request,
// as fast as it can send them, and bury everything else. The first failure
// of a client is logged as any request is; the following ones within
// authFailureInterval are counted, and when the interval ends one line says
// how many there were. The next failure after that is logged again.

// authFailureInterval is the window of one client's counted failures; a
// variable for tests.
var authFailureInterval = time.Minute

// maxFailureClients bounds the clients counted at once, so that failures
// from many addresses (an IPv6 range) cannot grow the table without end;
// beyond it, failures are counted together under "other clients".
const maxFailureClients = 4096

const otherClients = "other clients"

type failureLog struct {
	mu      sync.Mutex
	clients map[string]*failureWindow
}

type failureWindow struct {
	more int // failures not logged since the window began
}

// admit reports whether a failed authentication from client is to be
// logged: the first of its window. The others are counted, and report is
// called with their number when the window ends.
func (l *failureLog) admit(client string, report func(client string, n int, window time.Duration)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil {
		l.clients = map[string]*failureWindow{}
	}
	w := l.clients[client]
	if w == nil && len(l.clients) >= maxFailureClients {
		client = otherClients
		w = l.clients[client]
	}
	if w != nil {
		w.more++
		return false
	}
	w = &failureWindow{}
	l.clients[client] = w
	window := authFailureInterval
	time.AfterFunc(window, func() {
		l.mu.Lock()
		n := w.more
		delete(l.clients, client)
		l.mu.Unlock()
		if n > 0 {
			report(client, n, window)
		}
	})
	return true
}

// reportFailures is the line that stands for a client's failed
// authentications that were not logged one by one.
func (s *Server) reportFailures(client string, n int, window time.Duration) {
	s.Log.Warn(fmt.Sprintf("%d more failed authentications from %s in the last %s", n, client, window),
		"client", client, "failed_authentications", n, "interval", window.String())
}
