package httpd

import (
	"context"
	"iter"
	"sync"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// answerCache keeps the bodies of the GET answers that are asked for far
// more often than what they show changes: one finished operation (it never
// changes again) and a scope's plain list (it changes when an operation is
// created or removed). Each body is kept under the store's stamp of what it
// was encoded from, and served while the store says that stamp still
// stands (GetIfChanged, ListIfChanged): a stat, or nothing while serve
// watches the store's directories. Its zero value is ready to use.
type answerCache struct {
	mu    sync.Mutex
	ops   map[opAnswerKey]keptAnswer
	lists map[string]*listAnswer
}

// opAnswerKey names one answer of GET .../operations/{id}: with or without
// its detail.
type opAnswerKey struct {
	server, id string
	detail     bool
}

type keptAnswer struct {
	stamp ops.Stamp
	body  []byte
}

// listAnswer is a scope's plain list at one stamp, encoded once however
// many requests ask for it at the same time: at 100,000 operations one
// encoding is megabytes.
type listAnswer struct {
	stamp ops.Stamp
	once  sync.Once
	body  []byte
}

// maxOpAnswers bounds the operation answers kept; the cache is emptied when
// full, which costs encodings again, never wrong answers.
const maxOpAnswers = 2048

// operation returns the body of one operation's answer, encoding it with
// encode (nil when it cannot be encoded) only when the operation changed
// since the body kept, if any, was encoded.
func (c *answerCache) operation(ctx context.Context, svc *ops.Service, server, id string, detail bool, encode func(*ops.Operation) []byte) ([]byte, error) {
	key := opAnswerKey{server, id, detail}
	c.mu.Lock()
	kept := c.ops[key]
	c.mu.Unlock()
	op, stamp, err := svc.GetIfChanged(ctx, server, id, kept.stamp)
	if err != nil {
		return nil, err
	}
	if op == nil {
		return kept.body, nil
	}
	body := encode(op)
	if stamp != 0 && body != nil {
		c.mu.Lock()
		if c.ops == nil || len(c.ops) >= maxOpAnswers {
			c.ops = map[opAnswerKey]keptAnswer{}
		}
		c.ops[key] = keptAnswer{stamp, body}
		c.mu.Unlock()
	}
	return body, nil
}

// list returns the body of a scope's plain list, encoding it with encode
// only when the listing changed since the body kept was encoded.
func (c *answerCache) list(ctx context.Context, svc *ops.Service, server string, encode func(iter.Seq[*ops.Operation]) []byte) ([]byte, error) {
	c.mu.Lock()
	kept := c.lists[server]
	c.mu.Unlock()
	var since ops.Stamp
	if kept != nil {
		since = kept.stamp
	}
	listing, stamp, err := svc.ListIfChanged(ctx, server, since)
	if err != nil {
		return nil, err
	}
	if listing == nil {
		kept.once.Do(func() {}) // encoded by whoever kept it, or being
		return kept.body, nil
	}
	if stamp == 0 {
		return encode(listing), nil
	}
	c.mu.Lock()
	ans := c.lists[server]
	if ans == nil || ans.stamp != stamp {
		ans = &listAnswer{stamp: stamp}
		if c.lists == nil {
			c.lists = map[string]*listAnswer{}
		}
		c.lists[server] = ans
	}
	c.mu.Unlock()
	ans.once.Do(func() { ans.body = encode(listing) })
	return ans.body, nil
}
