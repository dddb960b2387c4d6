package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// runNamespace is the namespace of the name-based (version 5) UUIDs given to runs recorded
// before runs.uuid existed (fillRunUUIDs).
var runNamespace = uuid.MustParse("362fe5b5-1f79-4dea-9bf3-422d1525e5ed")

// legacyRunUUID is the UUID of a run recorded before runs.uuid existed: derived from what
// identifies the run in its file, so every migrated copy of one file gives it the same UUID.
func legacyRunUUID(id int64, host, startedAt, promptSetHash string) string {
	return uuid.NewSHA1(runNamespace, fmt.Appendf(nil, "%d\x00%s\x00%s\x00%s", id, host, startedAt, promptSetHash)).String()
}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// fillRunUUIDs gives every run without a UUID its legacy one (migration 10 adds the column
// NULL). It runs inside the migration's transaction, after the blocks; a schema without the
// column (tests' own schemas) is left alone.
func fillRunUUIDs(ctx context.Context, tx execQuerier, d dialect) error {
	var has int
	if err := tx.QueryRowContext(ctx, d.hasColumn("runs", "uuid")).Scan(&has); err != nil {
		return fmt.Errorf("giving runs their UUIDs: %w", err)
	}
	if has == 0 {
		return nil
	}
	type legacy struct {
		id                       int64
		host, started, promptSet string
	}
	// The rows are all read and closed before the updates (one connection in a transaction).
	todo, err := queryAll(ctx, tx, "giving runs their UUIDs", func(rows *sql.Rows) (legacy, error) {
		var l legacy
		err := rows.Scan(&l.id, &l.host, &l.started, &l.promptSet)
		return l, err
	}, `SELECT id, host, started_at, prompt_set_hash FROM runs WHERE uuid IS NULL ORDER BY id`)
	if err != nil {
		return err
	}
	for _, l := range todo {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET uuid = ? WHERE id = ?`, legacyRunUUID(l.id, l.host, l.started, l.promptSet), l.id); err != nil {
			return fmt.Errorf("giving run %d its UUID: %w", l.id, err)
		}
	}
	return nil
}

// ErrAmbiguousRun is returned when a UUID prefix matches more than one run (or a number is
// both a run id and the start of another run's UUID).
var ErrAmbiguousRun = errors.New("names more than one run")

// minRunPrefix is the shortest UUID prefix accepted, so that a typo is not a match.
const minRunPrefix = 4

// ResolveRun finds the run a user named: a run id (digits), a full UUID, or a unique prefix
// of one (at least 4 hex digits, as `tracker runs` shows 8). A number that is a run id and
// also the start of another run's UUID is ambiguous.
func (db *DB) ResolveRun(ctx context.Context, ref string) (int64, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if ref == "" || strings.Trim(ref, "0123456789abcdef-") != "" {
		return 0, fmt.Errorf("run %q: %w: want a run id or a UUID (or its first %d+ characters)", ref, ErrNotFound, minRunPrefix)
	}
	var ids []int64
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		err := db.sql.QueryRowContext(ctx, `SELECT id FROM runs WHERE id = ?`, id).Scan(&id)
		if err == nil {
			ids = append(ids, id)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("finding run %s: %w", ref, err)
		}
	}
	if len(ref) >= minRunPrefix {
		more, err := db.runsByUUIDPrefix(ctx, ref)
		if err != nil {
			return 0, err
		}
		for _, id := range more {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	switch {
	case len(ids) == 0 && len(ref) < minRunPrefix && strings.Trim(ref, "0123456789") != "":
		return 0, fmt.Errorf("run %s: %w (a UUID prefix needs at least %d characters)", ref, ErrNotFound, minRunPrefix)
	case len(ids) == 0:
		return 0, fmt.Errorf("run %s: %w", ref, ErrNotFound)
	case len(ids) == 1:
		return ids[0], nil
	}
	return 0, fmt.Errorf("run %s %w (%d matches): give more of its UUID", ref, ErrAmbiguousRun, len(ids))
}

// runsByUUIDPrefix lists up to two runs whose UUID starts with prefix.
func (db *DB) runsByUUIDPrefix(ctx context.Context, prefix string) ([]int64, error) {
	return queryAll(ctx, db.sql, fmt.Sprintf("finding run %s", prefix), func(rows *sql.Rows) (int64, error) {
		var id int64
		err := rows.Scan(&id)
		return id, err
	}, `SELECT id FROM runs WHERE substr(uuid, 1, ?) = ? ORDER BY id LIMIT 2`, len(prefix), prefix)
}
