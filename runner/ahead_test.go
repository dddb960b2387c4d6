package runner

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// Connections opened ahead (StartAhead) are opened before the run starts, and the first
// level uses them instead of opening its own: the server sees the level's warm-up GETs
// (one, then as many as its concurrency) once, accepts one connection per request in
// flight, and every measured request goes out on a reused connection. When they are stale
// (older than aheadFresh when the run gets to them) the level opens them again itself; a
// plan whose first requests are a warm-up, or whose connections are cold, opens nothing
// ahead.
func TestConnectionsOpenedAhead(t *testing.T) {
	const c, n = 8, 24
	for _, tc := range []struct {
		name                 string
		change               func(*Plan)
		stale                bool
		getsAhead, getsAfter int32 // GET /models before RunAhead, and in all
		reused               bool  // every measured request on a reused connection
	}{
		{"fresh", func(*Plan) {}, false, c + 1, c + 1, true},
		{"stale", func(*Plan) {}, true, c + 1, 2 * (c + 1), true},
		{"warm-up first", func(p *Plan) { p.Warmup = 2 }, false, 0, c + 1, true},
		{"cold connections", func(p *Plan) { p.Conn.Cold = true }, false, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, accepts, gets := methodCountingServer(t, http.MethodGet)
			r, db := newRunner(t)
			p := plan(4, []int{c}, ep("e", srv.URL))
			p.Requests = n
			tc.change(&p)
			a, err := StartAhead(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			a.Wait()
			if got := gets.Load(); got != tc.getsAhead {
				t.Errorf("%d GET /models before the run, want %d", got, tc.getsAhead)
			}
			if tc.stale {
				a.at = a.at.Add(-aheadFresh)
			}
			if out, err := r.RunAhead(context.Background(), p, a); err != nil || out.Status != bench.RunCompleted {
				t.Fatalf("run: %v %v", out, err)
			}
			if got := gets.Load(); got != tc.getsAfter {
				t.Errorf("%d GET /models in all, want %d", got, tc.getsAfter)
			}
			if got := accepts.Load(); tc.reused && got != c {
				t.Errorf("the server accepted %d connections, want %d", got, c)
			}
			if !tc.reused {
				return
			}
			for _, row := range requests(t, db, "warmup = 0 AND (status <> 'ok' OR conn_reused IS NOT 1)") {
				t.Errorf("seq %v: %v reused %v: want ok on a connection opened before the level", row["seq"], row["status"], row["conn_reused"])
			}
		})
	}
}

// StartAhead refuses a plan the run would refuse, before it sends anything.
func TestStartAheadRefusesBadPlan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Plan)
	}{
		{"no endpoints", func(p *Plan) { p.Endpoints = nil }},
		{"no loads", func(p *Plan) { p.Loads = nil }},
		{"bad order", func(p *Plan) { p.Order = "sideways" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gets atomic.Int32
			srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gets.Add(1) }))
			p := plan(4, []int{4}, ep("e", srv.URL))
			tc.change(&p)
			if _, err := StartAhead(context.Background(), p); !errors.Is(err, ErrPlan) {
				t.Fatalf("err %v, want ErrPlan", err)
			}
			time.Sleep(10 * time.Millisecond)
			if got := gets.Load(); got != 0 {
				t.Errorf("%d requests sent for a refused plan", got)
			}
		})
	}
}

// Runner.Collected is called once per level, after its collection and before its clock
// starts: no request of the level has been sent yet.
func TestCollectedBeforeEachLevel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		levels []int
	}{{"one level", []int{2}}, {"three levels", []int{1, 2, 4}}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, posts := methodCountingServer(t, http.MethodPost)
			r, _ := newRunner(t)
			var sentBefore []int32
			r.Collected = func() { sentBefore = append(sentBefore, posts.Load()) }
			p := plan(4, tc.levels, ep("e", srv.URL))
			p.Requests = 4
			if out, err := r.Run(context.Background(), p); err != nil || out.Status != bench.RunCompleted {
				t.Fatalf("run: %v %v", out, err)
			}
			if len(sentBefore) != len(tc.levels) {
				t.Fatalf("Collected called %d times, want %d (one per level)", len(sentBefore), len(tc.levels))
			}
			for i, n := range sentBefore {
				if want := int32(i * p.Requests); n != want {
					t.Errorf("level %d: %d requests sent before Collected, want %d", i+1, n, want)
				}
			}
		})
	}
}

// methodCountingServer is a fake server of two-word answers that counts the connections it
// accepts and the requests with method.
func methodCountingServer(t *testing.T, method string) (srv *httptest.Server, accepts, n *atomic.Int32) {
	t.Helper()
	f := &fakeServer{tokens: words(2)}
	n = new(atomic.Int32)
	srv, accepts = countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == method {
			n.Add(1)
		}
		f.handle(w, r)
	}))
	return srv, accepts, n
}
