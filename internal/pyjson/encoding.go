package pyjson

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// encoding is one of the encodings Python's json.loads reads bytes in.
type encoding struct {
	name  string // as messages name it
	width int    // bytes per code unit: 1, 2 or 4
	order binary.ByteOrder
	bom   int // bytes of byte-order mark to skip
}

var (
	utf8BOM = []byte{0xef, 0xbb, 0xbf}
)

// detectEncoding is CPython's json.detect_encoding: a byte-order mark names
// the encoding (UTF-32's before UTF-16's, whose FF FE it starts with);
// without one, the zero bytes among the first four tell UTF-16 and UTF-32
// of either byte order from UTF-8, since a JSON document starts with ASCII.
func detectEncoding(b []byte) encoding {
	switch {
	case bytes.HasPrefix(b, []byte{0, 0, 0xfe, 0xff}):
		return encoding{"UTF-32 (big-endian, with a byte-order mark)", 4, binary.BigEndian, 4}
	case bytes.HasPrefix(b, []byte{0xff, 0xfe, 0, 0}):
		return encoding{"UTF-32 (little-endian, with a byte-order mark)", 4, binary.LittleEndian, 4}
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return encoding{"UTF-16 (big-endian, with a byte-order mark)", 2, binary.BigEndian, 2}
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return encoding{"UTF-16 (little-endian, with a byte-order mark)", 2, binary.LittleEndian, 2}
	case bytes.HasPrefix(b, utf8BOM):
		return encoding{"UTF-8 (with a byte-order mark)", 1, nil, 3}
	}
	if len(b) >= 4 {
		if b[0] == 0 {
			if b[1] != 0 {
				return encoding{"UTF-16 (big-endian)", 2, binary.BigEndian, 0}
			}
			return encoding{"UTF-32 (big-endian)", 4, binary.BigEndian, 0}
		}
		if b[1] == 0 {
			if b[2] != 0 || b[3] != 0 {
				return encoding{"UTF-16 (little-endian)", 2, binary.LittleEndian, 0}
			}
			return encoding{"UTF-32 (little-endian)", 4, binary.LittleEndian, 0}
		}
	} else if len(b) == 2 {
		if b[0] == 0 {
			return encoding{"UTF-16 (big-endian)", 2, binary.BigEndian, 0}
		}
		if b[1] == 0 {
			return encoding{"UTF-16 (little-endian)", 2, binary.LittleEndian, 0}
		}
	}
	return encoding{"UTF-8", 1, nil, 0}
}

// ToUTF8 reads data as Python's json.loads reads bytes: in UTF-8, UTF-16
// or UTF-32, with or without a byte-order mark, as detectEncoding finds;
// Windows PowerShell 5.1, for one, writes files with a UTF-8 or UTF-16 mark.
// It returns the document in UTF-8 without a mark. UTF-8 is returned as it
// is, for DecodeObject to check. A lone surrogate, which Python would keep
// in a string that has no UTF-8 form, is an error, as its \u escape is.
func ToUTF8(data []byte) ([]byte, error) {
	enc := detectEncoding(data)
	data = data[enc.bom:]
	if enc.width == 1 {
		return data, nil
	}
	what := func(format string, args ...any) error {
		return fmt.Errorf("body is not valid %s: %s; send it in UTF-8", enc.name, fmt.Sprintf(format, args...))
	}
	if n := len(data) % enc.width; n != 0 {
		return nil, what("its %d bytes are not a whole number of %d-byte code units", len(data)+enc.bom, enc.width)
	}
	out := make([]byte, 0, len(data)/enc.width+8)
	for i := 0; i < len(data); i += enc.width {
		var r rune
		if enc.width == 4 {
			v := enc.order.Uint32(data[i:])
			if v > utf8.MaxRune {
				return nil, what("0x%X at byte %d is beyond Unicode", v, i+enc.bom)
			}
			r = rune(v)
		} else {
			r = rune(enc.order.Uint16(data[i:]))
			if utf16.IsSurrogate(r) && r < 0xdc00 && i+4 <= len(data) {
				if lo := rune(enc.order.Uint16(data[i+2:])); lo >= 0xdc00 && lo < 0xe000 {
					r = utf16.DecodeRune(r, lo)
					i += 2
				}
			}
		}
		if utf16.IsSurrogate(r) {
			return nil, what("a lone UTF-16 surrogate 0x%X at byte %d, which has no UTF-8 form", r, i+enc.bom)
		}
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}
