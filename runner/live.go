package runner

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// liveView shows, while a run goes, each running level's requests done, errors, achieved
// rate and running p50 TTFT, on a progress bar of all requests done. A nil writer (the
// output is not a terminal) shows nothing.
type liveView struct {
	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	levels   map[*level]bool
	lastDraw time.Time
}

func newLiveView(w io.Writer) *liveView {
	lv := &liveView{levels: map[*level]bool{}}
	if w == nil {
		return lv
	}
	lv.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSpinnerType(14),
	)
	return lv
}

func (lv *liveView) start(l *level) {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	lv.levels[l] = true
	lv.draw(true)
}

func (lv *liveView) end(l *level) {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	delete(lv.levels, l)
}

// add counts one finished request on the bar.
func (lv *liveView) add() {
	if lv.bar == nil {
		return
	}
	lv.mu.Lock()
	defer lv.mu.Unlock()
	lv.bar.Add(1)
	lv.draw(false)
}

// draw refreshes the description at most four times a second (it sorts TTFTs).
func (lv *liveView) draw(force bool) {
	if lv.bar == nil || (!force && time.Since(lv.lastDraw) < 250*time.Millisecond) {
		return
	}
	lv.lastDraw = time.Now()
	var parts []string
	for l := range lv.levels {
		s := l.stats.snapshot()
		p50 := "-"
		if !math.IsNaN(s.P50TTFT) {
			p50 = fmt.Sprintf("%.0fms", s.P50TTFT)
		}
		part := fmt.Sprintf("%s %s #%d: %d done, %d err, %.2f req/s, p50 TTFT %s",
			l.name(), l.load, l.trial, s.N, s.Failed, s.AchievedRPS, p50)
		if s.ClientResource > 0 {
			part += fmt.Sprintf(", %d client-resource failures (not counted)", s.ClientResource)
		}
		parts = append(parts, part+l.serverNow())
	}
	sort.Strings(parts)
	lv.bar.Describe(strings.Join(parts, " | "))
}

func (lv *liveView) close() {
	if lv.bar == nil {
		return
	}
	lv.mu.Lock()
	defer lv.mu.Unlock()
	lv.bar.Finish() // clears the line (OptionClearOnFinish) so the summary starts clean
}
