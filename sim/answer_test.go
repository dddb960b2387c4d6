package sim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/internal/testenv"
)

func TestSplitPrompt(t *testing.T) {
	ctx, q := splitPrompt(squadPrompt)
	if q != "When was the tower completed?" || ctx[:16] != "The Eiffel Tower" {
		t.Errorf("context %q question %q", ctx, q)
	}
	ctx, q = splitPrompt("What is two plus two?")
	if ctx != "" || q != "What is two plus two?" {
		t.Errorf("no markers: context %q question %q", ctx, q)
	}
}

func TestExtractiveAnswer(t *testing.T) {
	const ctx = "The Eiffel Tower is a wrought-iron lattice tower in Paris. It was designed by the engineering company of Gustave Eiffel. The tower was completed in 1889 for the World's Fair. It is 330 metres tall."
	render := func(q string) string {
		return "Answer the question.\n\nContext: " + ctx + "\n\nQuestion: " + q + "\nAnswer:"
	}
	for _, tc := range []struct{ q, want string }{
		{"When was the tower completed?", "1889"},
		{"Who designed the tower?", "Gustave Eiffel"},
		{"How tall is the tower?", "330 metres"},
		{"Where is the Eiffel Tower?", "Paris"},
	} {
		if got := extractiveAnswer(render(tc.q)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.q, got, tc.want)
		}
	}
	if got := extractiveAnswer("Tell me a story about a dragon. Make it short."); got != "Tell me a story about a dragon." {
		t.Errorf("no context: got %q", got)
	}
}

// TestExtractiveAnswerOnRealSquad: the simulator's answers score like a weak but real
// reader on SQuAD v1.1 (so answer-quality scoring has something to score).
func TestExtractiveAnswerOnRealSquad(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "squad", "squad_v1.1_validation.jsonl")
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, "real SQuAD not present at %s", path)
	}
	src, err := dataset.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := dataset.NewTemplate("", "")
	rows := src.Rows[:min(len(src.Rows), 1000)]
	var em, f1 float64
	for _, r := range rows {
		msgs, err := tmpl.Render(r)
		if err != nil {
			t.Fatal(err)
		}
		e, f := dataset.Score(extractiveAnswer(msgs[len(msgs)-1].Content), r.Answers)
		em, f1 = em+e, f1+f
	}
	em, f1 = 100*em/float64(len(rows)), 100*f1/float64(len(rows))
	t.Logf("extractive answers on %d SQuAD rows: EM %.1f F1 %.1f", len(rows), em, f1)
	if f1 < 20 || em < 5 {
		t.Errorf("EM %.1f F1 %.1f: the extractive answer should score EM >= 5 and F1 >= 20", em, f1)
	}
}
