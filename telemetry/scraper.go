package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trackerbench/tracker/internal/defaults"
	"github.com/trackerbench/tracker/textsafe"
)

// Phase says what the endpoint was doing when a sample was taken.
type Phase string

// Phases. A level's warm-up requests, its measured requests, and the pause after them until
// the endpoint's next level starts (the server draining, or another endpoint's turn).
const (
	PhaseWarmup  Phase = "warmup"
	PhaseMeasure Phase = "measure"
	PhasePause   Phase = "pause"
)

// Target is the level samples are attributed to: t_ms is measured from Origin.
type Target struct {
	LevelID int64
	Origin  time.Time
	Phase   Phase
}

// Sink receives one scrape's samples. It must not block (drop instead): the scraper never
// waits for the database.
type Sink func(t Target, at time.Time, samples []Sample)

// Scraper polls one endpoint's /metrics every Interval while it has a target, in its own
// goroutine with its own HTTP client, so requests never wait for it. After MaxFailures
// failures in a row it stops for the rest of the run; it warns once, at the first failure.
type Scraper struct {
	Endpoint    string
	URL         string
	Interval    time.Duration
	Timeout     time.Duration // one scrape; default: the interval, at least 1 s, at most 5 s
	Selection   Selection
	Client      *http.Client
	Sink        Sink
	Warn        func(msg string) // nil = silent
	MaxFailures int              // default 3

	gen, scrapedGen   atomic.Int64 // SetTarget calls, and the last of them a finished scrape saw
	stopped           atomic.Bool
	kick              chan struct{} // SetTarget asks for a scrape now: a level's first and last samples
	target            atomic.Pointer[Target]
	last              atomic.Pointer[[]Sample] // the latest successful scrape, for live views
	scrapes, failures atomic.Int64
}

// SetTarget attributes the following samples to t (nil: stop scraping until a new target).
// It asks for a scrape at once, so that a level's measured phase starts and ends with one.
// Call Init before Run and SetTarget.
func (s *Scraper) SetTarget(t *Target) {
	s.target.Store(t)
	s.gen.Add(1)
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Init sets the defaults; call it once before Run or SetTarget.
func (s *Scraper) Init() {
	defaults.Positive(&s.Interval, 500*time.Millisecond)
	defaults.Positive(&s.Timeout, min(max(s.Interval, time.Second), 5*time.Second))
	defaults.Positive(&s.MaxFailures, 3)
	if s.Client == nil {
		s.Client = NewHTTPClient()
	}
	s.kick = make(chan struct{}, 1)
}

// Counts is how many scrapes succeeded and failed so far.
func (s *Scraper) Counts() (ok, failed int64) { return s.scrapes.Load(), s.failures.Load() }

// Last is the latest successful scrape's samples (nil before the first).
func (s *Scraper) Last() []Sample {
	if p := s.last.Load(); p != nil {
		return *p
	}
	return nil
}

// Run scrapes until ctx ends or the endpoint failed MaxFailures times in a row. A tick that
// comes while a scrape is still running is skipped (time.Ticker drops it).
func (s *Scraper) Run(ctx context.Context) {
	defer s.stopped.Store(true)
	tick := time.NewTicker(s.Interval)
	defer tick.Stop()
	inARow := 0
	for {
		gen := s.gen.Load()
		if t := s.target.Load(); t != nil {
			ok := s.scrapeOnce(ctx, *t)
			s.scrapedGen.Store(gen)
			if ok {
				inARow = 0
			} else if inARow++; inARow >= s.MaxFailures || ctx.Err() != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
		}
	}
}

// Settle waits (at most the scrape timeout) until a scrape sent after the latest SetTarget
// has finished, so that the run's last level ends with a sample of its own; it returns at
// once when the scraper has stopped.
func (s *Scraper) Settle() {
	deadline := time.Now().Add(s.Timeout + 100*time.Millisecond)
	for !s.stopped.Load() && s.scrapedGen.Load() < s.gen.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// scrapeOnce fetches, parses and hands one scrape to the sink; it reports success. The
// samples keep the target of the moment the scrape was sent.
func (s *Scraper) scrapeOnce(ctx context.Context, t Target) bool {
	samples, err := Fetch(ctx, s.Client, s.URL, s.Timeout, s.Selection)
	if ctx.Err() != nil {
		return true // the run ended: not the endpoint's failure
	}
	if err != nil {
		if s.failures.Add(1) == 1 && s.Warn != nil {
			s.Warn(fmt.Sprintf("server metrics of %s: %s; skipped (the run goes on; scraping stops after %d failures in a row)",
				s.Endpoint, printable(err.Error(), 200), s.MaxFailures))
		}
		return false
	}
	s.scrapes.Add(1)
	s.last.Store(&samples)
	s.Sink(t, time.Now(), samples)
	return true
}

// printable keeps a server-influenced message safe for a terminal, on one line
// (textsafe.Terminal escapes control characters), cut to at most n runes.
func printable(msg string, n int) string {
	out := []rune(strings.NewReplacer("\n", " ", "\t", " ").Replace(textsafe.Terminal(msg)))
	if len(out) > n {
		return string(out[:n]) + "…"
	}
	return string(out)
}
