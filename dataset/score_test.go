package dataset

import (
	"encoding/json"
	"os"
	"testing"
)

// testdata/score_golden.json is written by testdata/score_golden.py, which runs the
// official evaluate-v1.1.py functions; Go must agree on every case, bit for bit.
func TestScoreAnswerGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/score_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name       string   `json:"name"`
		Answer     string   `json:"answer"`
		Gold       []string `json:"gold"`
		Normalized string   `json:"normalized"`
		EM         float64  `json:"em"`
		F1         float64  `json:"f1"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("golden file has %d cases, want the full set", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := NormalizeAnswer(c.Answer); got != c.Normalized {
				t.Errorf("NormalizeAnswer(%q) = %q, official %q", c.Answer, got, c.Normalized)
			}
			em, f1 := ScoreAnswer(c.Answer, c.Gold)
			if em != c.EM || f1 != c.F1 {
				t.Errorf("ScoreAnswer(%q, %q) = %v, %v; official %v, %v", c.Answer, c.Gold, em, f1, c.EM, c.F1)
			}
		})
	}
}

func TestExtractAnswer(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "Denver Broncos", "Denver Broncos"},
		{"trailing newline", "Denver Broncos\n", "Denver Broncos"},
		{"answer prefix", "Answer: Denver Broncos", "Denver Broncos"},
		{"answer prefix lower", "answer:Denver Broncos", "Denver Broncos"},
		{"final answer", "Let me look.\nThe context says so.\nFinal answer: Denver Broncos", "Denver Broncos"},
		{"the answer is", "The answer is: Denver Broncos.", "Denver Broncos."},
		{"bold marker", "**Answer:** Denver Broncos", "Denver Broncos"},
		{"bold marker outside colon", "**Answer**: Denver Broncos", "Denver Broncos"},
		{"last marker wins", "Answer: maybe X\nAnswer: Denver Broncos", "Denver Broncos"},
		{"first line", "Denver Broncos\n\nThey beat the Carolina Panthers 24–10.", "Denver Broncos"},
		{"leading blank lines", "\n\n  Denver Broncos  \nmore", "Denver Broncos"},
		{"think block", "<think>The AFC team... Carolina? no.</think>\nDenver Broncos", "Denver Broncos"},
		{"unopened think", "AFC champion is Denver.</think>Denver Broncos", "Denver Broncos"},
		{"quotes", "\"Denver Broncos\"", "Denver Broncos"},
		{"curly quotes", "“Denver Broncos”", "Denver Broncos"},
		{"bold", "**Denver Broncos**", "Denver Broncos"},
		{"code", "`Denver Broncos`", "Denver Broncos"},
		{"apostrophe kept", "Levi's Stadium", "Levi's Stadium"},
		{"one quote kept", "'s-Hertogenbosch", "'s-Hertogenbosch"},
		{"empty", "", ""},
		{"only whitespace", " \n\t", ""},
		{"only reasoning", "<think>hmm</think>", ""},
		{"word answer in sentence", "The team that answered first", "The team that answered first"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ExtractAnswer(c.in); got != c.want {
				t.Errorf("ExtractAnswer(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	gold := []string{"Denver Broncos", "The Broncos"}
	cases := []struct {
		name     string
		response string
		gold     []string
		em, f1   float64
	}{
		{"exact", "Denver Broncos", gold, 1, 1},
		{"prefixed sentence", "Answer: The Denver Broncos.", gold, 1, 1},
		{"reasoning ignored", "<think>Broncos? Panthers?</think>Carolina Panthers", gold, 0, 0},
		{"partial", "Broncos", gold, 1, 1}, // "The Broncos" normalises to "broncos"
		{"longer line", "The Denver Broncos won it", gold, 0, 2 * (2.0 / 4) * 1 / (2.0/4 + 1)},
		{"empty response", "", gold, 0, 0},
		{"no gold", "Denver Broncos", nil, 0, 0},
		{"curly quoted", "“Denver Broncos”", gold, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			em, f1 := Score(c.response, c.gold)
			if em != c.em || f1 != c.f1 {
				t.Errorf("Score(%q) = %v, %v; want %v, %v", c.response, em, f1, c.em, c.f1)
			}
			if em != 0 && em != 1 || f1 < 0 || f1 > 1 {
				t.Errorf("out of range: em %v f1 %v", em, f1)
			}
		})
	}
}
