// Package mgm holds the game's domain: its types, its fixed numbers and its rules.
//
// Everything here is pure: no I/O, no clock, no randomness. Storage, HTTP and the
// binaries import this package; it imports nothing of theirs, so the rules can be
// read, tested and changed in one place.
package mgm
