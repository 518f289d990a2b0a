package inject

import "time"

// ticksBetween is the time from tick last to tick now of the 32-bit
// millisecond counter GetTickCount and GetLastInputInfo share. The counter
// wraps every 49.7 days; unsigned subtraction gives the right span across a
// wrap (as long as the span itself is shorter than that).
func ticksBetween(last, now uint32) time.Duration {
	return time.Duration(now-last) * time.Millisecond
}
