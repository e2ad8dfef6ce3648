package ops

import "testing"

func TestMaskSecrets(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"host=db1 user=barman password=s3cret dbname=postgres", "host=db1 user=barman password=**** dbname=postgres"},
		{"host=db1 password = 's3 cr\\'et' user=x", "host=db1 password = **** user=x"},
		{`{"conninfo": "host=a PASSWORD=x1"}`, `{"conninfo": "host=a PASSWORD=****"}`},
		{"from 'host=a password=old' to 'host=a password=new'", "from 'host=a password=****' to 'host=a password=****'"},
		{"postgresql://barman:hunter2@db1:5432/postgres", "postgresql://barman:****@db1:5432/postgres"},
		{"postgres://u:p@h", "postgres://u:****@h"},
		{"no secrets here: passwordless=1 host=x", "no secrets here: passwordless=1 host=x"},
		{"postgresql://db1/postgres", "postgresql://db1/postgres"},
	} {
		if got := MaskSecrets(c.in); got != c.want {
			t.Errorf("MaskSecrets(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaskSecretsKeepsJSONValid(t *testing.T) {
	obj, err := DecodeObject([]byte(`{"changes": [{"conninfo": "host=a password=x\"y z", "c2": "postgresql://u:p\\q@h"}]}`), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := EncodePython(obj)
	masked := MaskSecrets(string(data))
	if _, err := DecodeObject([]byte(masked), DecodeOptions{}); err != nil {
		t.Fatalf("masked JSON %s is not valid: %v", masked, err)
	}
	if masked == string(data) {
		t.Fatalf("nothing was masked in %s", data)
	}
}

func TestMaskSecretsUnclosedQuote(t *testing.T) {
	in := `{"a": "password='abc", "b": "it's fine"}`
	got := MaskSecrets(in)
	if want := `{"a": "password=****", "b": "it's fine"}`; got != want {
		t.Errorf("MaskSecrets(%q) = %q: an unclosed quote must not swallow other values", in, got)
	}
	if _, err := DecodeObject([]byte(got), DecodeOptions{}); err != nil {
		t.Errorf("masked text %q is no longer JSON: %v", got, err)
	}
}
