package httpd

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"sort"
	"strings"
)

// attributeTypes are the short names RFC 4514 (section 3) and common usage
// give attribute types; any other type is written as its dotted OID.
var attributeTypes = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "TITLE",
	"2.5.4.17":                   "POSTALCODE",
	"2.5.4.42":                   "GN",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "EMAILADDRESS",
}

// typeByName maps upper-case short names (and aliases) to the name we use.
var typeByName = func() map[string]string {
	m := map[string]string{"E": "EMAILADDRESS", "EMAIL": "EMAILADDRESS", "S": "ST", "GIVENNAME": "GN", "SURNAME": "SN", "USERID": "UID"}
	for oid, name := range attributeTypes {
		m[name] = name
		m[oid] = name
	}
	return m
}()

type dnAttr struct{ typ, value string }

// CanonicalDN parses a distinguished name written as RFC 4514 says
// ("CN=dba,O=Example": the last RDN of the certificate first) and returns
// it in one canonical form: attribute types upper-case short names (or
// dotted OIDs), no whitespace around separators, values unescaped then
// escaped minimally, the attributes of a multi-valued RDN sorted. Two
// strings name the same subject exactly when their canonical forms are
// equal. A string that is not a DN ("dba", "CN=") is an error.
func CanonicalDN(s string) (string, error) {
	rdns, err := parseDN(s)
	if err != nil {
		return "", err
	}
	return formatDN(rdns), nil
}

// SubjectDN is a certificate's subject in canonical RFC 4514 form, its RDNs
// in the certificate's own order (reversed, as RFC 4514 writes them).
func SubjectDN(cert *x509.Certificate) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(cert.RawSubject, &seq); err != nil {
		seq = cert.Subject.ToRDNSequence()
	}
	rdns := make([][]dnAttr, 0, len(seq))
	for i := len(seq) - 1; i >= 0; i-- {
		var rdn []dnAttr
		for _, atv := range seq[i] {
			typ, ok := attributeTypes[atv.Type.String()]
			if !ok {
				typ = atv.Type.String()
			}
			value, ok := atv.Value.(string)
			if !ok {
				value = fmt.Sprint(atv.Value)
			}
			rdn = append(rdn, dnAttr{typ, value})
		}
		rdns = append(rdns, rdn)
	}
	return formatDN(rdns)
}

// commonNames are the CN attributes of a certificate's subject.
func commonNames(cert *x509.Certificate) []string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(cert.RawSubject, &seq); err != nil {
		return nil
	}
	var cns []string
	for _, rdn := range seq {
		for _, atv := range rdn {
			if atv.Type.String() == "2.5.4.3" {
				if v, ok := atv.Value.(string); ok {
					cns = append(cns, v)
				}
			}
		}
	}
	return cns
}

func formatDN(rdns [][]dnAttr) string {
	var b strings.Builder
	for i, rdn := range rdns {
		if i > 0 {
			b.WriteByte(',')
		}
		sort.Slice(rdn, func(a, c int) bool {
			if rdn[a].typ != rdn[c].typ {
				return rdn[a].typ < rdn[c].typ
			}
			return rdn[a].value < rdn[c].value
		})
		for j, atv := range rdn {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(atv.typ)
			b.WriteByte('=')
			b.WriteString(escapeDNValue(atv.value))
		}
	}
	return b.String()
}

// escapeDNValue escapes what RFC 4514 section 2.4 requires.
func escapeDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=',
			c == '#' && i == 0, c == ' ' && (i == 0 || i == len(v)-1):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func parseDN(s string) ([][]dnAttr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("an empty string is not a distinguished name")
	}
	var rdns [][]dnAttr
	var rdn []dnAttr
	i := 0
	skipSpace := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	for {
		skipSpace()
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && s[i] != '+' {
			i++
		}
		rawType := strings.TrimSpace(s[start:i])
		if i >= len(s) || s[i] != '=' || rawType == "" {
			return nil, fmt.Errorf("%q is not a distinguished name such as \"CN=dba,O=Example\" (attribute TYPE=value pairs separated by commas)", s)
		}
		typ, ok := typeByName[strings.ToUpper(rawType)]
		if !ok {
			if !isOID(rawType) {
				return nil, fmt.Errorf("%q: unknown attribute type %q (use CN, O, OU, C, L, ST, DC, UID, ... or a dotted OID)", s, rawType)
			}
			typ = rawType
		}
		i++ // '='
		skipSpace()
		var value []byte
		trailing := 0 // unescaped spaces at the end of value
		for i < len(s) && s[i] != ',' && s[i] != '+' && s[i] != ';' {
			c := s[i]
			if c == '\\' {
				if i+1 >= len(s) {
					return nil, fmt.Errorf("%q ends with a lone backslash", s)
				}
				if isHex(s[i+1]) && i+2 < len(s) && isHex(s[i+2]) {
					value = append(value, unhex(s[i+1])<<4|unhex(s[i+2]))
					i += 3
				} else {
					value = append(value, s[i+1])
					i += 2
				}
				trailing = 0
				continue
			}
			if c == '"' {
				return nil, fmt.Errorf("%q: quoted values are not RFC 4514; escape with backslashes instead", s)
			}
			if c == ' ' {
				trailing++
			} else {
				trailing = 0
			}
			value = append(value, c)
			i++
		}
		value = value[:len(value)-trailing]
		if len(value) == 0 {
			return nil, fmt.Errorf("%q: attribute %s has an empty value", s, rawType)
		}
		rdn = append(rdn, dnAttr{typ, string(value)})
		if i >= len(s) {
			rdns = append(rdns, rdn)
			return rdns, nil
		}
		if s[i] != '+' {
			rdns = append(rdns, rdn)
			rdn = nil
		}
		i++
	}
}

func isOID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
