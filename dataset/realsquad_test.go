package dataset

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/parquet-go/parquet-go"
	"github.com/trackerbench/tracker/internal/testenv"
)

// The real SQuAD v1.1 dev set, shared by the project's tests and never copied into the repo.
var realSquadDir = filepath.Join("..", "..", "shared", "squad")

func realSquad(t *testing.T, name string) *Source {
	t.Helper()
	path := filepath.Join(realSquadDir, name)
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, "real SQuAD data not available (%v); these checks need %s", err, path)
	}
	src, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Both real files hold the same 10,570 questions in the same order.
func TestRealSquadFilesAgree(t *testing.T) {
	j := realSquad(t, "dev-v1.1.json")
	l := realSquad(t, "squad_v1.1_validation.jsonl")
	if len(j.Rows) != 10570 || len(l.Rows) != 10570 {
		t.Fatalf("rows: json %d, jsonl %d, want 10570", len(j.Rows), len(l.Rows))
	}
	golds := 0
	for i := range j.Rows {
		a, b := j.Rows[i], l.Rows[i]
		if a.ID != b.ID || a.Question != b.Question || a.Context != b.Context || a.Title != b.Title ||
			strings.Join(a.Answers, "\x00") != strings.Join(b.Answers, "\x00") || a.Index != b.Index {
			t.Fatalf("row %d differs between the files: %+v vs %+v", i, a.ID, b.ID)
		}
		golds += len(a.Answers)
	}
	if golds != 34726 {
		t.Errorf("gold answers = %d, want 34726", golds)
	}
	if r := j.Rows[0]; r.ID != "56be4db0acb8001400a502ec" || r.Answers[0] != "Denver Broncos" {
		t.Errorf("first row %s %q", r.ID, r.Answers)
	}
	if r := j.Rows[len(j.Rows)-1]; r.ID != "5737aafd1c456719005744ff" || r.Title != "Force" {
		t.Errorf("last row %s %s", r.ID, r.Title)
	}
}

// Every gold answer, given as the response, scores 100/100 through the whole Score path
// (extraction included) over all 10,570 questions and all 34,726 gold answers, except
// what the official rules themselves say: three annotators' gold answers are "." which
// normalises to nothing, and an empty answer has F1 0 even against itself.
func TestRealSquadGoldScoresPerfect(t *testing.T) {
	src := realSquad(t, "squad_v1.1_validation.jsonl")
	var emSum, f1Sum float64
	n, emptyGolds := 0, 0
	for _, r := range src.Rows {
		for _, g := range r.Answers {
			em, f1 := Score(g, r.Answers)
			if NormalizeAnswer(g) == "" {
				emptyGolds++
				if em != 1 || f1 != 0 {
					t.Errorf("row %s: empty gold %q scores em %v f1 %v, official 1 0", r.ID, g, em, f1)
				}
			} else if em != 1 || f1 != 1 {
				t.Errorf("row %s: gold %q scores em %v f1 %v", r.ID, g, em, f1)
			}
			emSum += em
			f1Sum += f1
			n++
		}
	}
	if emptyGolds != 3 {
		t.Errorf("gold answers that normalise to nothing: %d, want 3", emptyGolds)
	}
	// The official script's figure: the first gold answer of each question as the prediction.
	var emFirst, f1First float64
	for _, r := range src.Rows {
		em, f1 := Score(r.Answers[0], r.Answers)
		emFirst += em
		f1First += f1
	}
	total := float64(len(src.Rows))
	t.Logf("gold vs gold: %d questions EM %.2f F1 %.2f; all %d gold answers EM %.2f F1 %.2f",
		len(src.Rows), 100*emFirst/total, 100*f1First/total, n, 100*emSum/float64(n), 100*f1Sum/float64(n))
	if 100*emFirst/total != 100 || 100*f1First/total != 100 {
		t.Errorf("gold vs gold = %v/%v, want 100/100", 100*emFirst/total, 100*f1First/total)
	}
}

// An independent recomputation: a second implementation of the official rules, written
// differently on purpose (regexp word chunks, sorted-token merge for the overlap), scores
// 600 realistic predictions on real questions; every per-question score must agree exactly.
func TestRealSquadIndependentRecomputation(t *testing.T) {
	src := realSquad(t, "squad_v1.1_validation.jsonl")
	rng := rand.New(rand.NewPCG(42, 7))
	rows := Sample(src.Rows, 600, 42)
	var emA, f1A, emB, f1B float64
	kinds := map[string]int{}
	for i, r := range rows {
		kind, pred := fakePrediction(rng, r, i)
		kinds[kind]++
		em, f1 := ScoreAnswer(pred, r.Answers)
		rem, rf1 := refScore(pred, r.Answers)
		if em != rem || f1 != rf1 {
			t.Errorf("row %s (%s) %q vs %q: ScoreAnswer %v/%v, reference %v/%v", r.ID, kind, pred, r.Answers, em, f1, rem, rf1)
		}
		emA, f1A, emB, f1B = emA+em, f1A+f1, emB+rem, f1B+rf1
	}
	n := float64(len(rows))
	t.Logf("600 predictions %v: EM %.4f F1 %.4f (reference EM %.4f F1 %.4f)", kinds, 100*emA/n, 100*f1A/n, 100*emB/n, 100*f1B/n)
	if emA == 0 || emA == n || f1A == emA {
		t.Errorf("the sample does not exercise the metrics: EM sum %v F1 sum %v of %v", emA, f1A, n)
	}
}

