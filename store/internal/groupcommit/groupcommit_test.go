package groupcommit_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/logtest"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/groupcommit"
)

func TestGroupCommitterGroupsAndAnswersEach(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var groups []int
	release := make(chan struct{})
	g := groupcommit.New(groupcommit.Config{Committers: 1, Max: 10}, func(_ context.Context, group []*groupcommit.Request[int, int]) {
		<-release
		mu.Lock()
		groups = append(groups, len(group))
		mu.Unlock()
		for _, r := range group {
			if r.Params < 0 {
				r.Err = errors.New("negative")
				continue
			}
			r.Result = r.Params * 2
		}
	})
	defer g.Close()
	var wg sync.WaitGroup
	results := make([]int, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() {
			p := i
			if i == 3 {
				p = -1
			}
			results[i], errs[i] = g.Do(context.Background(), p)
		})
	}
	// However the calls fall into groups, each gets its own answer.
	close(release)
	wg.Wait()
	for i := range 8 {
		if i == 3 {
			if errs[i] == nil {
				t.Errorf("call 3: no error, want its own failure")
			}
			continue
		}
		if errs[i] != nil || results[i] != 2*i {
			t.Errorf("call %d = %d, %v; want %d", i, results[i], errs[i], 2*i)
		}
	}
	total := 0
	for _, n := range groups {
		total += n
	}
	if total != 8 {
		t.Errorf("groups %v hold %d calls, want 8", groups, total)
	}
}

// A commit that panics fails its group, is logged with its stack, and
// the committer serves the calls that come after.
func TestGroupCommitterSurvivesACommitThatPanics(t *testing.T) {
	t.Parallel()
	logs := &logtest.Buffer{}
	g := groupcommit.New(groupcommit.Config{Log: slog.New(slog.NewTextHandler(logs, nil))},
		func(ctx context.Context, group []*groupcommit.Request[int, int]) {
			for _, r := range group {
				if r.Params < 0 {
					panic("a poisoned commit")
				}
				r.Result = r.Params * 2
			}
		})
	defer g.Close()
	if _, err := g.Do(context.Background(), -1); err == nil || !strings.Contains(err.Error(), "a poisoned commit") {
		t.Errorf("the call whose commit panicked answered %v, want an error naming the panic", err)
	}
	for i := range 3 {
		if got, err := g.Do(context.Background(), i); err != nil || got != 2*i {
			t.Errorf("call %d after the panic = %d, %v; want %d", i, got, err, 2*i)
		}
	}
	if out := logs.String(); !strings.Contains(out, "group commit panicked") || !strings.Contains(out, "goroutine") {
		t.Errorf("the panic is not logged with its stack:\n%s", out)
	}
}

// A commit runs under a context that its caller hanging up does not
// cancel, but that has a deadline.
func TestGroupCommitterBoundsItsCommits(t *testing.T) {
	t.Parallel()
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	g := groupcommit.New(groupcommit.Config{Timeout: time.Hour}, func(ctx context.Context, group []*groupcommit.Request[int, int]) {
		hangUp() // the caller goes away while its commit runs
		deadline, ok := ctx.Deadline()
		for _, r := range group {
			switch {
			case !ok || time.Until(deadline) > time.Hour:
				r.Err = errors.New("no deadline within the timeout")
			case ctx.Err() != nil:
				r.Err = errors.New("cancelled with its caller")
			}
		}
	})
	defer g.Close()
	if _, err := g.Do(ctx, 1); err != nil {
		t.Error(err)
	}
}

func TestGroupCommitterClosed(t *testing.T) {
	t.Parallel()
	g := groupcommit.New(groupcommit.Config{Committers: 2, Max: 4}, func(context.Context, []*groupcommit.Request[int, int]) {})
	g.Close()
	if _, err := g.Do(context.Background(), 1); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Do after Close = %v, want ErrClosed", err)
	}
}
