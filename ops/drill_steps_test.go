package ops_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

func TestDrillStepsReadBack(t *testing.T) {
	out := "Starting local restore\n" +
		ops.DrillLinePrefix + ops.DrillStepLine("restore", 1500*time.Millisecond, "") + "\n" +
		ops.DrillLinePrefix + ops.DrillStepLine("consistency", 2*time.Minute+3*time.Second, "PostgreSQL started and ended recovery") + "\n" +
		"fake: step queries: ok in 1s\n" + // not ours: not at the start of a line of ours
		ops.DrillLinePrefix + "query 1: ok in 3ms, first value \"3\"\n"
	want := map[string]time.Duration{"restore": 1500 * time.Millisecond, "consistency": 2*time.Minute + 3*time.Second}
	if got := ops.DrillSteps(out); !reflect.DeepEqual(got, want) {
		t.Errorf("DrillSteps = %v, want %v", got, want)
	}
}
