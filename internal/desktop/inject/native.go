package inject

import "time"

// NativeOptions configure the platform's own injector (Windows only).
type NativeOptions struct {
	// Process names the WoW process to type into: an executable name
	// ("WoW.exe", the default) or "pid:<n>" for one the streamer picked.
	// Read before every line, so a settings change applies at once.
	Process func() string
	// Strategy is "PostMessage" (default) or "SendInput": the primary way of
	// typing; the other one is the fallback.
	Strategy func() string
	// Sleep waits between keystrokes (nil: time.Sleep).
	Sleep func(time.Duration)
}

// Window is a top-level window the streamer may pick as the WoW target.
type Window struct {
	PID     uint32 `json:"pid"`
	Exe     string `json:"exe"`
	Title   string `json:"title"`
	Class   string `json:"class"`
	Default bool   `json:"default"` // the process name is WoW.exe
}

// DefaultProcess is the WoW 3.3.5a client's executable.
const DefaultProcess = "WoW.exe"
