package report

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/telemetry"
)

// ServerLevel is one level as the server itself saw it, from its Prometheus /metrics scraped
// during the level's measured phase (docs/telemetry.md): the running batch and the waiting
// queue (summed over label sets: a data-parallel server's engines add up), the KV-cache usage
// (0..1, the largest label set), preemptions, and the server's own TTFT and E2E percentiles
// from its histograms, beside the client's.
type ServerLevel struct {
	LevelID         int64   `json:"level_id"`
	RunID           int64   `json:"run_id"`
	Endpoint        string  `json:"endpoint"`
	Concurrency     int     `json:"concurrency"`
	Rate            float64 `json:"rate"`
	Trial           int     `json:"trial"`
	Group           string  `json:"group"`
	Scrapes         int     `json:"scrapes"`
	MeanRunning     Num     `json:"mean_running"`
	MaxRunning      Num     `json:"max_running"`
	MeanWaiting     Num     `json:"mean_waiting"`
	MaxWaiting      Num     `json:"max_waiting"`
	MaxKVUsage      Num     `json:"max_kv_usage"`
	Preemptions     Num     `json:"preemptions"`
	ServerTTFTP50MS Num     `json:"server_ttft_p50_ms"`
	ServerTTFTP99MS Num     `json:"server_ttft_p99_ms"`
	ServerE2EP50MS  Num     `json:"server_e2e_p50_ms"`
	ServerE2EP99MS  Num     `json:"server_e2e_p99_ms"`
	ClientTTFTP50MS Num     `json:"client_ttft_p50_ms"`
	ClientTTFTP99MS Num     `json:"client_ttft_p99_ms"`
}

// ServerRoleFamilies are the allow-listed families the report reads (those with a role).
func ServerRoleFamilies() []string {
	var out []string
	for _, f := range telemetry.Families() {
		if f.Role != telemetry.RoleNone {
			out = append(out, f.Name)
		}
	}
	return out
}

func nanNum() Num { return Num(math.NaN()) }

// serverLevels folds v_server_level rows (ordered by level) into one ServerLevel per level.
func serverLevels(rows []bench.ServerLevelRow) []ServerLevel {
	allow := telemetry.NewAllowList()
	var out []ServerLevel
	var cur *ServerLevel
	var bestTTFT, bestE2E float64
	for _, r := range rows {
		if cur == nil || cur.LevelID != r.LevelID {
			out = append(out, ServerLevel{LevelID: r.LevelID, RunID: r.RunID, Endpoint: r.Endpoint, Concurrency: r.Concurrency,
				Rate: r.Rate, Trial: r.Trial, MeanRunning: nanNum(), MaxRunning: nanNum(), MeanWaiting: nanNum(), MaxWaiting: nanNum(),
				MaxKVUsage: nanNum(), Preemptions: nanNum(), ServerTTFTP50MS: nanNum(), ServerTTFTP99MS: nanNum(),
				ServerE2EP50MS: nanNum(), ServerE2EP99MS: nanNum(), ClientTTFTP50MS: nanNum(), ClientTTFTP99MS: nanNum()})
			cur, bestTTFT, bestE2E = &out[len(out)-1], -1, -1
		}
		switch allow.RoleOf(r.Family) {
		case telemetry.RoleRunning:
			cur.MeanRunning, cur.MaxRunning = addNum(cur.MeanRunning, r.Mean), addNum(cur.MaxRunning, r.Max)
			cur.Scrapes = max(cur.Scrapes, r.Samples)
		case telemetry.RoleWaiting:
			cur.MeanWaiting, cur.MaxWaiting = addNum(cur.MeanWaiting, r.Mean), addNum(cur.MaxWaiting, r.Max)
		case telemetry.RoleKVUsage:
			if r.Max != nil && (!cur.MaxKVUsage.Valid() || *r.Max > float64(cur.MaxKVUsage)) {
				cur.MaxKVUsage = Num(*r.Max)
			}
		case telemetry.RolePreemptions:
			cur.Preemptions = addNum(cur.Preemptions, r.Increase)
		case telemetry.RoleServerTTFT:
			bestTTFT = pickHistogram(r, bestTTFT, &cur.ServerTTFTP50MS, &cur.ServerTTFTP99MS)
		case telemetry.RoleServerE2E:
			bestE2E = pickHistogram(r, bestE2E, &cur.ServerE2EP50MS, &cur.ServerE2EP99MS)
		}
	}
	return out
}

func addNum(n Num, v *float64) Num {
	if v == nil {
		return n
	}
	if !n.Valid() {
		return Num(*v)
	}
	return n + Num(*v)
}

// pickHistogram keeps the label set with the most observations; seconds become ms.
func pickHistogram(r bench.ServerLevelRow, best float64, p50, p99 *Num) float64 {
	if r.Increase == nil || *r.Increase <= best || r.P50 == nil || r.P99 == nil {
		return best
	}
	*p50, *p99 = Num(*r.P50*1000), Num(*r.P99*1000)
	return *r.Increase
}

// maxServerCharts bounds the per-level charts of index.html.
const maxServerCharts = 12

