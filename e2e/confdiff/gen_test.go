package confdiff

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The generator must replay a seed exactly, and the configurations it
// breaks on purpose must be the ones our reader refuses; that the rest are
// read as Barman reads them is e2e/confdiff_test.go's job.
func TestGenerateReplaysAndRefusals(t *testing.T) {
	for _, f := range []Features{FeaturesFor("3.4.0"), FeaturesFor("3.13.3")} {
		a, b := t.TempDir(), t.TempDir()
		refused := 0
		for i := 0; i < 200; i++ {
			ca, err := Generate(a, 42, i, f)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := Generate(b, 42, i, f)
			if err != nil {
				t.Fatal(err)
			}
			rel := func(c *Config, root string) map[string]string {
				out := map[string]string{}
				for p, text := range c.Files {
					r, _ := filepath.Rel(root, p)
					out[r] = strings.ReplaceAll(text, root, "@ROOT@")
				}
				return out
			}
			if !reflect.DeepEqual(rel(ca, a), rel(cb, b)) {
				t.Fatalf("config %d differs between two runs of seed 42 (%+v)", i, f)
			}
			r := Ours(ca, f)
			if r.Refused != ca.WantRefusal {
				t.Errorf("config %d (%+v): refused=%v (%s), generator meant refused=%v\n%s", i, f, r.Refused, r.Why, ca.WantRefusal, ca.Text())
			}
			if r.Refused {
				refused++
			} else if len(r.Servers) == 0 {
				t.Errorf("config %d: no servers read\n%s", i, ca.Text())
			}
		}
		if refused == 0 || refused > 60 {
			t.Errorf("%+v: %d of 200 refused; want some, but mostly valid configurations", f, refused)
		}
	}
	if FeaturesFor("3.4.0").Models || !FeaturesFor("3.13.3").Models || !FeaturesFor("4.0").AutoConf {
		t.Error("FeaturesFor misreads versions")
	}
}
