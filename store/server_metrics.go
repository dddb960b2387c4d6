package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trackerbench/tracker/bench"
)

type seriesKey struct {
	endpoint     int64
	name, labels string
}

// SeriesCache remembers server_metric_series ids across InsertServerSamples calls, so a
// series is looked up once per run. Not safe for concurrent use (the writer's goroutine owns one).
type SeriesCache struct{ ids map[seriesKey]int64 }

// NewSeriesCache returns an empty cache.
func NewSeriesCache() *SeriesCache { return &SeriesCache{ids: map[seriesKey]int64{}} }

// InsertServerSamples writes samples in one transaction, creating their series on first
// sight. cache may be nil (no caching across calls).
func (db *DB) InsertServerSamples(ctx context.Context, samples []bench.ServerSample, cache *SeriesCache) error {
	if cache == nil {
		cache = NewSeriesCache()
	}
	ids := cache.ids
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording server metrics: %w", err)
	}
	defer tx.Rollback()
	series, err := tx.PrepareContext(ctx, `INSERT INTO server_metric_series (endpoint_id, family, name, labels, kind)
		VALUES (?,?,?,?,?) ON CONFLICT (endpoint_id, name, labels) DO UPDATE SET kind = excluded.kind RETURNING id`)
	if err != nil {
		return fmt.Errorf("recording server metrics: %w", err)
	}
	defer series.Close()
	value, err := tx.PrepareContext(ctx, `INSERT INTO server_metrics (level_id, series_id, t_ms, phase, value) VALUES (?,?,?,?,?)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("recording server metrics: %w", err)
	}
	defer value.Close()
	fresh := map[seriesKey]int64{} // ids created in this transaction: cached only once it commits
	for i := range samples {
		s := &samples[i]
		k := seriesKey{s.EndpointID, s.Name, s.Labels}
		id, ok := ids[k]
		if !ok {
			if id, ok = fresh[k]; !ok {
				if err := series.QueryRowContext(ctx, s.EndpointID, s.Family, s.Name, s.Labels, s.Kind).Scan(&id); err != nil {
					return fmt.Errorf("recording server metric series %s: %w", s.Name, err)
				}
				fresh[k] = id
			}
		}
		if _, err := value.ExecContext(ctx, s.LevelID, id, s.TMS, s.Phase, s.Value); err != nil {
			return fmt.Errorf("recording server metric %s: %w", s.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording server metrics: %w", err)
	}
	for k, id := range fresh {
		ids[k] = id
	}
	return nil
}

// ServerLevelSummary reads v_server_level for the given runs, limited to the given families
// (none: every family).
func (db *DB) ServerLevelSummary(ctx context.Context, runIDs []int64, families []string) ([]bench.ServerLevelRow, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	q := `SELECT run_id, endpoint, concurrency, coalesce(rate, 0), trial, level_id, family, labels, kind, coalesce(samples, 0), mean, max, increase, p50, p99
		FROM v_server_level WHERE run_id IN (` + reportPlaceholders(len(runIDs)) + `)`
	args := serverIDArgs(runIDs)
	if len(families) > 0 {
		q += ` AND family IN (` + reportPlaceholders(len(families)) + `)`
		for _, f := range families {
			args = append(args, f)
		}
	}
	return queryAll(ctx, db.sql, "reading server metrics summary", func(rows *sql.Rows) (bench.ServerLevelRow, error) {
		var r bench.ServerLevelRow
		var mean, mx, inc, p50, p99 sql.NullFloat64
		err := rows.Scan(&r.RunID, &r.Endpoint, &r.Concurrency, &r.Rate, &r.Trial, &r.LevelID, &r.Family, &r.Labels, &r.Kind, &r.Samples,
			&mean, &mx, &inc, &p50, &p99)
		r.Mean, r.Max, r.Increase, r.P50, r.P99 = serverNullable(mean), serverNullable(mx), serverNullable(inc), serverNullable(p50), serverNullable(p99)
		return r, err
	}, q+` ORDER BY level_id, family, labels`, args...)
}

// ServerSeries reads the samples of the given families (gauges: their names are their
// families) in the given levels, in time order per level.
func (db *DB) ServerSeries(ctx context.Context, levelIDs []int64, families []string) ([]bench.ServerPoint, error) {
	if len(levelIDs) == 0 || len(families) == 0 {
		return nil, nil
	}
	q := `SELECT m.level_id, s.family, s.labels, m.t_ms, m.phase, m.value
		FROM server_metrics m JOIN server_metric_series s ON s.id = m.series_id
		WHERE m.level_id IN (` + reportPlaceholders(len(levelIDs)) + `) AND s.name IN (` + reportPlaceholders(len(families)) + `)
		ORDER BY m.level_id, s.family, s.labels, m.t_ms`
	args := serverIDArgs(levelIDs)
	for _, f := range families {
		args = append(args, f)
	}
	return queryAll(ctx, db.sql, "reading server metrics", func(rows *sql.Rows) (bench.ServerPoint, error) {
		var p bench.ServerPoint
		err := rows.Scan(&p.LevelID, &p.Family, &p.Labels, &p.TMS, &p.Phase, &p.Value)
		return p, err
	}, q, args...)
}

func serverIDArgs(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func serverNullable(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	v := n.Float64
	return &v
}

// serverQueue carries scraped samples to the writer's goroutine: a scraper hands over a whole
// scrape without ever blocking (a full queue drops the scrape and counts it).
type serverQueue struct {
	in      chan []bench.ServerSample
	batch   []bench.ServerSample
	ids     *SeriesCache
	dropped chan struct{} // one token per dropped scrape, read by Dropped
	failed  bool          // a batch failed: no more are written (read by the writer's goroutine only)
	err     error         // why; guarded by the writer's mu
}

func newServerQueue() serverQueue {
	return serverQueue{in: make(chan []bench.ServerSample, 256), ids: NewSeriesCache(), dropped: make(chan struct{}, 1<<16)}
}

// AddServerSamples queues one scrape's samples; it never blocks. It reports false when the
// queue is full and the scrape was dropped.
func (w *Writer) AddServerSamples(samples []bench.ServerSample) bool {
	select {
	case w.server.in <- samples:
		return true
	default:
		select {
		case w.server.dropped <- struct{}{}:
		default:
		}
		return false
	}
}

// DroppedServerScrapes is how many scrapes were dropped because the writer was behind.
func (w *Writer) DroppedServerScrapes() int { return len(w.server.dropped) }

// flushServer writes the queued samples (at the end, everything still in the queue too),
// retried while the database is busy like request batches. A batch that still fails is
// dropped and telemetry stops being written (ServerErr says why): server metrics never fail
// or stop a run; the requests' own writes report a database that cannot be written.
func (w *Writer) flushServer(final bool) {
	for final {
		select {
		case s := <-w.server.in:
			w.server.batch = append(w.server.batch, s...)
			continue
		default:
		}
		break
	}
	if len(w.server.batch) == 0 || w.server.failed {
		w.server.batch = w.server.batch[:0]
		return
	}
	err := retryBusy(context.Background(), w.budget, func() error {
		return w.db.InsertServerSamples(context.Background(), w.server.batch, w.server.ids)
	})
	if err != nil {
		w.mu.Lock()
		w.server.failed, w.server.err = true, err
		w.mu.Unlock()
	}
	clear(w.server.batch)
	w.server.batch = w.server.batch[:0]
}

// ServerErr is why server metrics stopped being written, if they did.
func (w *Writer) ServerErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.server.err
}
