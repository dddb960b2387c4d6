package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trackerbench/tracker/store"
)

// asTrackerEnv makes the test binary behave as the tracker command (for the crash test).
const asTrackerEnv = "TRACKER_TEST_AS_TRACKER"

func TestMain(m *testing.M) {
	if args := os.Getenv(asTrackerEnv); args != "" {
		ctx, stop := signalContext()
		code := run(ctx, append([]string{"tracker"}, strings.Split(args, "\x1f")...), os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// trackerCommand is this test binary run as `tracker args...` (see TestMain).
func trackerCommand(bin string, args []string) *exec.Cmd {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), asTrackerEnv+"="+strings.Join(args, "\x1f"))
	return cmd
}

// startTracker starts `tracker args...` in another process, its stdout and stderr both in out.
func startTracker(t *testing.T, args []string) (cmd *exec.Cmd, out *bytes.Buffer) {
	t.Helper()
	cmd, out = trackerCommand(os.Args[0], args), &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// A tracker process killed with SIGKILL mid-run loses nothing it had committed: the file is
// intact, the run stays "running", and --resume finishes it with every request once.
func TestCrashLosesNothingCommitted(t *testing.T) {
	srv, _ := streamServer(t, 20*time.Millisecond)
	db := filepath.Join(t.TempDir(), "t.db")
	data := writeFile(t, "d.jsonl", strings.Repeat(`{"id":"1","question":"q?"}`+"\n", 80))
	args := []string{"--db", db, "run", "--endpoint", "a=" + srv.URL + "/v1,model=m", "--dataset", data, "--concurrency", "2"}
	cmd, out := startTracker(t, args)
	// Wait until some requests are committed, then kill without warning.
	deadline := time.Now().Add(20 * time.Second)
	for committed(t, db) < 6 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("nothing committed after 20 s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	before := committed(t, db)

	ro, err := store.OpenReadOnly(context.Background(), db, schemaSQL)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := ro.Query(context.Background(), "PRAGMA integrity_check")
	if err != nil || tb.Rows[0][0] != "ok" {
		t.Fatalf("integrity after SIGKILL: %v %v", tb, err)
	}
	runs, _ := ro.Runs(context.Background(), 0)
	ro.Close()
	if len(runs) != 1 || runs[0].Status != "running" || before < 6 || before >= 80 {
		t.Fatalf("after the kill: %+v, %d rows", runs, before)
	}
	r := tracker(t, "--db", db, "run", "--resume", strconv.FormatInt(runs[0].ID, 10))
	if r.code != 0 {
		t.Fatalf("resume after crash: %d %s", r.code, r.stderr)
	}
	q := tracker(t, "--db", db, "query", "--format", "csv", "SELECT COUNT(*), COUNT(DISTINCT seq) FROM v_requests")
	if strings.TrimSpace(q.stdout) != "COUNT(*),COUNT(DISTINCT seq)\n80,80" {
		t.Errorf("after resume: %q", q.stdout)
	}
}

// committed counts the measured requests another process can see.
func committed(t *testing.T, path string) int {
	if _, err := os.Stat(path); err != nil && !store.IsPostgresURL(path) {
		return 0
	}
	ro, err := store.OpenReadOnly(context.Background(), path, schemaSQL)
	if err != nil {
		return 0
	}
	defer ro.Close()
	tb, err := ro.Query(context.Background(), "SELECT COUNT(*) FROM requests WHERE warmup = 0")
	if err != nil {
		return 0
	}
	return int(tb.Rows[0][0].(int64))
}

// The first Ctrl-C ends a run cleanly; when that clean end is stuck (here on a database lock
// another process holds), a second one ends the process at once. The server answers the
// connection warm-up's GETs (sent while the database is still being opened) and holds every
// completion request: the first one shows that the run is recorded and running.
func TestSecondInterruptForcesExit(t *testing.T) {
	got := make(chan struct{}, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodGet {
			http.NotFound(w, r)
			return
		}
		got <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "t.db")
	data := writeFile(t, "d.jsonl", `{"id":"1","question":"q?"}`+"\n")
	args := []string{"--db", db, "run", "--endpoint", "a=" + srv.URL + "/v1,model=m", "--dataset", data, "--no-preflight"}
	cmd, out := startTracker(t, args)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no request after 20 s:\n%s", out.String())
	}
	lock, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-exited:
		t.Fatalf("exited on the first Ctrl-C while the database was locked (%v): the test cannot see the second", err)
	case <-time.After(500 * time.Millisecond):
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 5 s after a second Ctrl-C:\n%s", out.String())
	}
}
