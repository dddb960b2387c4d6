package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/trackerbench/tracker/tokens"
)

// paragraphSep joins the paragraphs of a long context.
const paragraphSep = "\n\n"

// LongContext builds a needle-in-a-haystack prompt for every sampled row at every target
// length, question-major (row 1 at each target in the order given, then row 2, ...). For
// a row with a context and a target T:
//   - the haystack is the source's other paragraphs (distinct contexts of other titles),
//     in an order seeded by the seed and the row's id, so a longer target extends a
//     shorter one's haystack;
//   - whole paragraphs are packed while the rendered prompt stays within T tokens, then
//     the next paragraph's first tokens fill the rest, so the prompt counts T tokens or
//     a few fewer (the count is recorded as InputTokens);
//   - the row's own paragraph (the needle, holding the gold answer) goes between the
//     haystack paragraphs at a depth seeded by the seed and the row's id, the same at
//     every target.
//
// A row whose plain prompt already reaches T is sent with its own context only. The
// prompt's ID is the row's id with "@" and the target ("56be4db0acb8001400a502ec@8k").
func LongContext(ctx context.Context, rows, pool []Row, targets []int, t *Template, tok *tokens.Counter, seed int64) ([]Prompt, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("building long-context prompts: %w", ErrEmpty)
	}
	hay := newHaystack(pool, tok)
	out := make([]Prompt, 0, len(rows)*len(targets))
	for _, r := range rows {
		if r.Context == "" {
			return nil, fmt.Errorf("row %s has no context to pack around (--context-tokens needs a dataset with contexts)", r.ID)
		}
		for _, target := range targets {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			msgs, n, err := hay.pack(r, target, t, seed)
			if err != nil {
				return nil, err
			}
			out = append(out, Prompt{Idx: len(out), ID: r.ID + "@" + TokenLabel(target), SourceRow: r.Index,
				Messages: msgs, Gold: r.Answers, Hash: HashMessages(msgs), InputTokens: n})
		}
	}
	return out, nil
}

type paragraph struct {
	title, text string
	ids         []uint // tokens, encoded on first use
	joined      int    // tokens of the text with the separator after it (".\n\n" can be one token)
}

type haystack struct {
	paras  []*paragraph
	tok    *tokens.Counter
	sepLen int
}

func newHaystack(pool []Row, tok *tokens.Counter) *haystack {
	h := &haystack{tok: tok, sepLen: tok.Count(paragraphSep)}
	seen := map[string]bool{}
	for _, r := range pool {
		if r.Context == "" || seen[r.Context] {
			continue
		}
		seen[r.Context] = true
		h.paras = append(h.paras, &paragraph{title: r.Title, text: r.Context})
	}
	return h
}

func (p *paragraph) tokens(tok *tokens.Counter) []uint {
	if p.ids == nil {
		p.ids = tok.Encode(p.text)
	}
	return p.ids
}

// cost is what the paragraph adds to a context it is joined into.
func (p *paragraph) cost(tok *tokens.Counter) int {
	if p.joined == 0 {
		p.joined = tok.Count(p.text + paragraphSep)
	}
	return p.joined
}

// rowRand is a generator seeded by the run's seed and a row id.
func rowRand(seed int64, id string) *rand.Rand {
	sum := sha256.Sum256([]byte(id))
	return rand.New(rand.NewPCG(uint64(seed), binary.LittleEndian.Uint64(sum[:8])))
}

func (h *haystack) count(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += h.tok.Count(m.Content)
	}
	return n
}

// pack builds one row's prompt at one target.
func (h *haystack) pack(r Row, target int, t *Template, seed int64) ([]Message, int, error) {
	base, err := t.Render(r)
	if err != nil {
		return nil, 0, err
	}
	baseN := h.count(base)
	if baseN >= target {
		return base, baseN, nil
	}
	rng := rowRand(seed, r.ID)
	depth := rng.Float64()
	var order []*paragraph
	for _, i := range rng.Perm(len(h.paras)) {
		if p := h.paras[i]; p.text != r.Context && (p.title != r.Title || r.Title == "") {
			order = append(order, p)
		}
	}
	// the additive estimate: whole paragraphs while they fit, then a prefix of the next
	budget := target - baseN
	m, used := 0, 0
	for m < len(order) {
		need := order[m].cost(h.tok)
		if used+need > budget {
			break
		}
		used += need
		m++
	}
	fill := max(0, budget-used-h.sepLen)
	render := func(m, fill int) ([]Message, int, error) {
		parts := make([]string, 0, m+2)
		for _, p := range order[:m] {
			parts = append(parts, p.text)
		}
		if m < len(order) && fill > 0 {
			ids := order[m].tokens(h.tok)
			parts = append(parts, prefixText(h.tok, ids[:min(fill, len(ids))]))
		}
		at := int(depth * float64(len(parts)+1))
		at = min(at, len(parts))
		parts = append(parts[:at], append([]string{r.Context}, parts[at:]...)...)
		rr := r
		rr.Context = strings.Join(parts, paragraphSep)
		msgs, err := t.Render(rr)
		if err != nil {
			return nil, 0, err
		}
		return msgs, h.count(msgs), nil
	}
	// correct the estimate with real counts: move the fill point by the difference
	var (
		best  []Message
		bestN int
	)
	adjust := func(m, fill, delta int) (int, int) {
		fill += delta
		for fill < 0 && m > 0 { // give back a whole paragraph
			m--
			fill += order[m].cost(h.tok)
		}
		for m < len(order) && fill > len(order[m].tokens(h.tok)) { // take the whole next paragraph
			fill -= order[m].cost(h.tok)
			m++
		}
		if m >= len(order) {
			fill = 0
		}
		return m, max(fill, 0)
	}
	for range 12 {
		msgs, n, err := render(m, fill)
		if err != nil {
			return nil, 0, err
		}
		if n <= target && n > bestN {
			best, bestN = msgs, n
		}
		if n == target {
			break
		}
		nm, nf := adjust(m, fill, target-n)
		if nm == m && nf == fill {
			break
		}
		m, fill = nm, nf
	}
	if best == nil {
		return base, baseN, nil
	}
	return best, bestN, nil
}

// prefixText decodes a token prefix, dropping a character cut in half at its end.
func prefixText(tok *tokens.Counter, ids []uint) string {
	s := tok.Decode(ids)
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-size]
	}
	return strings.ToValidUTF8(s, "")
}
