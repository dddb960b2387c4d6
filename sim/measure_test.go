package sim

import (
	"context"
	"testing"
	"time"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/runner"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// measure runs p through the real runner (real HTTP on loopback, a fresh SQLite file), as
// every user of the simulator sees it, and returns the database and the run's outcome.
// What the tests here leave the same is filled in where p leaves it empty: the label (the
// test's name), dataset "test", seed 1 and a 30 s request timeout. edit, if any, adjusts
// the runner (a log to read, say) before the run.
func measure(t testing.TB, p runner.Plan, edit ...func(*runner.Runner)) (*store.DB, runner.Outcome, error) {
	t.Helper()
	if p.Label == "" {
		p.Label = t.Name()
	}
	if p.Dataset == "" {
		p.Dataset = "test"
	}
	if p.Seed == 0 {
		p.Seed = 1
	}
	if p.Request.Timeout == 0 {
		p.Request.Timeout = 30 * time.Second
	}
	db := storetest.Open(t)
	r := &runner.Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test", Score: dataset.Score}
	for _, e := range edit {
		e(r)
	}
	out, err := r.Run(context.Background(), p)
	return db, out, err
}

// simEndpoint is a sim served at url as the plan's one endpoint, "ep".
func simEndpoint(url string) []runner.Endpoint {
	return []runner.Endpoint{{Name: "ep", BaseURL: url + "/v1", Model: "sim-test"}}
}
