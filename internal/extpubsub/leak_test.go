package extpubsub_test

import (
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Goroutines started by this package's tests must end with them.
func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }
