package dataset

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/tokens"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

func countMsgs(tok *tokens.Counter, msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += tok.Count(m.Content)
	}
	return n
}

func TestSyntheticExactLengths(t *testing.T) {
	tok := tokenstest.Counter(t)
	for _, target := range []int{20, 64, 128, 512, 1000, 4096, 16384} {
		t.Run(fmt.Sprint(target), func(t *testing.T) {
			ps, err := Prepare(context.Background(), Spec{Name: "synthetic", Limit: 5, Seed: 3, InputTokens: target, OutputTokens: 128}, tok)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps.Prompts) != 5 {
				t.Fatalf("%d prompts", len(ps.Prompts))
			}
			seen := map[string]bool{}
			for i, p := range ps.Prompts {
				if got := countMsgs(tok, p.Messages); got != target || p.InputTokens != target {
					t.Errorf("prompt %d: counted %d, recorded %d, want %d", i, got, p.InputTokens, target)
				}
				if p.MaxTokens != 128 || p.Gold != nil || p.Idx != i || p.ID != fmt.Sprintf("syn-%d", i) {
					t.Errorf("prompt %d: %+v", i, p)
				}
				if p.Hash != HashMessages(p.Messages) || seen[p.Hash] {
					t.Errorf("prompt %d: hash %s repeated or wrong", i, p.Hash)
				}
				seen[p.Hash] = true
			}
		})
	}
}

func TestSyntheticSpreadSystemAndDeterminism(t *testing.T) {
	tok := tokenstest.Counter(t)
	spec := Spec{Name: "synthetic", Limit: 40, Seed: 9, InputTokens: 300, OutputTokens: 100, Spread: 0.25, System: "You are a terse assistant."}
	a, err := Prepare(context.Background(), spec, tok)
	if err != nil {
		t.Fatal(err)
	}
	lens := map[int]bool{}
	for i, p := range a.Prompts {
		got := countMsgs(tok, p.Messages)
		if got != p.InputTokens || got < 225 || got > 375 || p.MaxTokens < 75 || p.MaxTokens > 125 {
			t.Errorf("prompt %d: counted %d recorded %d max %d", i, got, p.InputTokens, p.MaxTokens)
		}
		if p.Messages[0].Role != "system" {
			t.Errorf("prompt %d has no system message", i)
		}
		lens[got] = true
	}
	if len(lens) < 10 {
		t.Errorf("spread gave only %d distinct lengths", len(lens))
	}
	b, _ := Prepare(context.Background(), spec, tok)
	if SetHash(a.Prompts) != SetHash(b.Prompts) || a.Source != b.Source {
		t.Error("the same spec gave different prompts")
	}
	spec.Seed = 10
	c, _ := Prepare(context.Background(), spec, tok)
	if SetHash(a.Prompts) == SetHash(c.Prompts) {
		t.Error("another seed gave the same prompts")
	}
	if _, err := Prepare(context.Background(), Spec{Name: "synthetic"}, tok); err == nil {
		t.Error("synthetic without --input-tokens accepted")
	}
	if _, err := Prepare(context.Background(), Spec{Name: "synthetic", InputTokens: 5}, tok); err == nil {
		t.Error("5 input tokens accepted")
	}
}

// a pool of paragraphs from several titles, each row's answer in its own paragraph
func longPool(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		ctx := fmt.Sprintf("Paragraph %d tells of the river Alpha%d, which floods every spring in the valley of Beta%d. ", i, i, i) +
			strings.Repeat(fmt.Sprintf("Farmers near Alpha%d plant barley and rye, trade at markets, and keep records of each harvest. ", i), 3)
		rows[i] = Row{ID: fmt.Sprintf("r%03d", i), Index: i, Title: fmt.Sprintf("T%d", i/3), Context: ctx,
			Question: fmt.Sprintf("Which valley does Alpha%d flood?", i), Answers: []string{fmt.Sprintf("Beta%d", i)}}
	}
	return rows
}

func TestLongContextPacking(t *testing.T) {
	tok := tokenstest.Counter(t)
	pool := longPool(400)
	tmpl, _ := NewTemplate("", "")
	rows := Sample(pool, 6, 1)
	targets := []int{500, 2000, 8000}
	ps, err := LongContext(context.Background(), rows, pool, targets, tmpl, tok, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != len(rows)*len(targets) {
		t.Fatalf("%d prompts, want %d", len(ps), len(rows)*len(targets))
	}
	for i, p := range ps {
		r, target := rows[i/len(targets)], targets[i%len(targets)]
		if p.ID != r.ID+"@"+TokenLabel(target) || p.SourceRow != r.Index || p.Idx != i || p.Gold[0] != r.Answers[0] {
			t.Errorf("prompt %d: id %s row %d gold %v", i, p.ID, p.SourceRow, p.Gold)
		}
		got := countMsgs(tok, p.Messages)
		if got != p.InputTokens || got > target || got < target-8 {
			t.Errorf("prompt %s: %d tokens (recorded %d), want within 8 below %d", p.ID, got, p.InputTokens, target)
		}
		text := p.Messages[len(p.Messages)-1].Content
		if !strings.Contains(text, r.Context) || !strings.Contains(text, r.Question) {
			t.Errorf("prompt %s lacks its paragraph or question", p.ID)
		}
		if !strings.Contains(text, "valley of "+r.Answers[0]+".") {
			t.Errorf("prompt %s lacks the gold answer", p.ID)
		}
		for _, other := range pool { // no paragraph of the same title besides the needle
			if other.Title == r.Title && other.ID != r.ID && strings.Contains(text, other.Context[:40]) {
				t.Errorf("prompt %s packs %s of the same title", p.ID, other.ID)
			}
		}
	}
	again, _ := LongContext(context.Background(), rows, pool, targets, tmpl, tok, 1)
	if SetHash(again) != SetHash(ps) {
		t.Error("long-context prompts are not deterministic")
	}
	// a target below the plain prompt: the plain prompt
	small, _ := LongContext(context.Background(), rows[:1], pool, []int{10}, tmpl, tok, 1)
	plain, _ := Build(rows[:1], tmpl, tok)
	if small[0].Hash != plain[0].Hash || small[0].ID != rows[0].ID+"@10" {
		t.Errorf("10-token target: %+v", small[0])
	}
}

// Real SQuAD paragraphs at 1k, 8k and 32k tokens.
func TestLongContextRealSquad(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	src := realSquad(t, "squad_v1.1_validation.jsonl")
	tok := tokenstest.Counter(t)
	tmpl, _ := NewTemplate("", "")
	rows := Sample(src.Rows, 3, 7)
	ps, err := LongContext(context.Background(), rows, src.Rows, []int{1000, 8000, 32000}, tmpl, tok, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		var target int
		fmt.Sscanf(p.ID[strings.Index(p.ID, "@")+1:], "%dk", &target)
		target *= 1000
		got := countMsgs(tok, p.Messages)
		if got != p.InputTokens || got > target || got < target-8 {
			t.Errorf("%s: %d tokens (recorded %d)", p.ID, got, p.InputTokens)
		}
		t.Logf("%s: %d input tokens", p.ID, got)
	}
}

func TestParseTokenCounts(t *testing.T) {
	got, err := ParseTokenCounts("1k, 8K,32k,128k,1000,1500")
	if err != nil || fmt.Sprint(got) != "[1000 8000 32000 128000 1500]" {
		t.Errorf("%v %v", got, err)
	}
	if l := TokenLabel(128000); l != "128k" {
		t.Error(l)
	}
	if l := TokenLabel(1500); l != "1500" {
		t.Error(l)
	}
	for _, bad := range []string{"", "8q", "-1k", "0", "1.0001k"} {
		if _, err := ParseTokenCounts(bad); err == nil {
			t.Errorf("ParseTokenCounts(%q) accepted", bad)
		}
	}
}

func TestPrepareDispatch(t *testing.T) {
	tok := tokenstest.Counter(t)
	rows := squadLikeRows(120)
	f := newFakeHub(t, rows, "features_list.json")
	spec := f.spec(t.TempDir())
	spec.Limit, spec.Seed = 10, 5
	ps, err := Prepare(context.Background(), spec, tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.Prompts) != 10 || !strings.HasPrefix(ps.Source, "hf:rajpurkar/squad/plain_text/validation@") {
		t.Fatalf("%d prompts from %s", len(ps.Prompts), ps.Source)
	}
	for _, p := range ps.Prompts {
		if len(p.Gold) != 2 || p.InputTokens != countMsgs(tok, p.Messages) || p.InputTokens == 0 || p.MaxTokens != 0 {
			t.Errorf("prompt %+v", p)
		}
	}
	// long context through Prepare, with a fixed output length
	spec.ContextTokens, spec.OutputTokens, spec.Limit = []int{300, 600}, 32, 3
	lc, err := Prepare(context.Background(), spec, tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(lc.Prompts) != 6 || !strings.HasSuffix(lc.Prompts[1].ID, "@600") || lc.Prompts[1].MaxTokens != 32 {
		t.Errorf("long-context prompts %d, second %s", len(lc.Prompts), lc.Prompts[1].ID)
	}
	// errors
	for _, bad := range []Spec{
		{Name: "no-such-file.jsonl"},
		{Name: "nonsense"},
		{Name: "synthetic", InputTokens: 100, ContextTokens: []int{1000}},
		{Name: "squad", InputTokens: 100},
		{Name: "synthetic", InputTokens: 100, Spread: 1.5},
		{Name: "synthetic", InputTokens: 100, TemplateFile: "t.tmpl"},
		{Name: "squad", Spread: 0.2},
	} {
		if _, err := Prepare(context.Background(), bad, tok); err == nil {
			t.Errorf("Prepare(%+v) accepted", bad)
		}
	}
}
