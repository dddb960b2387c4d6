package runner

import (
	"strings"
	"testing"

	"github.com/trackerbench/tracker/textsafe"
)

// The book's redactor is made once while the keys stay the same (no allocation for a
// record), and made again when a key is replaced: the old key, the new one and the header
// values are all redacted.
func TestSecretBookRedactor(t *testing.T) {
	const first, second, header = "sk-first-secret-123", "sk-second-secret-456", "hdr-secret-7890"
	k := newKeySource(Endpoint{Name: "a"}, first)
	b := newSecretBook(k, map[string]string{"X-Api-Key": header})
	redacts := func(r *textsafe.Redactor, secrets ...string) {
		t.Helper()
		for _, s := range secrets {
			if got := r.Redact("echo " + s + " end"); strings.Contains(got, s) {
				t.Errorf("%q not redacted: %q", s, got)
			}
		}
	}
	r := b.redactor()
	redacts(r, first, header)
	if again := b.redactor(); again != r {
		t.Error("a new redactor for the same keys")
	}
	if a := testing.AllocsPerRun(100, func() { b.redactor() }); a > 0 {
		t.Errorf("redactor allocates %.1f times with unchanged keys, want 0", a)
	}
	k.mu.Lock() // what a re-run of the key command does (refresh)
	k.old, k.key = append(k.old, k.key), second
	k.gen++
	k.mu.Unlock()
	r2 := b.redactor()
	if r2 == r {
		t.Fatal("the same redactor after the key changed")
	}
	redacts(r2, first, second, header)
}
