package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/trackerbench/tracker/report"
	"github.com/trackerbench/tracker/store"
)

func runsCommand() *cli.Command {
	return command("runs", "list recorded runs, newest first (uuid: the run's identity in every database it is merged into; the table shows its first 8 characters)", "",
		[]cli.Flag{&cli.IntFlag{Name: "limit", Usage: "show at most this many runs (0 = all)", Value: 50}, formatFlag()},
		func(ctx context.Context, cmd *cli.Command) error {
			db, err := openForReading(ctx, cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			runs, err := db.Runs(ctx, cmd.Int("limit"))
			if err != nil {
				return err
			}
			format := cmd.String("format")
			t := &store.Table{Columns: []string{"run", "uuid", "started", "status", "label", "endpoints", "requests", "ok", "dataset"}}
			for _, r := range runs {
				t.Rows = append(t.Rows, []any{r.ID, runUUID(r.UUID, format), r.StartedAt.Local().Format(time.DateTime), r.Status, r.Label,
					strings.Join(r.Endpoints, ","), strconv.Itoa(r.Requests), strconv.Itoa(r.OK), r.Dataset})
			}
			if len(runs) == 0 && format == "table" {
				_, err := fmt.Fprintln(cmd.Root().Writer, "No runs recorded yet.")
				return err
			}
			return report.WriteTable(cmd.Root().Writer, format, t)
		})
}

// shortUUID is how many characters of a run's UUID the table shows: enough to name it in
// `report --runs` (which takes any unique prefix); csv and json carry the whole UUID.
const shortUUID = 8

func runUUID(u, format string) string {
	if (format == "table" || format == "markdown") && len(u) > shortUUID {
		return u[:shortUUID]
	}
	return u
}
