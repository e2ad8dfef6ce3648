package ops

import "testing"

// The masking rules are tested in internal/pgmask; this checks that a
// payload as the store encodes it comes out masked and still JSON.
func TestMaskJSONKeepsPayloadValid(t *testing.T) {
	obj, err := DecodeObject([]byte(`{"changes": [{"conninfo": "host=a password=x\"y z", "c2": "postgresql://u:p\\q@h"}]}`), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := EncodePython(obj)
	masked := MaskJSON(data)
	if _, err := DecodeObject(masked, DecodeOptions{}); err != nil {
		t.Fatalf("masked JSON %s is not valid: %v", masked, err)
	}
	if string(masked) == string(data) {
		t.Fatalf("nothing was masked in %s", data)
	}
}
