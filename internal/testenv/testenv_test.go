package testenv

import "testing"

func TestInCI(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{{"true", true}, {"", false}, {"false", false}, {"1", false}} {
		t.Setenv("CI", tc.value)
		if got := InCI(); got != tc.want {
			t.Errorf("CI=%q: InCI() = %v, want %v", tc.value, got, tc.want)
		}
	}
}

// Without a server the PostgreSQL tests skip locally and fail under CI; with one, its URL.
func TestPostgres(t *testing.T) {
	for _, tc := range []struct {
		ci, url         string
		skipped, failed bool
	}{
		{ci: "", url: "", skipped: true},
		{ci: "true", url: "", failed: true},
		{ci: "true", url: "postgres://u@127.0.0.1:1/db"},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv(PostgresEnv, tc.url)
		var got string
		inner := &testing.T{}
		done := make(chan struct{})
		go func() { // Skip and Fatal end the goroutine that calls them
			defer close(done)
			got = Postgres(inner)
		}()
		<-done
		if inner.Skipped() != tc.skipped || inner.Failed() != tc.failed || (!tc.skipped && !tc.failed && got != tc.url) {
			t.Errorf("CI=%q URL=%q: skipped %v failed %v got %q", tc.ci, tc.url, inner.Skipped(), inner.Failed(), got)
		}
	}
}
