package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/report"
	"github.com/trackerbench/tracker/store"
)

// datasetsCommand is `tracker datasets`: what the dataset cache holds, and `fetch` to fill
// it for offline runs.
func datasetsCommand() *cli.Command {
	cacheFlag := &cli.StringFlag{Name: "cache-dir", Usage: "tracker's cache directory (datasets are under DIR/datasets)", Sources: cli.EnvVars("TRACKER_CACHE")}
	fetch := command("fetch", "download a HuggingFace dataset split into the cache (for offline runs)", "",
		[]cli.Flag{
			&cli.StringFlag{Name: "dataset", Required: true, Usage: "squad, squad_v2 or hf:owner/name"},
			&cli.StringFlag{Name: "split", Usage: "split (default validation, else test, else train)"},
			&cli.StringFlag{Name: "hf-config", Usage: "config (default the dataset's only one, or \"default\")"},
			&cli.StringFlag{Name: "revision", Usage: "a cached revision (sha prefix) to check for"},
			&cli.StringFlag{Name: "hf-via", Usage: "rows, parquet or auto", Value: "auto", Validator: oneOf("auto", "rows", "parquet")},
			cacheFlag,
		}, datasetsFetchAction)
	list := command("datasets", "list the cached HuggingFace datasets (dataset, config, split, revision, rows, size)", "",
		[]cli.Flag{cacheFlag, formatFlag()}, datasetsListAction)
	list.Commands = []*cli.Command{fetch}
	return list
}

// datasetsListAction is `tracker datasets`: a table of the cached splits.
func datasetsListAction(ctx context.Context, cmd *cli.Command) error {
	root, err := dataset.CacheRoot(cmd.String("cache-dir"))
	if err != nil {
		return err
	}
	entries, err := dataset.ListCache(root)
	if err != nil {
		return err
	}
	w := cmd.Root().Writer
	format := cmd.String("format")
	if len(entries) == 0 && format == "table" {
		_, err := fmt.Fprintf(w, "No datasets cached in %s.\n", root)
		return err
	}
	t := &store.Table{Columns: []string{"dataset", "config", "split", "revision", "rows", "size", "via", "fetched", "path"}}
	var total int64
	for _, e := range entries {
		size := any(formatBytes(e.Bytes))
		if format == "json" || format == "csv" {
			size = e.Bytes
		}
		t.Rows = append(t.Rows, []any{e.Dataset, e.Config, e.Split, e.Revision, int64(e.Rows), size, e.Via,
			e.FetchedAt.Local().Format(time.DateTime), e.Dir})
		total += e.Bytes
	}
	if err := report.WriteTable(w, format, t); err != nil {
		return err
	}
	if format == "table" {
		_, err = fmt.Fprintf(w, "%d cached, %s in %s\n", len(entries), formatBytes(total), root)
	}
	return err
}

// datasetsFetchAction is `tracker datasets fetch`: one split into the cache.
func datasetsFetchAction(ctx context.Context, cmd *cli.Command) error {
	if _, ok := dataset.ParseHFName(cmd.String("dataset")); !ok {
		return usagef("--dataset %q: want squad, squad_v2 or hf:owner/name", cmd.String("dataset"))
	}
	via := cmd.String("hf-via")
	if via == "auto" {
		via = ""
	}
	src, err := dataset.LoadHF(ctx, dataset.Spec{Name: cmd.String("dataset"), Split: cmd.String("split"),
		HFConfig: cmd.String("hf-config"), Revision: cmd.String("revision"), HFVia: via,
		CacheDir: cmd.String("cache-dir"), Progress: cmd.Root().ErrWriter})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.Root().Writer, "%s: %d rows cached (sha256 %s)\n", src.Name, len(src.Rows), src.Hash)
	return err
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