// fakePrediction makes a prediction of one of several kinds from a real row.
func fakePrediction(rng *rand.Rand, r Row, i int) (string, string) {
	gold := r.Answers[rng.IntN(len(r.Answers))]
	words := strings.Fields(r.Context)
	switch i % 6 {
	case 0:
		return "gold", gold
	case 1: // the gold span widened by context words
		at := strings.Index(r.Context, gold)
		if at < 0 {
			return "gold", gold
		}
		before := strings.Fields(r.Context[:at])
		after := strings.Fields(r.Context[at+len(gold):])
		pre := before[max(0, len(before)-rng.IntN(3)):]
		post := after[:min(len(after), rng.IntN(4))]
		return "widened", strings.Join(append(append(pre, gold), post...), " ")
	case 2: // a random span of the context
		a := rng.IntN(len(words))
		b := min(len(words), a+1+rng.IntN(6))
		return "span", strings.Join(words[a:b], " ")
	case 3: // the gold answer dressed up
		return "dressed", "The " + strings.ToUpper(gold) + "!"
	case 4: // part of the gold answer
		gw := strings.Fields(gold)
		return "part", strings.Join(gw[:1+rng.IntN(len(gw))], " ")
	default: // another question's answer in the same context
		return "other", words[rng.IntN(len(words))]
	}
}

// refScore is a deliberately different implementation of evaluate-v1.1.py.
func refScore(pred string, golds []string) (float64, float64) {
	var em, f1 float64
	for _, g := range golds {
		p, q := refNormalize(pred), refNormalize(g)
		if p == q {
			em = 1
		}
		f1 = max(f1, refF1(strings.Fields(p), strings.Fields(q)))
	}
	return em, f1
}

var refChunks = regexp.MustCompile(`[\p{L}\p{N}_]+|[^\p{L}\p{N}_]+`)

func refNormalize(s string) string {
	var lowered strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == 'Σ' && i > 0 && unicode.IsLetter(rs[i-1]) && (i+1 == len(rs) || !unicode.IsLetter(rs[i+1])):
			lowered.WriteRune('ς')
		case r == 'İ':
			lowered.WriteString("i\u0307")
		default:
			lowered.WriteRune(unicode.ToLower(r))
		}
	}
	s = lowered.String()
	var kept []rune
	for _, r := range s {
		if !(r < 128 && unicode.IsPrint(r) && !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ') {
			kept = append(kept, r)
		}
	}
	chunks := refChunks.FindAllString(string(kept), -1)
	for i, c := range chunks {
		if c == "a" || c == "an" || c == "the" {
			chunks[i] = " "
		}
	}
	return strings.Join(strings.Fields(strings.Join(chunks, "")), " ")
}

func refF1(p, q []string) float64 {
	a := append([]string(nil), p...)
	b := append([]string(nil), q...)
	sort.Strings(a)
	sort.Strings(b)
	same := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			same++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	if same == 0 {
		return 0
	}
	prec, rec := float64(same)/float64(len(a)), float64(same)/float64(len(b))
	return 2 * prec * rec / (prec + rec)
}

// The real set written as parquet in the HuggingFace schema reads back row for row.
func TestRealSquadParquetRoundTrip(t *testing.T) {
	src := realSquad(t, "squad_v1.1_validation.jsonl")
	recs := make([]hfParquetRow, len(src.Rows))
	for i, r := range src.Rows {
		recs[i] = hfParquetRow{ID: r.ID, Title: r.Title, Context: r.Context, Question: r.Question}
		recs[i].Answers.Text = r.Answers
		a := r.Fields["answers"].(map[string]any)
		for _, s := range a["answer_start"].([]any) {
			recs[i].Answers.AnswerStart = append(recs[i].Answers.AnswerStart, int32(s.(float64)))
		}
	}
	path := filepath.Join(t.TempDir(), "validation.parquet")
	if err := parquet.WriteFile(path, recs); err != nil {
		t.Fatal(err)
	}
	pq, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pq.Rows) != len(src.Rows) {
		t.Fatalf("%d rows, want %d", len(pq.Rows), len(src.Rows))
	}
	tmpl, _ := NewTemplate("", "")
	for i := range src.Rows {
		a, b := src.Rows[i], pq.Rows[i]
		if a.ID != b.ID || a.Question != b.Question || a.Context != b.Context || strings.Join(a.Answers, "\x00") != strings.Join(b.Answers, "\x00") {
			t.Fatalf("row %d differs", i)
		}
		ma, _ := tmpl.Render(a)
		mb, _ := tmpl.Render(b)
		if HashMessages(ma) != HashMessages(mb) {
			t.Fatalf("row %d renders differently", i)
		}
	}
}
