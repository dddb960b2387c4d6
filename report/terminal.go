package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
)

// WriteRunSummary prints a run's v_summary rows as a table (endpoint x level), then one
// sentence per level comparing the endpoints on mean latency and output throughput.
func WriteRunSummary(w io.Writer, rows []store.SummaryRow, pairs []store.PairCount) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "No requests were recorded.")
		return err
	}
	open, slo, canceled, clientRes := false, false, false, false
	for _, r := range rows {
		open = open || r.Rate != nil
		slo = slo || r.SLOSet
		canceled = canceled || r.Canceled > 0
		clientRes = clientRes || r.ClientRes > 0
	}
	header := []any{"endpoint", "level", "n", "ok %", "mean e2e ms", "p50 e2e", "p99 e2e", "p50 ttft", "p99 ttft", "p50 tpot", "out tok/s", "req tok/s", "em", "f1"}
	if open {
		header = append(header, "achieved req/s", "lag")
	}
	if slo {
		header = append(header, "slo %", "goodput req/s")
	}
	if canceled {
		header = append(header, "canceled")
	}
	if clientRes {
		header = append(header, "client resource") // failed on the client (EMFILE...): not in n
	}
	tbl := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	tbl.Header(header...)
	for _, r := range rows {
		cells := []string{r.Endpoint, levelText(r), strconv.Itoa(r.N), num(100*r.SuccessRate, 1),
			f(r.MeanE2EMS, 1), f(r.P50E2EMS, 1), f(r.P99E2EMS, 1), f(r.P50TTFTMS, 1), f(r.P99TTFTMS, 1),
			f(r.P50TPOTMS, 2), f(r.OutputTokS, 1), f(r.MeanReqTokS, 1), f(r.EM, 1), f(r.F1, 1)}
		if open {
			lag := ""
			if r.LagFlag {
				lag = "FELL BEHIND"
			}
			cells = append(cells, f(r.AchievedRPS, 2), lag)
		}
		if slo {
			cells = append(cells, num(100*r.SLOAttain, 1), f(r.GoodputRPS, 2))
		}
		if canceled {
			cells = append(cells, strconv.Itoa(r.Canceled))
		}
		if clientRes {
			cells = append(cells, strconv.Itoa(r.ClientRes))
		}
		if err := tbl.Append(cells); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	for _, s := range append(LevelSentences(rows, pairs), levelNotes(rows)...) {
		if _, err := fmt.Fprintln(w, s); err != nil {
			return err
		}
	}
	return nil
}

// RelayWarnShare is the share of relayed answers from which a level's ITL/TPOT are said to
// describe the relay rather than the decoder.
const RelayWarnShare = 0.5

