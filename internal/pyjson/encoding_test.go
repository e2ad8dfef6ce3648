package pyjson

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"
)

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// encodeAs writes s in UTF-16 or UTF-32 (width 2 or 4) in order, after bom.
func encodeAs(s string, width int, order byteOrder, bom bool) []byte {
	var b []byte
	put := func(r rune) {
		if width == 4 {
			b = order.AppendUint32(b, uint32(r))
			return
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != '\uFFFD' {
			b = order.AppendUint16(b, uint16(r1))
			b = order.AppendUint16(b, uint16(r2))
			return
		}
		b = order.AppendUint16(b, uint16(r))
	}
	if bom {
		put('\uFEFF')
	}
	for _, r := range s {
		put(r)
	}
	return b
}

// TestToUTF8ReadsWhatPythonReads: every encoding CPython's json.loads
// detects on bytes (json.detect_encoding) reads as the UTF-8 document,
// non-ASCII and astral characters included; a document starting with
// whitespace is detected too. Before, DecodeObject took UTF-8 only and
// refused a byte-order mark.
func TestToUTF8ReadsWhatPythonReads(t *testing.T) {
	for _, doc := range []string{`{"a": "é😀", "b": [1, null]}`, " \r\n{}", "{}", `{"x":"\u0000"}`} {
		cases := map[string][]byte{
			"utf-8":     []byte(doc),
			"utf-8-sig": append([]byte{0xef, 0xbb, 0xbf}, doc...),
		}
		for _, width := range []int{2, 4} {
			for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
				for _, bom := range []bool{false, true} {
					name := map[int]string{2: "utf-16", 4: "utf-32"}[width] + "-" + map[bool]string{true: "le", false: "be"}[order.String() == "LittleEndian"] + map[bool]string{true: "-bom", false: ""}[bom]
					cases[name] = encodeAs(doc, width, order, bom)
				}
			}
		}
		for name, data := range cases {
			got, err := ToUTF8(data)
			if err != nil || string(got) != doc {
				t.Errorf("%s of %q: %q, %v; want the document", name, doc, got, err)
			}
			o, err := DecodeObject(data, DecodeOptions{RejectDuplicateKeys: true, DetectEncoding: true})
			if err != nil {
				t.Errorf("DecodeObject %s of %q: %v", name, doc, err)
				continue
			}
			if o.Lossy() {
				t.Errorf("DecodeObject %s of %q: lossy", name, doc)
			}
		}
	}
	// Without the option, as for the store's files, only UTF-8 as before.
	if _, err := DecodeObject(encodeAs("{}", 2, binary.LittleEndian, true), DecodeOptions{}); err == nil {
		t.Error("DecodeObject without DetectEncoding read UTF-16")
	}
}

// TestToUTF8Refusals: what Python's json.loads cannot decode is a clear
// error naming the encoding it was read in, as is a lone surrogate that
// Python would keep but that has no UTF-8 form.
func TestToUTF8Refusals(t *testing.T) {
	le := binary.LittleEndian
	highLE := le.AppendUint16(nil, 0xd800)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"utf-16 odd length", []byte("\xff\xfe{\x00}"), "not valid UTF-16 (little-endian, with a byte-order mark): its 5 bytes"},
		{"utf-16 no bom odd", []byte("{\x00}\x00 "), "not valid UTF-16 (little-endian): its 5 bytes"},
		{"utf-32 truncated", []byte("\x00\x00\xfe\xff\x00\x00\x00{\x00"), "not valid UTF-32 (big-endian, with a byte-order mark)"},
		{"utf-32 beyond unicode", append(encodeAs(`{"a":"`, 4, le, false), 0, 0, 0x11, 0), "0x110000 at byte 24 is beyond Unicode"},
		{"utf-32 surrogate", append(encodeAs(`{"a":"`, 4, le, false), 0, 0xd8, 0, 0), "lone UTF-16 surrogate 0xD800 at byte 24"},
		{"utf-16 lone high", append(append(encodeAs(`{"a":"`, 2, le, true), highLE...), encodeAs(`"}`, 2, le, false)...), "lone UTF-16 surrogate 0xD800 at byte 14"},
		{"utf-16 lone high at end", append(encodeAs(`{"a":"`, 2, le, false), highLE...), "lone UTF-16 surrogate 0xD800 at byte 12"},
		{"utf-16 lone low", append(encodeAs(`{"a":"`, 2, binary.BigEndian, false), 0xdc, 0), "lone UTF-16 surrogate 0xDC00 at byte 12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ToUTF8(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "send it in UTF-8") {
				t.Errorf("ToUTF8 = %v; want an error with %q", err, tc.want)
			}
			if _, err := DecodeObject(tc.data, DecodeOptions{DetectEncoding: true}); err == nil {
				t.Error("DecodeObject accepted it")
			}
		})
	}
	// As in Python, one mark is read; a second is the document's first
	// character, which JSON does not allow. UTF-8 stays checked by
	// DecodeObject.
	for _, data := range [][]byte{[]byte("\xef\xbb\xbf\xef\xbb\xbf{}"), encodeAs("\uFEFF{}", 2, le, true), []byte("\xef\xbb\xbf{\"a\": \"\xff\"}")} {
		if _, err := DecodeObject(data, DecodeOptions{DetectEncoding: true}); err == nil {
			t.Errorf("DecodeObject(%q) accepted it", data)
		}
	}
	if got, _ := ToUTF8([]byte("{\"a\": \"\xff\"}")); !bytes.Equal(got, []byte("{\"a\": \"\xff\"}")) {
		t.Errorf("ToUTF8 changed UTF-8: %q", got)
	}
}