// readServer reads the server telemetry of the selected runs and ties it to the levels.
func (r *Result) readServer(ctx context.Context, db bench.History, runIDs []int64) error {
	rows, err := db.ServerLevelSummary(ctx, runIDs, ServerRoleFamilies())
	if err != nil {
		return err
	}
	byLevel := map[int64]*LevelStats{}
	for i := range r.Levels {
		byLevel[r.Levels[i].LevelID] = &r.Levels[i]
	}
	for _, s := range serverLevels(rows) {
		l := byLevel[s.LevelID]
		if l == nil || !s.MaxRunning.Valid() && !s.MaxWaiting.Valid() && !s.MaxKVUsage.Valid() && !s.ServerTTFTP50MS.Valid() {
			continue
		}
		s.Group, s.ClientTTFTP50MS, s.ClientTTFTP99MS = l.Group, l.P50TTFTMS, l.P99TTFTMS
		r.ServerLevels = append(r.ServerLevels, s)
	}
	var charted []int64
	for _, s := range r.ServerLevels {
		if len(charted) < maxServerCharts {
			charted = append(charted, s.LevelID)
		}
	}
	var gauges []string
	for _, f := range telemetry.Families() {
		if f.Kind == telemetry.KindGauge && (f.Role == telemetry.RoleRunning || f.Role == telemetry.RoleWaiting || f.Role == telemetry.RoleKVUsage) {
			gauges = append(gauges, f.Name)
		}
	}
	pts, err := db.ServerSeries(ctx, charted, gauges)
	if err != nil {
		return err
	}
	r.serverSeries = map[int64][]bench.ServerPoint{}
	for _, p := range pts {
		r.serverSeries[p.LevelID] = append(r.serverSeries[p.LevelID], p)
	}
	return nil
}

// serverAt is the server's account of endpoint e on group g: the largest figures over the
// group's levels (several runs or trials), or nil when it was not scraped.
func (r *Result) serverAt(group, endpoint string) *ServerLevel {
	var agg *ServerLevel
	for i := range r.ServerLevels {
		s := &r.ServerLevels[i]
		if s.Group != group || s.Endpoint != endpoint {
			continue
		}
		if agg == nil {
			c := *s
			agg = &c
			continue
		}
		agg.MaxRunning, agg.MaxWaiting = maxNum(agg.MaxRunning, s.MaxRunning), maxNum(agg.MaxWaiting, s.MaxWaiting)
		agg.MaxKVUsage, agg.Preemptions = maxNum(agg.MaxKVUsage, s.MaxKVUsage), maxNum(agg.Preemptions, s.Preemptions)
	}
	return agg
}

func maxNum(a, b Num) Num {
	switch {
	case !a.Valid():
		return b
	case !b.Valid():
		return a
	}
	return max(a, b)
}

// curvePointServer is the server's account at load x of curve c.
func (r *Result) curvePointServer(c *Curve, endpoint string, x float64) *ServerLevel {
	p := c.point(endpoint, x)
	if p == nil {
		return nil
	}
	return r.serverAt(p.Group, endpoint)
}

// serverSentences tie saturation and the crossover to the server's own metrics. Where the
// server was not scraped, they say nothing.
func serverSentences(r *Result) []string {
	var out []string
	for ci := range r.Curves {
		c := &r.Curves[ci]
		for _, s := range c.Saturation {
			if !s.Saturated {
				continue
			}
			i := slices.Index(c.Xs, s.At)
			if i < 0 || i+1 >= len(c.Xs) {
				continue
			}
			at, next := r.curvePointServer(c, s.Endpoint, s.At), r.curvePointServer(c, s.Endpoint, c.Xs[i+1])
			if why := saturationCause(at, next, c.XName, s.At, c.Xs[i+1]); why != "" {
				out = append(out, fmt.Sprintf("On %s, %s's throughput saturates at %s, and its own metrics say why: %s.",
					c.ID, s.Endpoint, fmtLoad(c.XName, s.At), why))
			}
		}
		if x := c.Crossover; x != nil && c.Winner != "" {
			if s := crossoverCause(r.curvePointServer(c, c.Winner, x.At), c.Winner); s != "" {
				out = append(out, fmt.Sprintf("On %s, where %s overtakes %s (%s), %s.", c.ID, x.Endpoint, c.Winner, fmtLoad(c.XName, x.At), s))
			}
		}
	}
	return out
}

// crossoverCause reads the overtaken endpoint's server at the crossover: requests waiting
// while the batch peaked (at its batch limit, or its KV cache when that was full).
func crossoverCause(w *ServerLevel, name string) string {
	if w == nil || !w.MaxWaiting.Valid() || w.MaxWaiting <= 0 || !w.MaxRunning.Valid() {
		return ""
	}
	limit := "its batch limit"
	if w.MaxKVUsage.Valid() && w.MaxKVUsage >= 0.9 {
		limit = fmt.Sprintf("its KV cache (%s used)", fmtPct(w.MaxKVUsage))
	}
	return fmt.Sprintf("%s's own metrics show its running batch peaking at %s while up to %s requests waited in its queue: %s was saturated at %s",
		name, fmtNum(w.MaxRunning, 0), fmtNum(w.MaxWaiting, 0), name, limit)
}

