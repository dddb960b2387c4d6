package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/store"
)

// recordedDB makes a database with one completed run of two requests, in a directory of its own.
func recordedDB(t *testing.T) string {
	t.Helper()
	srv, _ := streamServer(t, 0)
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n"+
		`{"id":"2","context":"c","question":"r?","answers":{"text":["b"]}}`+"\n")
	db := filepath.Join(t.TempDir(), "t.db")
	if r := tracker(t, "--db", db, "run", "--endpoint", "a="+srv.URL+"/v1,model=m", "--dataset", data, "--no-preflight"); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	return db
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// The attacks of issue 12 item 1 through the command line: each is refused (exit 2), the
// history is intact and no file appears.
func TestQueryAttacksRefused(t *testing.T) {
	db := recordedDB(t)
	dir := filepath.Dir(db)
	hash := fileHash(t, db)
	for _, q := range []string{
		"PRAGMA query_only=0; ATTACH '" + db + "' AS x; DELETE FROM x.requests; DELETE FROM x.runs",
		"VACUUM INTO '" + filepath.Join(dir, "x.db") + "'",
		"ATTACH '" + filepath.Join(dir, "new.db") + "' AS n",
		"SELECT 1; SELECT 2",
		"PRAGMA journal_mode=DELETE",
		"DELETE FROM runs",
	} {
		r := tracker(t, "--db", db, "query", q)
		if r.code == exitOK {
			t.Errorf("%q: exit %d: %s", q, r.code, r.stdout)
		}
		for _, f := range []string{"x.db", "new.db"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("%q created %s", q, f)
			}
		}
	}
	if h := fileHash(t, db); h != hash {
		t.Error("the database file changed")
	}
	if r := tracker(t, "--db", db, "query", "--format", "csv", "SELECT COUNT(*) FROM requests"); strings.TrimSpace(r.stdout) != "COUNT(*)\n2" {
		t.Errorf("requests after the attacks: %q %s", r.stdout, r.stderr)
	}
}

// Rows stream out in every format; the table format shows the first MaxTableRows and says so.
func TestQueryStreamsAndCapsTable(t *testing.T) {
	db := recordedDB(t)
	const q = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10003) SELECT x, 'a|b' AS s FROM c"
	r := tracker(t, "--db", db, "query", "--format", "csv", q)
	if n := strings.Count(r.stdout, "\n"); n != 10004 {
		t.Errorf("csv: %d lines, want 10004", n)
	}
	r = tracker(t, "--db", db, "query", q)
	if !strings.Contains(r.stdout, "3 more rows not shown") {
		t.Errorf("table: no note of the rows left out: %s", r.stdout[max(0, len(r.stdout)-300):])
	}
	r = tracker(t, "--db", db, "query", "--format", "markdown", "SELECT 1 AS n, 'a|b' AS s")
	if r.stdout != "| n | s |\n| --- | --- |\n| 1 | a\\|b |\n" {
		t.Errorf("markdown: %q", r.stdout)
	}
	r = tracker(t, "--db", db, "query", "--format", "json", "SELECT 1 AS b, 'x' AS a UNION ALL SELECT 2, NULL")
	if r.stdout != "[\n  {\"b\": 1, \"a\": \"x\"},\n  {\"b\": 2, \"a\": null}\n]\n" {
		t.Errorf("json: %q", r.stdout)
	}
	r = tracker(t, "--db", db, "query", "--format", "json", "SELECT 1 WHERE 0")
	if r.stdout != "[]\n" {
		t.Errorf("json of no rows: %q", r.stdout)
	}
}

// --db "" and TRACKER_DB= are errors for every command that uses the database.
func TestEmptyDatabasePathRefused(t *testing.T) {
	srv, _ := streamServer(t, 0)
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n")
	for _, args := range [][]string{
		{"run", "--endpoint", "a=" + srv.URL + "/v1,model=m", "--dataset", data},
		{"runs"}, {"query", "SELECT 1"}, {"report", "--out", t.TempDir()},
	} {
		r := tracker(t, append([]string{"--db", ""}, args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "database path is empty") {
			t.Errorf("--db \"\" %s: exit %d: %s", args[0], r.code, r.stderr)
		}
		t.Setenv("TRACKER_DB", "")
		r = tracker(t, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "database path is empty") {
			t.Errorf("TRACKER_DB= %s: exit %d: %s", args[0], r.code, r.stderr)
		}
	}
}

// A read-only command on an SQLite file that is not a tracker database refuses it and
// leaves it as it was.
func TestReadOnlyCommandsLeaveForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"runs"}, {"query", "SELECT 1"}, {"report", "--out", t.TempDir()}} {
		r := tracker(t, append([]string{"--db", path}, args...)...)
		if r.code == exitOK || !strings.Contains(r.stderr, "not a tracker database") {
			t.Errorf("%s on an empty file: exit %d: %s", args[0], r.code, r.stderr)
		}
	}
	if st, _ := os.Stat(path); st.Size() != 0 {
		t.Errorf("the file grew to %d bytes", st.Size())
	}
}

