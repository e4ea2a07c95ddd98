package portal

import (
	"math"
	"strconv"
)

// Readable tells whether white text on the colour #rrggbb reaches the WCAG AA
// contrast ratio of 4.5:1 for normal text.
func Readable(hex string) bool {
	return ContrastWithWhite(hex) >= 4.5
}

// ContrastWithWhite returns the WCAG contrast ratio between white and #rrggbb.
func ContrastWithWhite(hex string) float64 {
	if len(hex) != 7 {
		return 0
	}
	lin := func(s string) float64 {
		v, _ := strconv.ParseUint(s, 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(hex[1:3]) + 0.7152*lin(hex[3:5]) + 0.0722*lin(hex[5:7])
	return 1.05 / (l + 0.05)
}
