package memstore

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/trackerbench/tracker/bench"
)

// ReportRuns returns the selected runs, oldest first (by start, then id).
func (s *Store) ReportRuns(_ context.Context, sel bench.ReportSelection) ([]bench.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return query(s.runs, func(r *bench.Run) (bench.Run, bool) { return *r, s.selected(r, &sel) },
		func(a, b bench.Run) int { return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID)) }), nil
}

// query is what each history question asks of the records, as its SQL does: the rows that
// match (where mapped from an item) in order (SELECT ... WHERE ... ORDER BY).
func query[T, Row any](items []T, match func(*T) (Row, bool), order func(a, b Row) int) []Row {
	var out []Row
	for i := range items {
		if r, ok := match(&items[i]); ok {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, order)
	return out
}

func (s *Store) selected(r *bench.Run, sel *bench.ReportSelection) bool {
	switch {
	case len(sel.RunIDs) > 0 && !slices.Contains(sel.RunIDs, r.ID),
		sel.Label != "" && r.Label != sel.Label,
		!sel.Since.IsZero() && r.StartedAt.Before(sel.Since):
		return false
	case len(sel.Endpoints) == 0:
		return true
	}
	return slices.ContainsFunc(s.endpoints, func(e bench.Endpoint) bool {
		return e.RunID == r.ID && slices.Contains(sel.Endpoints, e.Name)
	})
}

// ReportLevels lists the levels of the given runs (of the named endpoints only, when
// endpoints is not empty), ordered by run, endpoint name, concurrency, rate, trial and id.
func (s *Store) ReportLevels(_ context.Context, runIDs []int64, endpoints []string) ([]bench.ReportLevel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	runs, names := set(runIDs), set(endpoints)
	match := func(l *bench.Level) (bench.ReportLevel, bool) {
		e := s.endpoints[l.EndpointID-1]
		return bench.ReportLevel{Level: *l, Endpoint: e.Name, Model: e.Model, Hardware: e.Hardware,
			EndpointConfigJSON: e.ConfigJSON}, runs[l.RunID] && (len(names) == 0 || names[e.Name])
	}
	return query(s.levels, match, func(a, b bench.ReportLevel) int {
		return cmp.Or(cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.Endpoint, b.Endpoint),
			cmp.Compare(a.Concurrency, b.Concurrency), cmp.Compare(a.Rate, b.Rate), cmp.Compare(a.Trial, b.Trial),
			cmp.Compare(a.ID, b.ID))
	}), nil
}

// NewRequestScanner returns a scanner over the requests recorded so far, which gives a
// level's measured requests in the order they were recorded.
func (s *Store) NewRequestScanner(context.Context) (bench.RequestScanner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byLevel := map[int64][]bench.Request{}
	for i := range s.requests {
		if r := &s.requests[i]; measured(r) {
			byLevel[r.LevelID] = append(byLevel[r.LevelID], *r)
		}
	}
	return scanner(byLevel), nil
}

type scanner map[int64][]bench.Request

func (sc scanner) Each(ctx context.Context, levelID int64, fn func(*bench.ReportRequest) error) error {
	var rr bench.ReportRequest
	for i := range sc[levelID] {
		if err := ctx.Err(); err != nil {
			return err
		}
		reportRequest(&sc[levelID][i], &rr)
		if err := fn(&rr); err != nil {
			return err
		}
	}
	return nil
}

func (sc scanner) Close() error { return nil }

// reportRequest fills rr from r as the store's scan does: NULL numbers are NaN, a success
// has no error message.
func reportRequest(r *bench.Request, rr *bench.ReportRequest) {
	*rr = bench.ReportRequest{Status: r.Status, ErrorClass: r.ErrorClass, ErrorMessage: r.ErrorMessage,
		StartMS: r.StartMS, ElapsedMS: r.ElapsedMS, TTFTMS: nan(r.TTFTMS), E2EMS: nan(r.E2EMS), TPOTMS: nan(r.TPOTMS),
		ServerTTFTMS: nan(r.ServerTTFTMS), InputTokens: nanInt(r.InputTokens), OutputTokens: nanInt(r.OutputTokens),
		EM: nan(r.EM), F1: nan(r.F1), Relayed: r.RelayFlag, Cached: r.CachedTokens != nil && *r.CachedTokens > 0,
		Seq: nanInt(r.Seq)}
	if r.Status == bench.StatusOK {
		rr.ErrorMessage = ""
	}
}

func nan(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func nanInt(p *int) float64 {
	if p == nil {
		return math.NaN()
	}
	return float64(*p)
}

// ServerLevelSummary returns none: summarizing server metrics is v_server_level's, in the store.
func (s *Store) ServerLevelSummary(context.Context, []int64, []string) ([]bench.ServerLevelRow, error) {
	return nil, nil
}

// ServerSeries returns the levels' samples of the given families (series names), ordered by
// level, family, labels and time.
func (s *Store) ServerSeries(_ context.Context, levelIDs []int64, families []string) ([]bench.ServerPoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	levels, names := set(levelIDs), set(families)
	match := func(m *bench.ServerSample) (bench.ServerPoint, bool) {
		return bench.ServerPoint{LevelID: m.LevelID, Family: m.Family, Labels: m.Labels, TMS: m.TMS,
			Phase: m.Phase, Value: m.Value}, levels[m.LevelID] && names[m.Name]
	}
	return query(s.samples, match, func(a, b bench.ServerPoint) int {
		return cmp.Or(cmp.Compare(a.LevelID, b.LevelID), cmp.Compare(a.Family, b.Family),
			cmp.Compare(a.Labels, b.Labels), cmp.Compare(a.TMS, b.TMS))
	}), nil
}

func set[T comparable](xs []T) map[T]bool {
	m := make(map[T]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
