package ebs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebs"
)

// One SQLite data folder, one process: a second EBS on it stops before it
// touches the database, naming the holder; once the first stops, the folder
// is free again.
func TestSecondEBSOnOneDataFolderRefused(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"Mgm__Environment": "Development", "Mgm__DataDir": dir}
	r := start(t, env)

	cfg, err := config.Load(func(k string) string { return env[k] }, []string{"--listen", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = ebs.Run(ctx, cfg, ebs.Options{Ready: func(string) { t.Error("the second EBS served") }})
	abs, _ := filepath.Abs(dir)
	want := fmt.Sprintf("another mgm-ebs is using %s (pid %d)", abs, os.Getpid())
	if err == nil || err.Error() != want || !errors.Is(err, ebs.ErrDataDirInUse) {
		t.Fatalf("second Run: %v, want %q", err, want)
	}

	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	r.done <- nil
	start(t, env) // the lock went with the first process
}
