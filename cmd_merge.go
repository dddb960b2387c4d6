package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v3"

	"github.com/trackerbench/tracker/store"
)

// mergeBarMin is the smallest source (in requests) that gets a progress bar on a terminal.
const mergeBarMin = 10000

func mergeCommand() *cli.Command {
	return command("merge", "copy every run of other tracker databases into --db (one transaction per run; merging again adds nothing)",
		`tracker --db team.db merge node1.db node2.db
tracker --db team.db merge --include-running laptop.db

A run is known by its UUID (tracker runs); its id in --db may differ. A run already in --db is
left alone when the copies are the same, replaced when the source's copy holds it and more (it
was resumed since), and listed when the copies differ otherwise. Sources are only read: one
at an older schema version is read through a migrated temporary copy.`,
		[]cli.Flag{&cli.BoolFlag{Name: "include-running", Usage: "also copy runs that are still running in a source (as they are now)"}},
		mergeAction)
}

func mergeAction(ctx context.Context, cmd *cli.Command) error {
	if cmd.NArg() == 0 {
		return usagef("merge: name one or more source databases: tracker --db TARGET merge SOURCE.db ...")
	}
	target, err := dbPath(cmd)
	if err != nil {
		return err
	}
	sources := cmd.Args().Slice()
	if err := checkSources(target, sources); err != nil {
		return err
	}
	db, err := store.Open(ctx, target, schemaSQL)
	if err != nil {
		return fmt.Errorf("merge: target %s: %w", target, err)
	}
	defer db.Close()
	m := &merge{db: db, out: cmd.Root().Writer, log: cmd.Root().ErrWriter, bar: terminalOrNil(os.Stderr),
		opts: store.MergeOptions{IncludeRunning: cmd.Bool("include-running")}}
	return m.all(ctx, sources)
}

// checkSources refuses, before anything is opened, a source that does not exist or that is
// the target itself (opening the target for writing would migrate it).
func checkSources(target string, sources []string) error {
	tst, terr := os.Stat(target)
	for _, s := range sources {
		st, err := os.Stat(s)
		if err != nil {
			return usagef("merge: source %s: %v", s, err)
		}
		if st.IsDir() {
			return usagef("merge: source %s is a directory, not a tracker database", s)
		}
		if terr == nil && os.SameFile(st, tst) {
			return usagef("merge: source %s: %v (--db %s)", s, store.ErrSameDatabase, target)
		}
	}
	return nil
}

// merge merges sources one by one into db and prints what it did.
type merge struct {
	db       *store.DB
	out, log io.Writer
	bar      io.Writer // a terminal for the progress bar, or nil
	opts     store.MergeOptions
	total    mergeTotals
}

type mergeTotals struct {
	added, updated, unchanged, addedReq, updatedReq int
	skipped                                         []string
	conflicts, failed                               int
}

func (m *merge) all(ctx context.Context, sources []string) error {
	start := time.Now()
	for _, s := range sources {
		if err := m.source(ctx, s); err != nil {
			m.total.failed++
			fmt.Fprintf(m.log, "tracker: merge: %v\n", err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	t := m.total
	fmt.Fprintf(m.out, "merged %d of %d source(s) into %s in %s: %d run(s) added (%d requests), %d updated (%d requests), %d unchanged, %d skipped\n",
		len(sources)-t.failed, len(sources), m.db.Path(), time.Since(start).Round(time.Millisecond), t.added, t.addedReq, t.updated, t.updatedReq, t.unchanged, len(t.skipped))
	for _, s := range t.skipped {
		fmt.Fprintf(m.out, "  skipped: %s\n", s)
	}
	if t.failed > 0 || t.conflicts > 0 {
		return fmt.Errorf("merge: %d source(s) failed (above), %d run(s) in conflict not merged (listed)", t.failed, t.conflicts)
	}
	return nil
}

// source merges one source file; errors name it.
func (m *merge) source(ctx context.Context, path string) error {
	src, err := store.OpenReadOnly(ctx, path, schemaSQL)
	if err != nil {
		return fmt.Errorf("source %s: %w", path, err)
	}
	defer src.Close()
	if v := src.OlderVersion(); v > 0 {
		fmt.Fprintf(m.log, "tracker: note: %s is at schema version %d: read through a migrated temporary copy, the file is unchanged\n", path, v)
	}
	if err := src.CheckIntegrity(ctx); err != nil {
		return fmt.Errorf("source %s: %w", path, err)
	}
	total, err := src.SourceRequests(ctx)
	if err != nil {
		return fmt.Errorf("source %s: %w", path, err)
	}
	opts := m.opts
	bar := m.progress(path, total)
	opts.Progress = func(n int) { bar.Add(n) }
	runs, err := m.db.MergeFrom(ctx, src, opts)
	bar.Finish()
	for _, r := range runs {
		m.print(path, r)
	}
	return err
}

// progress is a bar over the source's requests on a terminal, for a large source; else a
// bar that draws nothing.
func (m *merge) progress(path string, total int) *progressbar.ProgressBar {
	if m.bar == nil || total < mergeBarMin {
		return progressbar.NewOptions64(int64(total), progressbar.OptionSetWriter(io.Discard))
	}
	return progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(m.bar),
		progressbar.OptionSetDescription("merging "+path),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// print writes one line per run and counts it.
func (m *merge) print(path string, r store.MergedRun) {
	t := &m.total
	name := fmt.Sprintf("%s run %d (%s", path, r.SourceID, shortID(r.UUID))
	if r.Label != "" {
		name += ", " + r.Label
	}
	name += ")"
	switch r.Action {
	case store.MergeAdded:
		t.added++
		t.addedReq += r.Copied
		fmt.Fprintf(m.out, "added      %s -> run %d, %d requests\n", name, r.TargetID, r.Copied)
	case store.MergeUpdated:
		t.updated++
		t.updatedReq += r.Copied
		fmt.Fprintf(m.out, "updated    %s -> run %d, now %d requests (%s)\n", name, r.TargetID, r.Copied, r.Status)
	case store.MergeUnchanged:
		t.unchanged++
		fmt.Fprintf(m.out, "unchanged  %s = run %d\n", name, r.TargetID)
	default:
		if r.Action == store.MergeConflict {
			t.conflicts++
		}
		line := fmt.Sprintf("%s %s: %s", string(r.Action), name, r.Reason)
		t.skipped = append(t.skipped, line)
		fmt.Fprintf(m.out, "%-10s %s: %s\n", r.Action, name, r.Reason)
	}
}

func shortID(u string) string {
	if len(u) > shortUUID {
		return u[:shortUUID]
	}
	return u
}
