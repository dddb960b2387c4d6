package runner

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/textsafe"
)

// secretBook is every secret a run's clients know: each endpoint's keys (the variable's,
// the key command's output, and the earlier ones after a re-run) and header values. A
// server may echo any of them (a 401 body quoting the key, an in-band error): every record
// is cleaned with the whole book before it is stored, printed or reported.
type secretBook struct {
	sources []*keySource
	headers []map[string]string
	cache   atomic.Pointer[bookRedactor] // the redactor of the keys last seen
}

// bookRedactor is a secretBook's redactor and the keys it was made with (the header values
// never change).
type bookRedactor struct {
	keys []string
	r    *textsafe.Redactor
}

func newSecretBook(k *keySource, headers map[string]string) *secretBook {
	return &secretBook{sources: []*keySource{k}, headers: []map[string]string{headers}}
}

// shareSecrets gives every client of a run one book holding all their secrets.
func shareSecrets(clients []*Client) {
	all := &secretBook{}
	for _, c := range clients {
		all.sources = append(all.sources, c.secrets.sources...)
		all.headers = append(all.headers, c.secrets.headers...)
	}
	for _, c := range clients {
		c.secrets = all
	}
}

// redactor is the book's redactor: the one made last while the keys are the same (a
// redactor is never changed once made; making one for every record cost each request
// its escaped spellings, a map and a sort), a new one when a key was added or replaced.
func (b *secretBook) redactor() *textsafe.Redactor {
	var buf [8]string
	keys := buf[:0]
	for _, k := range b.sources {
		keys = k.appendKnown(keys)
	}
	if c := b.cache.Load(); c != nil && slices.Equal(c.keys, keys) {
		return c.r
	}
	c := &bookRedactor{keys: slices.Clone(keys)}
	s := slices.Clone(keys)
	for _, h := range b.headers {
		for _, v := range h {
			s = append(s, v)
		}
	}
	c.r = textsafe.NewRedactor(s...)
	b.cache.Store(c)
	return c.r
}

// clean makes a record safe to store and print: the run's secrets redacted from every text
// a server wrote, control characters in the error message made visible, and any
// non-finite or negative duration dropped (a server's timing of 1e308 s is not a number
// the views may divide by).
func (c *Client) clean(rec bench.Measurement) bench.Measurement {
	r := c.secrets.redactor()
	rec.ErrorMessage = textsafe.Terminal(r.Redact(rec.ErrorMessage))
	if len(rec.ErrorMessage) > maxErrorMessage {
		rec.ErrorMessage = rec.ErrorMessage[:utf8Cut(rec.ErrorMessage, maxErrorMessage)] + "…"
	}
	rec.ResponseText = r.Redact(rec.ResponseText)
	rec.ReasoningText = r.Redact(rec.ReasoningText)
	rec.UsageJSON = r.Redact(rec.UsageJSON)
	rec.ServerJSON = r.Redact(rec.ServerJSON)
	for _, p := range []**float64{&rec.TTFTMS, &rec.TTFCMS, &rec.E2EMS, &rec.TPOTMS, &rec.ServerTTFTMS, &rec.ServerE2EMS} {
		if *p != nil && !finiteNonNegative(**p) {
			*p = nil
		}
	}
	return rec
}

func finiteNonNegative(v float64) bool { return v >= 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// maxErrorMessage bounds a stored error message (the server's words are a prefix).
const maxErrorMessage = 1000
