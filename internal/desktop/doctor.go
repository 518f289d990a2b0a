package desktop

// The doctor, app side: the UI's POST /api/doctor runs the engine's check
// plus what only the app sees (whether WoW and the Desktop run as
// administrator), and `mgm-desktop doctor` asks the Desktop that holds the
// data folder, or runs one in-process just for the check.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/engine"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/ui"
)

// doctor runs the check for the UI.
func (d *companion) doctor(ctx context.Context) engine.DoctorReport {
	d.log.Info("doctor: checking the bridge (a handshake with the addon)")
	r := d.eng.Doctor(ctx)
	if d.native != nil {
		d.mu.Lock()
		process := d.s.WoWProcess
		d.mu.Unlock()
		r.Elevation = elevation(process)
	}
	if r.OK {
		d.log.Info("doctor: the bridge answers", "summary", r.Bridge.Summary)
	} else {
		d.log.Warn("doctor: the bridge does not answer", "problem", r.Bridge.Problem)
	}
	return r
}

// Doctor runs the doctor for `mgm-desktop doctor`. When another Desktop
// holds the data folder it asks that one (its UI address and token are in
// the lock file); otherwise it starts the Desktop in-process, without a
// browser and with its console output discarded, asks it, and stops it.
// The result's OK is true when the bridge answered.
func Doctor(ctx context.Context, o Options) (ui.DoctorResult, error) {
	o.NoBrowser, o.Out = true, io.Discard
	o, err := o.withDefaults()
	if err != nil {
		return ui.DoctorResult{}, err
	}
	path := filepath.Join(o.DataDir, lockName)
	lock, err := acquireLock(path)
	if errors.Is(err, ErrAlreadyRunning) {
		url := readLockURL(path)
		if url == "" {
			return ui.DoctorResult{}, fmt.Errorf("%w, but its address could not be read from %s: run the doctor from its Settings page", err, path)
		}
		return askDoctor(ctx, url)
	}
	if err != nil {
		return ui.DoctorResult{}, err
	}
	defer lock.release()
	d, err := build(o)
	if err != nil {
		return ui.DoctorResult{}, err
	}
	ready := make(chan string, 1)
	d.o.Ready = func(url string) { ready <- url }
	runCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- d.serve(runCtx, lock) }()
	var res ui.DoctorResult
	select {
	case url := <-ready:
		res, err = askDoctor(ctx, url)
		stop()
		if serr := <-served; err == nil && serr != nil {
			err = serr
		}
	case err = <-served:
		stop()
		if err == nil {
			err = ctx.Err()
		}
	}
	return res, err
}

// askDoctor calls POST /api/doctor of the Desktop whose UI link is url
// ("http://127.0.0.1:port/?token=…").
func askDoctor(ctx context.Context, url string) (ui.DoctorResult, error) {
	base, token, ok := strings.Cut(url, "/?token=")
	if !ok {
		return ui.DoctorResult{}, fmt.Errorf("the Desktop's address %q has no access token", url)
	}
	ctx, cancel := context.WithTimeout(ctx, ui.DoctorTimeout+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/doctor", nil)
	if err != nil {
		return ui.DoctorResult{}, err
	}
	req.Header.Set(ui.HeaderName, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ui.DoctorResult{}, fmt.Errorf("could not reach the running mgm-desktop at %s: %w", base, err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below; nothing to lose
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return ui.DoctorResult{}, fmt.Errorf("reading the doctor's answer from %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message string }
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			return ui.DoctorResult{}, fmt.Errorf("the mgm-desktop at %s refused the doctor (%s): %s", base, resp.Status, e.Message)
		}
		return ui.DoctorResult{}, fmt.Errorf("the mgm-desktop at %s refused the doctor (%s); is it an older version?", base, resp.Status)
	}
	var res ui.DoctorResult
	if err := json.Unmarshal(body, &res); err != nil {
		return ui.DoctorResult{}, fmt.Errorf("the doctor's answer from %s is not readable: %w", base, err)
	}
	return res, nil
}