// --resume of a completed run is refused before any endpoint is contacted.
func TestResumeCompletedContactsNoServer(t *testing.T) {
	srv, seen := streamServer(t, 0)
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n")
	db := filepath.Join(t.TempDir(), "t.db")
	if r := tracker(t, "--db", db, "run", "--endpoint", "a="+srv.URL+"/v1,model=m", "--dataset", data, "--no-preflight"); r.code != 0 {
		t.Fatalf("run: %s", r.stderr)
	}
	before := len(*seen)
	r := tracker(t, "--db", db, "run", "--resume", "1")
	if r.code != exitUsage || !strings.Contains(r.stderr, "already completed") {
		t.Errorf("resume of a completed run: exit %d: %s", r.code, r.stderr)
	}
	if len(*seen) != before {
		t.Errorf("%d requests sent by a refused resume", len(*seen)-before)
	}
}

// setRunStatus changes a recorded run's status (as a crash or Ctrl-C would leave it).
func setRunStatus(t *testing.T, path string, status string) {
	t.Helper()
	db, err := store.Open(context.Background(), path, schemaSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Query(context.Background(), "UPDATE runs SET status = ?, lease_until = NULL", status); err != nil {
		t.Fatal(err)
	}
}

// No secret of the command line reaches the database: a key command's text, URL
// credentials and key-like URL parameters; a resume that would need them asks for them.
func TestSecretsOfTheCommandLineNotStored(t *testing.T) {
	srv, _ := streamServer(t, 0)
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n")
	db := filepath.Join(t.TempDir(), "t.db")
	u := strings.Replace(srv.URL, "http://", "http://user:pw-secret-1@", 1) + "/v1?api_key=sk-url-secret-2&region=eu"
	r := tracker(t, "--db", db, "run", "--endpoint", "a="+u+",model=m,key_cmd=echo sk-cmd-secret-3", "--dataset", data, "--no-preflight")
	if r.code != 0 {
		t.Fatalf("run: %s", r.stderr)
	}
	raw, _ := os.ReadFile(db)
	wal, _ := os.ReadFile(db + "-wal")
	for _, secret := range []string{"pw-secret-1", "sk-url-secret-2", "sk-cmd-secret-3"} {
		if bytes.Contains(raw, []byte(secret)) || bytes.Contains(wal, []byte(secret)) {
			t.Errorf("%s reached the database", secret)
		}
	}
	q := tracker(t, "--db", db, "query", "--format", "csv", "SELECT base_url FROM endpoints")
	if !strings.Contains(q.stdout, "REDACTED@") || !strings.Contains(q.stdout, "api_key=REDACTED") || !strings.Contains(q.stdout, "region=eu") {
		t.Errorf("stored base_url: %s", q.stdout)
	}
	setRunStatus(t, db, "interrupted")
	r = tracker(t, "--db", db, "run", "--resume", "1", "--no-preflight")
	if r.code != exitUsage || !strings.Contains(r.stderr, "give its --endpoint again") {
		t.Errorf("resume without the secret endpoint: exit %d: %s", r.code, r.stderr)
	}
}

// --resume after endpoints.yaml was edited (URL or model) is refused unless --force.
func TestResumeAfterEndpointEditRefused(t *testing.T) {
	srv, _ := streamServer(t, 0)
	other, _ := streamServer(t, 0)
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n")
	cfg := writeFile(t, "e.yaml", "endpoints:\n  - name: a\n    base_url: "+srv.URL+"/v1\n    model: m\n")
	db := filepath.Join(t.TempDir(), "t.db")
	if r := tracker(t, "--db", db, "run", "--config", cfg, "--dataset", data, "--no-preflight"); r.code != 0 {
		t.Fatalf("run: %s", r.stderr)
	}
	setRunStatus(t, db, "interrupted")
	for _, c := range []struct{ yaml, want string }{
		{"endpoints:\n  - name: a\n    base_url: " + other.URL + "/v1\n    model: m\n", "base_url is now"},
		{"endpoints:\n  - name: a\n    base_url: " + srv.URL + "/v1\n    model: m2\n", "model is now m2"},
	} {
		os.WriteFile(cfg, []byte(c.yaml), 0o644)
		r := tracker(t, "--db", db, "run", "--resume", "1", "--no-preflight")
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "--force") {
			t.Errorf("resume after an edit: exit %d: %s", r.code, r.stderr)
		}
	}
	if r := tracker(t, "--db", db, "run", "--resume", "1", "--no-preflight", "--force"); r.code != 0 {
		t.Errorf("resume --force: exit %d: %s", r.code, r.stderr)
	}
}

// A run interrupted before any answer says its requests were canceled, not that none were
// recorded.
func TestInterruptedBeforeAnyAnswerMessage(t *testing.T) {
	started := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost { // the connection warm-up's GET /models: answer, don't count
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
		started <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n")
	db := filepath.Join(t.TempDir(), "t.db")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	var out, errb bytes.Buffer
	run(ctx, []string{"tracker", "--db", db, "run", "--endpoint", "a=" + srv.URL + "/v1,model=m", "--dataset", data, "--no-preflight"}, &out, &errb)
	if !strings.Contains(out.String(), "1 recorded as canceled") || strings.Contains(out.String(), "No requests were recorded") {
		t.Errorf("summary of a run interrupted before any answer: %q %q", out.String(), errb.String())
	}
}