// saturationCause reads the server's evidence between the saturating level and the next:
// a batch that stopped growing while a queue formed (the batch limit), a full KV cache,
// preemptions, or a batch that kept growing with no queue (the step time, not the batch).
func saturationCause(at, next *ServerLevel, xname string, x, xNext float64) string {
	if at == nil || next == nil || !at.MaxRunning.Valid() || !next.MaxRunning.Valid() {
		return ""
	}
	var why []string
	plateau := float64(next.MaxRunning) <= float64(at.MaxRunning)*1.05+0.5
	queued := next.MaxWaiting.Valid() && next.MaxWaiting > 0
	switch {
	case plateau && queued:
		why = append(why, fmt.Sprintf("at %s its running batch stayed at %s (%s at %s) while up to %s requests waited in its queue: saturated at its batch limit",
			fmtLoad(xname, xNext), fmtNum(next.MaxRunning, 0), fmtNum(at.MaxRunning, 0), fmtLoad(xname, x), fmtNum(next.MaxWaiting, 0)))
	case !plateau && next.MaxWaiting.Valid() && !queued:
		why = append(why, fmt.Sprintf("at %s its running batch grew to %s with no request waiting, so the limit is the time of each step as the batch grows, not the batch size",
			fmtLoad(xname, xNext), fmtNum(next.MaxRunning, 0)))
	}
	if next.MaxKVUsage.Valid() && next.MaxKVUsage >= 0.9 {
		why = append(why, fmt.Sprintf("its KV cache reached %s at %s", fmtPct(next.MaxKVUsage), fmtLoad(xname, xNext)))
	}
	if next.Preemptions.Valid() && next.Preemptions > 0 {
		why = append(why, fmt.Sprintf("it preempted %s sequences at %s", fmtNum(next.Preemptions, 0), fmtLoad(xname, xNext)))
	}
	return strings.Join(why, "; ")
}

// serverNotMeasured says when no server metrics were scraped.
func serverNotMeasured(r *Result) []string {
	if len(r.ServerLevels) > 0 {
		return nil
	}
	return []string{"No endpoint's Prometheus /metrics was scraped (none found, or --no-server-metrics), so batch, queue and KV-cache use are not measured and saturation is not explained by the servers' own evidence."}
}

// writeServerMarkdown writes the server telemetry section of report.md.
func (r *Result) writeServerMarkdown(m *mdWriter) {
	if len(r.ServerLevels) == 0 {
		return
	}
	m.printf("## Server telemetry\n\n")
	m.printf("From each endpoint's own Prometheus /metrics, scraped during the measured requests (docs/telemetry.md). " +
		"Batch = requests running, queue = requests waiting, KV = KV-cache usage. Server TTFT is from the server's own histogram " +
		"(client minus server is network, gateway and client), interpolated within its buckets as Prometheus does, so it is only as fine as " +
		"they are (vLLM's are 100, 250, 500 ms, 1 s ... apart): read a server percentile as the bucket it falls in.\n\n")
	var rows [][]string
	for _, s := range r.ServerLevels {
		rows = append(rows, []string{s.Group, fmt.Sprint(s.RunID), mdCell(s.Endpoint), levelLoad(s), fmt.Sprint(s.Scrapes),
			fmtNum(s.MeanRunning, 1), fmtNum(s.MaxRunning, 0), fmtNum(s.MaxWaiting, 0), fmtPct(s.MaxKVUsage), fmtNum(s.Preemptions, 0),
			fmtMS(s.ServerTTFTP50MS), fmtMS(s.ClientTTFTP50MS), fmtMS(s.ServerTTFTP99MS), fmtMS(s.ClientTTFTP99MS)})
	}
	m.table([]string{"group", "run", "endpoint", "load", "scrapes", "mean batch", "max batch", "max queue", "max KV", "preemptions",
		"server p50 TTFT", "client p50 TTFT", "server p99 TTFT", "client p99 TTFT"}, rows)
}

func levelLoad(s ServerLevel) string { return bench.LoadLabel(s.Concurrency, s.Rate) }

// WriteServerLevelLines prints, for `tracker run`, one line per level whose server was
// scraped: its batch and queue as it reported them. Nothing when none was.
func WriteServerLevelLines(w io.Writer, rows []bench.ServerLevelRow) error {
	for _, s := range serverLevels(rows) {
		if !s.MaxRunning.Valid() && !s.MaxWaiting.Valid() {
			continue
		}
		line := fmt.Sprintf("%s %s #%d, server /metrics: batch mean %s max %s, queue max %s", s.Endpoint, levelLoad(s), s.Trial,
			fmtNum(s.MeanRunning, 1), fmtNum(s.MaxRunning, 0), fmtNum(s.MaxWaiting, 0))
		if s.MaxKVUsage.Valid() {
			line += ", KV max " + fmtPct(s.MaxKVUsage)
		}
		if s.Preemptions.Valid() && s.Preemptions > 0 {
			line += ", preemptions " + fmtNum(s.Preemptions, 0)
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
