package config

import (
	"strings"
	"testing"
	"time"
)

// The EventSub WebSocket lease is a Development-only knob (the three-replica
// test needs a takeover in seconds); Production refuses anything but the
// default.
func TestEventSubLease(t *testing.T) {
	const lease = "Mgm__EventSub__LeaseSeconds"
	tests := []struct {
		name    string
		env     env
		want    time.Duration
		wantErr []string
	}{
		{name: "default", env: dev, want: 10 * time.Second},
		{name: "Production default", env: prod, want: 10 * time.Second},
		{name: "Production says the default", env: prod.with(lease, "10"), want: 10 * time.Second},
		{name: "short in Development", env: dev.with(lease, "2"), want: 2 * time.Second},
		{name: "zero", env: dev.with(lease, "0"), wantErr: []string{lease, "between 1 and 60"}},
		{name: "too long", env: dev.with(lease, "61"), wantErr: []string{lease, "between 1 and 60"}},
		{name: "in Production", env: prod.with(lease, "2"), wantErr: []string{lease, "only in Development"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != nil {
				msg := mustFail(t, tt.env)
				for _, w := range tt.wantErr {
					if !strings.Contains(msg, w) {
						t.Errorf("error %q does not contain %q", msg, w)
					}
				}
				return
			}
			if got := mustLoad(t, tt.env).EventSubLeaseTTL; got != tt.want {
				t.Errorf("lease %v, want %v", got, tt.want)
			}
		})
	}
}
