package httpd

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The whole list (encodeListSeq, hand-written for memory) and a page
// (encodeList, encoding/json) must be the same bytes for the same
// operations, whatever their IDs and types hold.
func FuzzListEncodingsAgree(f *testing.F) {
	for _, seed := range [][2]string{
		{"20261125T080500", "recovery"},
		{"", ""},
		{`a"b\c`, "<script>&"},
		{"tab\there\nnew", "\x00\x1f\x7f"},
		{"d\u00e9j\u00e0 vu \u2028 \u2029", "\xff\xfe invalid"},
		{"\U0001F600", "config_update"},
	} {
		f.Add(seed[0], seed[1], 3)
	}
	f.Fuzz(func(t *testing.T, id, typ string, n int) {
		n = max(0, min(n, 5))
		list := make([]*ops.Operation, n)
		for i := range list {
			list[i] = &ops.Operation{ID: id + fmt.Sprint(i), Type: ops.Type(typ)}
		}
		want := encodeList(list)
		got := encodeListSeq(slices.Values(list))
		if !bytes.Equal(got, want) {
			t.Fatalf("encodeListSeq wrote\n%q\nencodeList\n%q", got, want)
		}
	})
}

// BenchmarkEncodeListSeq is the whole-list encoding of 100,000 operations,
// done once per state of a scope; its allocations are the server's heap.
func BenchmarkEncodeListSeq(b *testing.B) {
	list := make([]*ops.Operation, 100000)
	for i := range list {
		list[i] = &ops.Operation{ID: fmt.Sprintf("20261125T%06d", i), Type: ops.Recovery}
	}
	b.ReportAllocs()
	for b.Loop() {
		encodeListSeq(slices.Values(list))
	}
}
