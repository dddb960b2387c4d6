package memstore_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/memstore"
	"github.com/trackerbench/tracker/store/storetest"
)

type backend interface {
	bench.Recorder
	bench.Resumer
	bench.History
}

func ptr[T any](v T) *T { return &v }

// record writes the same two runs into b: warm-ups, superseded attempts, canceled and
// client-resource failures, two endpoints, a finished and an interrupted level.
func record(t *testing.T, b backend) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for run := range 2 {
		id, err := b.CreateRun(ctx, bench.Run{Label: fmt.Sprint("l", run), StartedAt: t0.Add(time.Duration(1-run) * time.Hour),
			UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", run)})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"b", "a"} {
			ep, err := b.AddEndpoint(ctx, bench.Endpoint{RunID: id, Name: name, BaseURL: "u", Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			lv, err := b.StartLevel(ctx, bench.Level{RunID: id, EndpointID: ep, Concurrency: 2, StartedAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			sink := b.RecordRequests(bench.SinkOptions{})
			for i := range 12 {
				sink.Add(request(id, lv, ep, i, t0))
			}
			sink.AddServerSamples(samples(lv, ep))
			if err := sink.Close(); err != nil {
				t.Fatal(err)
			}
			if name == "a" {
				err = b.FinishLevel(ctx, bench.Level{ID: lv, Status: bench.LevelCompleted, EndedAt: t0.Add(time.Minute), Note: "n"})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := b.FinishRun(ctx, id, bench.RunInterrupted, t0.Add(2*time.Minute), ""); err != nil {
			t.Fatal(err)
		}
	}
}

// samples are a level's scrapes out of order: two series of one family (by label), another
// family, and one series no question asks for.
func samples(lv, ep int64) []bench.ServerSample {
	s := func(tms int64, phase, family, name, labels string, v float64) bench.ServerSample {
		return bench.ServerSample{LevelID: lv, EndpointID: ep, TMS: tms, Phase: phase, Family: family, Name: name,
			Labels: labels, Kind: "gauge", Value: v}
	}
	return []bench.ServerSample{
		s(200, bench.PhaseMeasure, "running", "running", `{"m":"b"}`, 3),
		s(100, bench.PhaseWarmup, "running", "running", `{"m":"b"}`, 1),
		s(150, bench.PhaseMeasure, "running", "running", `{"m":"a"}`, 2),
		s(50, bench.PhaseMeasure, "kv", "kv_usage", `{}`, 0.5),
		s(60, bench.PhaseMeasure, "waiting", "waiting", `{}`, 7),
	}
}

func request(run, lv, ep int64, i int, t0 time.Time) bench.Request {
	r := bench.Request{RunID: run, LevelID: lv, EndpointID: ep, PromptID: "p", Seq: ptr(i / 2), Attempt: 1 + i%2,
		Final: i%2 == 1, StartMS: float64(10 * i), Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: t0,
			ElapsedMS: float64(5 + i), E2EMS: ptr(float64(5 + i)), TTFTMS: ptr(1.5), OutputTokens: ptr(i),
			CachedTokens: ptr(i % 3)}}
	switch i {
	case 1:
		r.Warmup, r.Seq = true, nil
	case 5:
		r.Status, r.ErrorClass, r.ErrorMessage, r.E2EMS = bench.StatusError, "http_500", "boom", nil
	case 7:
		r.Status, r.ErrorClass = bench.StatusError, bench.ClassClientResource
	case 9, 11:
		r.Status, r.E2EMS = bench.StatusCanceled, nil
	}
	return r
}

// The in-memory store answers every question of bench.Resumer and bench.History as the
// database does, for the same records: SQLite and PostgreSQL alike.
func TestSameAnswersAsTheStore(t *testing.T) { storetest.ForEach(t, testSameAnswersAsTheStore) }

func testSameAnswersAsTheStore(t *testing.T, be storetest.Backend) {
	sql, mem := be.Open(t), memstore.New()
	record(t, sql)
	record(t, mem)
	ctx := context.Background()
	for name, ask := range map[string]func(b backend) (any, error){
		"GetRun":    func(b backend) (any, error) { return b.GetRun(ctx, 2) },
		"Endpoints": func(b backend) (any, error) { return b.Endpoints(ctx, 1) },
		"LevelStates": func(b backend) (any, error) {
			if err := b.ReopenRun(ctx, 1, bench.Lease{Owner: "me", Until: time.Now().Add(time.Minute)}, nil); err != nil {
				return nil, err
			}
			return b.LevelStates(ctx, 1)
		},
		"RunLease": func(b backend) (any, error) { st, _, err := b.RunLease(ctx, 2); return st, err },
		"ReportRuns": func(b backend) (any, error) {
			return b.ReportRuns(ctx, bench.ReportSelection{Endpoints: []string{"a"}, Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		},
		"ReportLevels": func(b backend) (any, error) { return b.ReportLevels(ctx, []int64{1, 2}, []string{"a", "b"}) },
		"ServerSeries": func(b backend) (any, error) {
			return b.ServerSeries(ctx, []int64{1, 2, 4}, []string{"running", "kv_usage"})
		},
		"scan": scanAll,
	} {
		got, gerr := ask(mem)
		want, werr := ask(sql)
		if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: memory %+v (%v)\n  store %+v (%v)", name, got, gerr, want, werr)
		}
	}
}

// scanAll reads every level's measured requests (NaN as -1, which DeepEqual can compare),
// each level's in the order of their start (a scanner's order is its own).
func scanAll(b backend) (any, error) {
	ctx := context.Background()
	sc, err := b.NewRequestScanner(ctx)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	var out [][]bench.ReportRequest
	for lv := int64(1); lv <= 4; lv++ {
		var level []bench.ReportRequest
		err := sc.Each(ctx, lv, func(r *bench.ReportRequest) error {
			c := *r
			for _, f := range []*float64{&c.TTFTMS, &c.E2EMS, &c.TPOTMS, &c.ServerTTFTMS, &c.InputTokens, &c.OutputTokens, &c.EM, &c.F1, &c.Seq} {
				if math.IsNaN(*f) {
					*f = -1
				}
			}
			level = append(level, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.SortFunc(level, func(a, b bench.ReportRequest) int { return cmp.Compare(a.StartMS, b.StartMS) })
		out = append(out, level)
	}
	return out, nil
}

// Both say the same sentinel errors: a run that does not exist, a run another live process holds.
func TestSameErrorsAsTheStore(t *testing.T) {
	ctx := context.Background()
	for name, b := range map[string]backend{"store": storetest.Open(t), "memory": memstore.New()} {
		if _, err := b.GetRun(ctx, 99); !errors.Is(err, bench.ErrNotFound) {
			t.Errorf("%s: GetRun of no run: %v, want ErrNotFound", name, err)
		}
		id, err := b.CreateRun(ctx, bench.Run{Label: "x", StartedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.RenewLease(ctx, id, bench.Lease{Owner: "other/1", Until: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		err = b.ReopenRun(ctx, id, bench.Lease{Owner: "me/2", Until: time.Now().Add(time.Minute)}, nil)
		if !errors.Is(err, bench.ErrLeased) {
			t.Errorf("%s: reopening a run another process holds: %v, want ErrLeased", name, err)
		}
		if err := b.ReopenRun(ctx, id, bench.Lease{Owner: "me/2"}, func(string) bool { return true }); err != nil {
			t.Errorf("%s: reopening a run whose holder is dead: %v", name, err)
		}
	}
}
