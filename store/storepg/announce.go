package storepg

import (
	"context"
	"time"
)

// announceEvery is the shortest time between two notifications that
// publishes made deliveries due.
const announceEvery = 5 * time.Millisecond

// announcer tells listening processes (see Listen) that publishes made
// deliveries due. It sends NOTIFY after those publishes commit, outside
// their transactions: NOTIFY takes a lock for the whole database when its
// transaction commits, and at a thousand single-event publishes a second
// their commits queued on it. Publishes that commit within announceEvery
// of each other share one notification. This process's own engine hears of
// its publishes directly; other processes, should a notification be lost
// with a broken connection, find the deliveries at their next poll.
type announcer struct {
	notify func(ctx context.Context) error
	due    chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func startAnnouncer(notify func(ctx context.Context) error) *announcer {
	a := &announcer{notify: notify, due: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

// committed notes that a transaction that made deliveries due committed.
func (a *announcer) committed() {
	select {
	case a.due <- struct{}{}:
	default:
	}
}

func (a *announcer) run() {
	defer close(a.done)
	for {
		select {
		case <-a.stop:
			return
		case <-a.due:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.notify(ctx) // a lost notification only waits for the listeners' poll
		cancel()
		t := time.NewTimer(announceEvery)
		select {
		case <-a.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// close stops the announcer; a notification still pending is dropped.
func (a *announcer) close() {
	close(a.stop)
	<-a.done
}
