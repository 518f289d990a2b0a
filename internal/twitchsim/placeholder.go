package twitchsim

import (
	"context"
	"errors"
	"io"
)

// MainEventSub is being written; it exists so that cmd/mgm-sim builds meanwhile.
func MainEventSub(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("not available yet")
}

// MainJWT is being written; it exists so that cmd/mgm-sim builds meanwhile.
func MainJWT(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("not available yet")
}

// MainHelix is being written; it exists so that cmd/mgm-sim builds meanwhile.
func MainHelix(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("not available yet")
}
