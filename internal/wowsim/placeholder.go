package wowsim

import (
	"context"
	"errors"
	"io"
)

// Main is being written; it exists so that cmd/mgm-sim builds meanwhile.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("not available yet")
}
