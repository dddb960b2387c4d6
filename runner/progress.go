package runner

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress draws a progress bar of requests done, with the error count. A nil writer (the
// output is not a terminal) draws nothing.
type progress struct {
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	errors int
}

func newProgress(w io.Writer, total int) *progress {
	if w == nil {
		return &progress{}
	}
	bar := progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("requests"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return &progress{bar: bar}
}

func (p *progress) add(failed bool) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if failed {
		p.errors++
		p.bar.Describe(fmt.Sprintf("requests (%d failed)", p.errors))
	}
	p.bar.Add(1)
}

func (p *progress) finish() {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Exit()
}
