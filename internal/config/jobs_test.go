package config

import (
	"strings"
	"testing"
	"time"
)

// The job queue's timings are Development-only knobs (the kill -9 test needs
// a takeover in seconds, not half a minute); Production refuses them.
func TestJobTimings(t *testing.T) {
	const attempt, rescue = "Mgm__Jobs__AttemptTimeoutSeconds", "Mgm__Jobs__RescueAfterSeconds"
	tests := []struct {
		name        string
		env         env
		wantAttempt time.Duration
		wantRescue  time.Duration
		wantErr     []string
	}{
		{name: "defaults", env: dev, wantAttempt: 15 * time.Second},
		{name: "Production defaults", env: prod, wantAttempt: 15 * time.Second},
		{name: "Production says the default", env: prod.with(attempt, "15"), wantAttempt: 15 * time.Second},
		{name: "short in Development", env: dev.with(attempt, "2", rescue, "3"), wantAttempt: 2 * time.Second, wantRescue: 3 * time.Second},
		{name: "rescue alone", env: dev.with(rescue, "40"), wantAttempt: 15 * time.Second, wantRescue: 40 * time.Second},
		{name: "rescue not after the attempt", env: dev.with(attempt, "5", rescue, "5"), wantErr: []string{rescue, "greater than", attempt}},
		{name: "rescue under the default attempt", env: dev.with(rescue, "3"), wantErr: []string{rescue, "greater than", attempt}},
		{name: "zero attempt", env: dev.with(attempt, "0"), wantErr: []string{attempt, "between 1 and 300"}},
		{name: "fraction", env: dev.with(rescue, "2.5"), wantErr: []string{rescue, "whole number"}},
		{name: "attempt in Production", env: prod.with(attempt, "2"), wantErr: []string{attempt, "only in Development"}},
		{name: "rescue in Production", env: prod.with(rescue, "60"), wantErr: []string{rescue, "only in Development"}},
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
			c := mustLoad(t, tt.env)
			if c.JobAttemptTimeout != tt.wantAttempt || c.JobRescueAfter != tt.wantRescue {
				t.Errorf("attempt %v rescue %v, want %v %v", c.JobAttemptTimeout, c.JobRescueAfter, tt.wantAttempt, tt.wantRescue)
			}
		})
	}
}
