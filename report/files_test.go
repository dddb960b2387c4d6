package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A number JSON cannot carry is written as null; every other value is as encoding/json
// writes it (field names, order, omitempty, custom marshalers).
func TestReportJSONSurvivesNaN(t *testing.T) {
	res := fixtureReport(t)
	var clean bytes.Buffer
	if err := res.WriteJSON(&clean); err != nil {
		t.Fatal(err)
	}
	if len(res.Curves) == 0 {
		t.Fatal("the fixture has no load curves")
	}
	if got, _ := json.Marshal(jsonSafe(reflect.ValueOf(res))); !jsonEqual(t, got, clean.Bytes()) {
		t.Error("jsonSafe differs from encoding/json on a result without NaN")
	}
	res.Curves[0].WinnerAt = math.NaN()
	res.Curves[0].Xs = append(res.Curves[0].Xs, math.Inf(1))
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatalf("report.json with a NaN: %v", err)
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"winner_at": null`) || back.Requests != res.Requests || len(back.Speedups) != len(res.Speedups) {
		t.Errorf("report.json with a NaN: winner_at not null or other fields lost")
	}
	// The infinite level stays: the figures leave it out (figures_guard.go) rather than panic.
	dir := t.TempDir()
	if err := res.WriteFiles(dir, FileOptions{}); err != nil {
		t.Fatalf("report files with a NaN: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left in the report folder: %s", e.Name())
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// Files are replaced whole: an existing report folder ends with exactly the new files.
func TestWriteFilesReplacesWhole(t *testing.T) {
	res := fixtureReport(t)
	dir := t.TempDir()
	for _, f := range []string{"index.html", "report.md", "report.json"} {
		os.WriteFile(filepath.Join(dir, f), []byte("old"), 0o644)
	}
	if err := res.WriteFiles(dir, FileOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.html", "report.md", "report.json"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if string(b) == "old" {
			t.Errorf("%s not replaced", f)
		}
		if st, _ := os.Stat(filepath.Join(dir, f)); st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", f, st.Mode())
		}
	}
}
