// Package workers runs short tasks, such as serving one stream, on
// goroutines that outlive them.
//
// A goroutine starts with a small stack and the runtime copies it each
// time it must grow; serving a request grows it several times over, and
// with a new goroutine per request those copies were a twentieth of the
// exchange's CPU. A worker keeps its grown stack for the next task. Idle
// workers end after a while, so a daemon at rest keeps none.
package workers

import "time"

// idleFor is how long a worker waits for another task before it ends.
const idleFor = 2 * time.Second

// Pool hands tasks to idle workers and starts a worker when none is idle:
// it never queues a task, so a task starts as soon as with the go
// statement.
type Pool struct {
	tasks chan func()
	idle  time.Duration
}

// New returns a Pool whose workers end after 2 s without a task.
func New() *Pool { return &Pool{tasks: make(chan func()), idle: idleFor} }

// Go runs f on an idle worker, or on a new one.
func (p *Pool) Go(f func()) {
	select {
	case p.tasks <- f:
	default:
		go p.work(f)
	}
}

// work runs f, then the tasks handed to it until it has been idle for
// p.idle.
func (p *Pool) work(f func()) {
	f()
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for {
		select {
		case f := <-p.tasks:
			f()
			idle.Reset(p.idle)
		case <-idle.C:
			return
		}
	}
}
