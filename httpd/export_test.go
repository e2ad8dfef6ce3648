package httpd

import "time"

// SetStreamPace makes streams look at their operation every poll, send a
// heartbeat after quiet, and refuse past max open at once (0 keeps the
// default), so that tests need not wait for the real pace.
func (s *Server) SetStreamPace(poll, heartbeat time.Duration, max int) {
	s.streams.poll, s.streams.heartbeat, s.streams.max = poll, heartbeat, int64(max)
}
