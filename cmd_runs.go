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
	return command("runs", "list recorded runs, newest first", "",
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
			t := &store.Table{Columns: []string{"run", "started", "status", "label", "endpoints", "requests", "ok", "dataset"}}
			for _, r := range runs {
				t.Rows = append(t.Rows, []any{r.ID, r.StartedAt.Local().Format(time.DateTime), r.Status, r.Label,
					strings.Join(r.Endpoints, ","), strconv.Itoa(r.Requests), strconv.Itoa(r.OK), r.Dataset})
			}
			if len(runs) == 0 && cmd.String("format") == "table" {
				_, err := fmt.Fprintln(cmd.Root().Writer, "No runs recorded yet.")
				return err
			}
			return report.WriteTable(cmd.Root().Writer, cmd.String("format"), t)
		})
}
