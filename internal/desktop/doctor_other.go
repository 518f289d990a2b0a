//go:build !windows

package desktop

import "github.com/mimirons-goldomatic/mgm/internal/desktop/engine"

// elevation is a Windows matter (UIPI); elsewhere there is nothing to report.
func elevation(string) *engine.DoctorElevation { return nil }
