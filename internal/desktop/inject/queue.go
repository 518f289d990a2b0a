package inject

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Injector types lines into the game.
type Injector interface {
	// Name describes the injector ("windows (PostMessage)", "simulator http://…").
	Name() string
	// Target checks that the game can receive lines now and describes it
	// ("WoW.exe pid 1234"); an error says why not. Payouts are never moved
	// to InProgress unless this succeeds.
	Target(ctx context.Context) (string, error)
	// Inject types one line and presses Enter.
	Inject(ctx context.Context, line string) error
}

// ErrSkipped marks the lines of a job after one that failed: they were not
// typed, so a batch never arrives with a hole in the middle.
var ErrSkipped = errors.New("not typed: an earlier line of the same batch failed")

// ErrStopped is the result of lines still queued when the queue stops.
var ErrStopped = errors.New("injection queue stopped")

// Result is the outcome of one job.
type Result struct {
	Lines []string
	// Errs[i] is nil when Lines[i] was typed.
	Errs []error
}

// Injected counts the lines typed.
func (r Result) Injected() int {
	n := 0
	for _, e := range r.Errs {
		if e == nil {
			n++
		}
	}
	return n
}

// Err is the first failure, or nil.
func (r Result) Err() error {
	for i, e := range r.Errs {
		if e != nil {
			return fmt.Errorf("line %d of %d: %w", i+1, len(r.Lines), e)
		}
	}
	return nil
}

// Job is a batch of lines typed back to back.
type Job struct {
	manual bool
	lines  []string
	done   chan struct{}
	res    Result
	then   func(Result)
}

// Done is closed when the job finished (successfully or not).
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait blocks until the job finished or ctx ended.
func (j *Job) Wait(ctx context.Context) (Result, error) {
	select {
	case <-j.done:
		return j.res, j.res.Err()
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Queue is the one worker that types lines: submissions never block, lines
// are typed strictly in submission order, a job's lines are contiguous, and
// two lines are never typed at the same time.
type Queue struct {
	inj      Injector
	gate     Gate
	observe  func(line string, err error)
	mu       sync.Mutex
	jobs     []*Job
	wake     chan struct{}
	stopped  bool
	inflight int // lines of the job being typed that are not typed yet
	lastKeys time.Time
}

// LastTyped is when the queue last finished typing a line: keys the
// Desktop sent itself, which Windows counts as input too (SendInput).
func (q *Queue) LastTyped() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lastKeys
}

// NewQueue returns a queue typing through inj; observe (optional) sees every
// line's outcome, for the event log.
func NewQueue(inj Injector, observe func(line string, err error)) *Queue {
	return &Queue{inj: inj, observe: observe, wake: make(chan struct{}, 1)}
}

// Gate holds a job back until it may be typed: it returns once the streamer
// is not typing in WoW (or an error the job fails with). manual is set for a
// job the streamer asked for (Sync), which may not need the keyboard idle.
type Gate func(ctx context.Context, manual bool) error

// SetGate installs the typing guard; call it before Run.
func (q *Queue) SetGate(g Gate) {
	q.mu.Lock()
	q.gate = g
	q.mu.Unlock()
}

// SubmitManual is Submit for lines the streamer asked for (see Gate).
func (q *Queue) SubmitManual(then func(Result), lines ...string) *Job {
	return q.submit(true, then, lines)
}

// Injector is the queue's injector.
func (q *Queue) Injector() Injector { return q.inj }

// Submit queues lines as one job; then (optional) runs when the job finished,
// on another goroutine than the caller's. It never blocks.
func (q *Queue) Submit(then func(Result), lines ...string) *Job {
	return q.submit(false, then, lines)
}

func (q *Queue) submit(manual bool, then func(Result), lines []string) *Job {
	j := &Job{manual: manual, lines: lines, done: make(chan struct{}), then: then,
		res: Result{Lines: lines, Errs: make([]error, len(lines))}}
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		for i := range j.res.Errs {
			j.res.Errs[i] = ErrStopped
		}
		// Never run then on the caller's goroutine: the caller may hold a
		// lock that then needs.
		go q.finish(j)
		return j
	}
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return j
}

// Len is the number of lines waiting (including the job being typed).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.inflight
	for _, j := range q.jobs {
		n += len(j.lines)
	}
	return n
}

// Run types queued jobs until ctx ends; jobs still queued then fail with
// ErrStopped.
func (q *Queue) Run(ctx context.Context) {
	for {
		q.mu.Lock()
		var j *Job
		gate := q.gate
		if len(q.jobs) > 0 {
			j = q.jobs[0]
			q.jobs = q.jobs[1:]
			q.inflight = len(j.lines)
		}
		q.mu.Unlock()
		if j == nil {
			select {
			case <-ctx.Done():
				q.stop()
				return
			case <-q.wake:
				continue
			}
		}
		var failed error
		if gate != nil {
			failed = gate(ctx, j.manual)
		}
		for i, line := range j.lines {
			switch {
			case ctx.Err() != nil:
				j.res.Errs[i] = ErrStopped
			case failed != nil && i == 0:
				j.res.Errs[i] = failed
			case failed != nil:
				j.res.Errs[i] = ErrSkipped
			default:
				err := q.inj.Inject(ctx, line)
				q.mu.Lock()
				q.lastKeys = time.Now()
				q.mu.Unlock()
				j.res.Errs[i] = err
				failed = err
				if q.observe != nil {
					q.observe(line, err)
				}
			}
			q.mu.Lock()
			q.inflight--
			q.mu.Unlock()
		}
		q.finish(j)
	}
}

func (q *Queue) stop() {
	q.mu.Lock()
	q.stopped = true
	rest := q.jobs
	q.jobs = nil
	q.mu.Unlock()
	for _, j := range rest {
		for i := range j.res.Errs {
			j.res.Errs[i] = ErrStopped
		}
		q.finish(j)
	}
}

func (q *Queue) finish(j *Job) {
	if j.then != nil {
		j.then(j.res)
	}
	close(j.done)
}
