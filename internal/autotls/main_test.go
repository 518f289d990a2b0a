package autotls_test

import (
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/autotls/acmetest"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Goroutines started by this package's tests must end with them; Pebble's
// task loop is the test server's own.
func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m, acmetest.IgnoreLeaks) }
