package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/trackerbench/tracker/report"
	"github.com/trackerbench/tracker/store"
)

func reportCommand() *cli.Command {
	return command("report", "speedups with confidence across the history: report.md, index.html (charts) and report.json",
		`tracker report                                   # everything in the database -> report/
tracker report --runs 12,13 --baseline metis --out hw5/
tracker report --label hw5 --since 2026-11-01 --endpoints metis,sophia`,
		reportFlags(), reportAction)
}

func reportFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "runs", Usage: "comma-separated runs: ids, UUIDs or unique UUID prefixes as `tracker runs` shows them (default: all runs)"},
		&cli.StringFlag{Name: "label", Usage: "only runs with this label"},
		&cli.StringFlag{Name: "since", Usage: "only runs started on or after this date (2006-01-02) or time (RFC 3339)"},
		&cli.StringFlag{Name: "endpoints", Usage: "comma-separated endpoint names (default: all)"},
		&cli.StringFlag{Name: "baseline", Usage: "endpoint the others are compared with (default: the config's baseline, else the first alphabetically)"},
		&cli.StringFlag{Name: "out", Value: "report", Usage: "directory to write index.html, report.md and report.json into"},
		&cli.StringFlag{Name: "assets", Usage: "path to a local ECharts 5 echarts.min.js to inline, so index.html works offline (default: the copy a `make build` binary embeds, else a cached copy, else the CDN with an integrity hash)", Sources: cli.EnvVars("TRACKER_ECHARTS_JS")},
		&cli.BoolFlag{Name: "png", Usage: "also write report.md's figures as PNG beside the SVG files"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "bootstrap seed"},
		&cli.IntFlag{Name: "resamples", Value: 1000, Usage: "bootstrap replicates"},
	}
}

func reportAction(ctx context.Context, cmd *cli.Command) error {
	if cmd.NArg() > 0 {
		return usagef("report: unexpected argument %q (selection is by --runs, --label, --since, --endpoints)", cmd.Args().First())
	}
	o := report.Options{Label: cmd.String("label"), Baseline: cmd.String("baseline"),
		Endpoints: splitList(cmd.String("endpoints")), Seed: cmd.Uint64("seed"), Resamples: int(cmd.Int("resamples"))}
	if s := cmd.String("since"); s != "" {
		t, err := parseSince(s)
		if err != nil {
			return usagef("report: --since %q: want a date (2006-01-02) or an RFC 3339 time", s)
		}
		o.Since = t
	}
	var fo report.FileOptions
	js, source, err := report.ResolveECharts(cmd.String("assets"), report.EChartsCachePath())
	if err != nil {
		return usagef("report: %v", err)
	}
	fo.EChartsJS, fo.EChartsSource, fo.PNG = js, source, cmd.Bool("png")
	defer tuneGCForReport(os.Getenv)() // gc.go
	// Not mapped: the report reads each page once and keeps what it needs; a mapped file
	// would count in its resident memory beside that (store.OpenOptions.NoMap).
	db, err := openForReadingWith(ctx, cmd, store.OpenOptions{NoMap: true})
	if err != nil {
		return err
	}
	defer db.Close()
	if o.RunIDs, err = resolveRuns(ctx, db, splitList(cmd.String("runs"))); err != nil {
		return err
	}
	res, err := report.Generate(ctx, db, o)
	if errors.Is(err, report.ErrNoRuns) || errors.Is(err, report.ErrNoBaseline) || errors.Is(err, store.ErrNotFound) {
		return usageError{fmt.Errorf("report: %w", err)}
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	out := cmd.String("out")
	if err := res.WriteFiles(out, fo); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(cmd.Root().Writer, "report: %d run(s), %d requests, baseline %s -> %s (ECharts: %s), %s, %s\n", len(res.Runs), res.Requests,
		res.Baseline, filepath.Join(out, "index.html"), source, filepath.Join(out, "report.md"), filepath.Join(out, "report.json"))
	return nil
}

// resolveRuns turns --runs values (run ids, UUIDs or unique UUID prefixes) into run ids.
func resolveRuns(ctx context.Context, db *store.DB, refs []string) ([]int64, error) {
	var ids []int64
	for _, ref := range refs {
		id, err := db.ResolveRun(ctx, ref)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAmbiguousRun) {
			return nil, usagef("report: --runs: %v", err)
		}
		if err != nil {
			return nil, fmt.Errorf("report: --runs: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}
