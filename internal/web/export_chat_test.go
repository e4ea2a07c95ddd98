package web

import "time"

// SetChatHeartbeat changes how often live streams send heartbeats and check their
// session, for tests; it returns the function that restores it.
func SetChatHeartbeat(d time.Duration) func() {
	old := chatHeartbeat
	chatHeartbeat = d
	return func() { chatHeartbeat = old }
}
