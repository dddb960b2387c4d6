package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/trackerbench/tracker/report"
	"github.com/trackerbench/tracker/store"
)

func queryCommand() *cli.Command {
	return command("query",
		"run one read-only SQL statement (SELECT, WITH, VALUES, EXPLAIN or a reading PRAGMA) against the database",
		`tracker query [--format table|csv|json|markdown] "SELECT ... FROM v_summary ..."
(csv, json and markdown stream every row; the table format shows the first 10000)
SQLite databases have median(y), percentile(y, 0..100), percentile_cont(y, 0..1) and
percentile_disc(y, 0..1), as in the sqlite3 shell 3.47+ (docs/schema.md, "Percentiles in SQL"):
  SELECT endpoint, concurrency, median(ttft_ms) FROM v_requests WHERE status = 'ok' GROUP BY 1, 2`,
		[]cli.Flag{formatFlag()},
		func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() != 1 {
				return usagef("query: want exactly one SQL statement as an argument, got %d", cmd.NArg())
			}
			format := cmd.String("format")
			if !slices.Contains(report.Formats, format) {
				return usagef("query: --format %q: want one of %s", format, strings.Join(report.Formats, ", "))
			}
			db, err := openForReading(ctx, cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			return streamQuery(ctx, db, cmd.Args().First(), cmd.Root().Writer, format)
		})
}

// formatFlag is --format of the commands that write a table (query, runs, datasets).
func formatFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "format", Usage: "table, csv, json or markdown", Value: "table"}
}

// streamQuery runs one read-only statement and writes its rows as they come.
func streamQuery(ctx context.Context, db *store.DB, query string, w io.Writer, format string) error {
	rows, err := db.ReadStatement(ctx, query)
	if errors.Is(err, store.ErrNotReadStatement) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	out, err := report.NewRowWriter(w, format, rows.Columns())
	if err != nil {
		return err
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		if err := out.WriteRow(vals); err != nil {
			return fmt.Errorf("query: writing a row: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return out.Close()
}

// openForReading opens --db read-only for a command that only reads; a file at an older
// schema version is read through a migrated temporary copy, and the user is told so.
func openForReading(ctx context.Context, cmd *cli.Command) (*store.DB, error) {
	return openForReadingWith(ctx, cmd, store.OpenOptions{})
}

// openForReadingWith is openForReading with store options (store.OpenReadOnlyWith).
func openForReadingWith(ctx context.Context, cmd *cli.Command, o store.OpenOptions) (*store.DB, error) {
	path, err := dbPath(cmd)
	if err != nil {
		return nil, err
	}
	db, err := store.OpenReadOnlyWith(ctx, path, schemaSQL, o)
	if err != nil {
		return nil, err
	}
	if v := db.OlderVersion(); v > 0 {
		fmt.Fprintf(cmd.Root().ErrWriter, "tracker: note: %s is at schema version %d (older than this tracker's): read through a migrated temporary copy, the file is unchanged; the next `tracker run --db %s` upgrades it\n",
			db.Path(), v, db.Path())
	}
	return db, nil
}

// dbPath is --db (or TRACKER_DB), which must name a file or a PostgreSQL URL.
func dbPath(cmd *cli.Command) (string, error) {
	p := cmd.String("db")
	if strings.TrimSpace(p) == "" {
		return "", usageError{fmt.Errorf("--db %q: %w", p, store.ErrEmptyPath)}
	}
	return p, nil
}
