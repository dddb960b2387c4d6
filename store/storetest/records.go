package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
)

// Run records r and returns its id. What a test leaves empty is filled in: started now,
// tool version "test", config "{}", dataset "synthetic" with hashes "h" (dataset) and "p"
// (prompt set).
func Run(t testing.TB, db *store.DB, r bench.Run) int64 {
	t.Helper()
	if r.StartedAt.IsZero() {
		r.StartedAt = time.Now()
	}
	fill(&r.ToolVersion, "test")
	fill(&r.ConfigJSON, "{}")
	fill(&r.Dataset, "synthetic")
	fill(&r.DatasetHash, "h")
	fill(&r.PromptSetHash, "p")
	id, err := db.CreateRun(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Endpoint adds an endpoint called name (URL http://127.0.0.1, model "m") to the run and
// returns its id.
func Endpoint(t testing.TB, db *store.DB, runID int64, name string) int64 {
	t.Helper()
	id, err := db.AddEndpoint(context.Background(), bench.Endpoint{RunID: runID, Name: name, BaseURL: "http://127.0.0.1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Level starts the level l (started now unless l says when) and returns its id.
func Level(t testing.TB, db *store.DB, l bench.Level) int64 {
	t.Helper()
	if l.StartedAt.IsZero() {
		l.StartedAt = time.Now()
	}
	id, err := db.StartLevel(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func fill(s *string, v string) {
	if *s == "" {
		*s = v
	}
}
