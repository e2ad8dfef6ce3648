package barman

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// ParseVersion reads the first line `barman -v` prints, for example
// "3.4.0 Barman by EnterpriseDB (www.enterprisedb.com)".
func ParseVersion(out string) (ops.Version, error) {
	line := strings.TrimSpace(out)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	word := strings.Fields(line + " ")
	if len(word) == 0 {
		return ops.Version{}, fmt.Errorf("barman -v printed nothing")
	}
	parts := strings.SplitN(word[0], ".", 3)
	var nums [3]int
	for i, p := range parts {
		// Keep the leading digits: "0a1" in a pre-release is still 0.
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			return ops.Version{}, fmt.Errorf("barman -v printed %q, not a version", line)
		}
		nums[i] = n
	}
	if len(parts) < 2 {
		return ops.Version{}, fmt.Errorf("barman -v printed %q, not a version", line)
	}
	return ops.Version{Major: nums[0], Minor: nums[1], Patch: nums[2]}, nil
}
