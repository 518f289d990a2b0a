package mgm

import "time"

// PoolEntry is one viewer enrolled for spins under one character name.
type PoolEntry struct {
	TwitchUserID      string
	TwitchDisplayName string
	CharacterName     string
	EnrolledAt        time.Time
}

// Viewer identifies a Twitch user as far as we know them.
type Viewer struct {
	UserID      string
	DisplayName string
}
