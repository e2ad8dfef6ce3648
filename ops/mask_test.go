package ops_test

import (
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The masking rules are tested in internal/pgmask; this checks that a
// payload as the store encodes it comes out masked and still JSON.
func TestMaskJSONKeepsPayloadValid(t *testing.T) {
	obj, err := pyjson.DecodeObject([]byte(`{"changes": [{"conninfo": "host=a password=x\"y z", "c2": "postgresql://u:p\\q@h"}]}`), pyjson.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := pyjson.EncodePython(obj)
	masked := ops.MaskJSON(data)
	if _, err := pyjson.DecodeObject(masked, pyjson.DecodeOptions{}); err != nil {
		t.Fatalf("masked JSON %s is not valid: %v", masked, err)
	}
	if string(masked) == string(data) {
		t.Fatalf("nothing was masked in %s", data)
	}
}