// levelNotes says which levels fell behind their schedule and where sweeps or early stops ended.
func levelNotes(rows []store.SummaryRow) []string {
	var out []string
	for _, r := range rows {
		if r.LagFlag && r.Rate != nil {
			out = append(out, fmt.Sprintf("%s at %s: the sender fell behind its schedule (achieved %s of %s req/s, send lag up to %s): latency counted from the send hides queueing; use the *_from_scheduled_ms columns of v_requests.",
				r.Endpoint, levelText(r), f(r.AchievedRPS, 2), strconv.FormatFloat(*r.Rate, 'g', 4, 64), seconds(deref(r.MaxLagMS))))
		}
		if r.StopReason != "" {
			out = append(out, fmt.Sprintf("%s at %s: %s.", r.Endpoint, levelText(r), r.StopReason))
		}
		if r.RelayShare != nil && *r.RelayShare >= RelayWarnShare {
			out = append(out, fmt.Sprintf("%s at %s: %.0f%% of answers arrived in relayed bursts: its TTFT is late by up to one burst and its TPOT/ITL describe the relay, not decoding; compare E2E and server timings instead.",
				r.Endpoint, levelText(r), 100**r.RelayShare))
		}
	}
	return out
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// levelText is the level's load label (bench.LoadLabel), with its trial from the second on.
func levelText(r store.SummaryRow) string {
	s := bench.LoadLabel(r.Concurrency, deref(r.Rate))
	if r.Trial > 1 {
		s += " #" + strconv.Itoa(r.Trial)
	}
	return s
}

func num(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }

func f(p *float64, prec int) string {
	if p == nil {
		return "-"
	}
	return num(*p, prec)
}

// LevelSentences compares the endpoints at each level in plain words: the one with the lowest
// mean E2E latency against each other one, on mean latency and on output throughput, with
// the number of successful requests behind each mean, and, paired by prompt, on how many
// prompts it was faster (with the exact sign test).
func LevelSentences(rows []store.SummaryRow, pairs []store.PairCount) []string {
	type key struct {
		level string
		trial int
	}
	groups := map[key][]store.SummaryRow{}
	var order []key
	for _, r := range rows {
		k := key{levelText(r), r.Trial}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []string
	for _, k := range order {
		g := groups[k]
		var ok []store.SummaryRow
		for _, r := range g {
			if r.MeanE2EMS != nil && r.OK > 0 {
				ok = append(ok, r)
			}
		}
		where := "At " + k.level
		if len(ok) < 2 {
			if len(g) > 1 {
				out = append(out, where+": fewer than two endpoints had successful requests; no comparison.")
			}
			continue
		}
		sort.SliceStable(ok, func(i, j int) bool { return *ok[i].MeanE2EMS < *ok[j].MeanE2EMS })
		best := ok[0]
		var parts []string
		for _, o := range ok[1:] {
			s := fmt.Sprintf("%.2fx faster than %s on mean latency (%s vs %s, n=%d vs %d)",
				*o.MeanE2EMS / *best.MeanE2EMS, o.Endpoint, seconds(*best.MeanE2EMS), seconds(*o.MeanE2EMS), best.OK, o.OK)
			if best.OutputTokS != nil && o.OutputTokS != nil && *o.OutputTokS > 0 && *best.OutputTokS > 0 {
				if *best.OutputTokS >= *o.OutputTokS {
					s += fmt.Sprintf(" with %.2fx its output throughput (%.1f vs %.1f tok/s)", *best.OutputTokS / *o.OutputTokS, *best.OutputTokS, *o.OutputTokS)
				} else {
					s += fmt.Sprintf(", but %s had %.2fx the output throughput (%.1f vs %.1f tok/s)", o.Endpoint, *o.OutputTokS / *best.OutputTokS, *o.OutputTokS, *best.OutputTokS)
				}
			}
			if pw := pairedWins(pairs, best, o); pw != "" {
				s += "; " + pw
			}
			parts = append(parts, s)
		}
		sentence := fmt.Sprintf("%s: %s was %s.", where, best.Endpoint, strings.Join(parts, "; and "))
		if best.OK < 30 {
			sentence += fmt.Sprintf(" (Only %d successful requests: treat the ratio as indicative; `tracker report` gives its confidence interval.)", best.OK)
		}
		out = append(out, sentence)
	}
	return out
}

func seconds(ms float64) string {
	if ms >= 1000 {
		return num(ms/1000, 2) + " s"
	}
	return num(ms, 0) + " ms"
}

// pairedWins says on how many shared prompts best was faster than o, with the sign test.
func pairedWins(pairs []store.PairCount, best, o store.SummaryRow) string {
	for _, p := range pairs {
		if p.Concurrency != best.Concurrency || p.Trial != best.Trial || !sameRate(p.Rate, best.Rate) {
			continue
		}
		wins, losses := 0, 0
		switch {
		case p.A == best.Endpoint && p.B == o.Endpoint:
			wins, losses = p.AFaster, p.BFaster
		case p.B == best.Endpoint && p.A == o.Endpoint:
			wins, losses = p.BFaster, p.AFaster
		default:
			continue
		}
		return fmt.Sprintf("paired by prompt, faster on %d of %d prompts (sign test %s)", wins, p.N, fmtP(Num(signTest(wins, wins+losses))))
	}
	return ""
}

func sameRate(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
