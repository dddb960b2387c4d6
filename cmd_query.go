package main

import (
	"context"
	"slices"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/trackerbench/tracker/report"
	"github.com/trackerbench/tracker/store"
)

func queryCommand() *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "run one SQL statement against the database, read-only",
		UsageText: `tracker query [--format table|csv|json|markdown] "SELECT ... FROM v_summary ..."`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "table, csv, json or markdown", Value: "table"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() != 1 {
				return usagef("query: want exactly one SQL statement as an argument, got %d", cmd.NArg())
			}
			format := cmd.String("format")
			if !slices.Contains(report.Formats, format) {
				return usagef("query: --format %q: want one of %s", format, strings.Join(report.Formats, ", "))
			}
			db, err := store.OpenReadOnly(ctx, cmd.String("db"), schemaSQL)
			if err != nil {
				return err
			}
			defer db.Close()
			t, err := db.Query(ctx, cmd.Args().First())
			if err != nil {
				return err
			}
			return report.WriteTable(cmd.Root().Writer, format, t)
		},
	}
}
