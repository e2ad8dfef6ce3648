// Package bytesize writes a number of bytes as people read it in an error
// message or a report: "512 B", "1.5 KiB", "2.0 GiB".
package bytesize

import "fmt"

// String returns n in the largest binary unit (KiB, MiB, … EiB) in which it
// is at least 1, with one decimal; under 1 KiB, in bytes.
func String(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
