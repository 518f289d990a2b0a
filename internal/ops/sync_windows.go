package ops

// syncDir does nothing on Windows, where a directory cannot be opened for
// flushing and NTFS journals the rename itself.
func syncDir(string) error { return nil }
