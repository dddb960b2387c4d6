package dataset

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Answer quality follows the official SQuAD v1.1 evaluation script (evaluate-v1.1.py)
// exactly; only ExtractAnswer, which turns a chat response into the answer span it
// contains, is tracker's own. docs/datasets.md states both.

// pythonPunctuation is Python's string.punctuation: the ASCII punctuation the official
// script drops. Unicode punctuation (“ ” – …) is kept, as it is there.
const pythonPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// NormalizeAnswer is the official normalize_answer: lower-case, drop every ASCII
// punctuation character, replace the words a/an/the with a space, collapse whitespace.
func NormalizeAnswer(s string) string {
	s = pythonLower(s)
	s = strings.Map(func(r rune) rune {
		if r < 128 && strings.ContainsRune(pythonPunctuation, r) {
			return -1
		}
		return r
	}, s)
	s = removeArticles(s)
	return strings.Join(pythonSplit(s), " ")
}

// pythonLower is Python's str.lower(): unicode.ToLower rune by rune plus the two
// context-free and conditional mappings Python applies from SpecialCasing.txt: İ (U+0130)
// becomes "i̇", and a capital sigma ending a word becomes the final sigma ς.
func pythonLower(s string) string {
	if !strings.ContainsAny(s, "\u0130\u03a3") {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch r {
		case '\u0130':
			b.WriteString("i\u0307")
		case '\u03a3':
			b.WriteRune(lowerSigma(rs, i))
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// lowerSigma is CPython's handle_capital_sigma: final (ς) when a cased letter precedes
// and none follows, skipping case-ignorable characters both ways.
func lowerSigma(rs []rune, i int) rune {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	final := j >= 0 && isCased(rs[j])
	if final {
		j = i + 1
		for j < len(rs) && isCaseIgnorable(rs[j]) {
			j++
		}
		final = j == len(rs) || !isCased(rs[j])
	}
	if final {
		return '\u03c2'
	}
	return '\u03c3'
}

func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '\u00b7', '\u0387', '\u05f4', '\u2018', '\u2019', '\u2024', '\u2027', '\ufe13', '\ufe52', '\ufe55', '\uff07', '\uff0e', '\uff1a', '^', '`', '\u00ad':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// isWordRune is Python's \w for str patterns: letters, numbers and the underscore.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// removeArticles is re.sub(r'\b(a|an|the)\b', ' ', s) with Python's Unicode word
// boundaries: a maximal run of word characters equal to a, an or the becomes one space.
// (Go's regexp \b is ASCII-only, so it would split "éthe" where Python does not.)
func removeArticles(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for i < len(s) {
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r) {
				break
			}
			j += size
		}
		if j > i { // a word run s[i:j]
			switch s[i:j] {
			case "a", "an", "the":
				b.WriteByte(' ')
			default:
				b.WriteString(s[i:j])
			}
			i = j
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// pythonSplit is str.split() with no argument: runs of whitespace separate fields. Python
// also counts the ASCII separators \x1c-\x1f as whitespace; unicode.IsSpace does not.
func pythonSplit(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}

// ExactMatch is the official exact_match_score: 1 when the normalised strings are equal.
func ExactMatch(prediction, gold string) float64 {
	if NormalizeAnswer(prediction) == NormalizeAnswer(gold) {
		return 1
	}
	return 0
}

// F1 is the official f1_score: the overlap of the normalised strings' whitespace tokens,
// counted as multisets, 2PR/(P+R); 0 when nothing overlaps (so also when either is empty).
func F1(prediction, gold string) float64 {
	pred := strings.Fields(NormalizeAnswer(prediction))
	ref := strings.Fields(NormalizeAnswer(gold))
	counts := make(map[string]int, len(ref))
	for _, t := range ref {
		counts[t]++
	}
	same := 0
	for _, t := range pred {
		if counts[t] > 0 {
			counts[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	precision := float64(same) / float64(len(pred))
	recall := float64(same) / float64(len(ref))
	return 2 * precision * recall / (precision + recall)
}

// ScoreAnswer scores an already extracted answer with the official rules: the maximum
// exact match and the maximum F1 over the gold answers (metric_max_over_ground_truths).
// No gold answers score 0, 0.
func ScoreAnswer(answer string, gold []string) (em, f1 float64) {
	for _, g := range gold {
		em = max(em, ExactMatch(answer, g))
		f1 = max(f1, F1(answer, g))
	}
	return em, f1
}

// Score scores one response: the answer is extracted from the response text
// (ExtractAnswer) and scored with the official SQuAD v1.1 rules against every gold
// answer, keeping the best. em is 0 or 1, f1 is in [0, 1]. An empty response scores 0, 0.
func Score(response string, gold []string) (em, f1 float64) {
	return ScoreAnswer(ExtractAnswer(response), gold)
}

var (
	thinkBlock   = regexp.MustCompile(`(?is)<(think|thinking|reasoning)>.*?</(think|thinking|reasoning)>`)
	thinkOpen    = regexp.MustCompile(`(?is)^.*</(think|thinking|reasoning)>`)
	answerMarker = regexp.MustCompile(`(?i)(?:^|\n)[ \t*_#>-]*(?:the\s+)?(?:final\s+)?answer[*_]*\s*(?:is)?\s*[:：][*_]*\s*`)
)

// ExtractAnswer takes the answer a chat response gives, in this order:
//  1. reasoning is dropped: <think>…</think> blocks (and <thinking>, <reasoning>), and
//     everything before a closing tag whose opening tag was not in the text;
//  2. when a line starts with an "Answer:" marker ("Answer:", "Final answer:", "The answer
//     is:", in any case, after list or markdown markers), the text after the last such
//     marker is kept;
//  3. the first non-empty line of what is left is the answer;
//  4. markdown emphasis (*, _, `) and matching quotes around the whole answer are removed.
//
// Nothing else is changed: trailing periods, articles and case are the official
// normalisation's business, so a gold answer given as the response extracts to itself.
func ExtractAnswer(response string) string {
	s := response
	if strings.Contains(s, "</") { // the regexps only when a closing tag may be there
		s = thinkBlock.ReplaceAllString(s, "\n")
		s = thinkOpen.ReplaceAllString(s, "")
	}
	if strings.Contains(strings.ToLower(s), "answer") {
		if locs := answerMarker.FindAllStringIndex(s, -1); len(locs) > 0 {
			s = s[locs[len(locs)-1][1]:]
		}
	}
	line := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			line = strings.TrimSpace(l)
			break
		}
	}
	return stripWrapping(line)
}

// stripWrapping removes emphasis and quote pairs that wrap the whole answer.
func stripWrapping(s string) string {
	for {
		t := strings.TrimSpace(s)
		changed := false
		for _, p := range [][2]string{{"**", "**"}, {"__", "__"}, {"`", "`"}, {"*", "*"}, {"\"", "\""}, {"“", "”"}, {"'", "'"}, {"‘", "’"}} {
			if len(t) >= len(p[0])+len(p[1])+1 && strings.HasPrefix(t, p[0]) && strings.HasSuffix(t, p[1]) {
				t = t[len(p[0]) : len(t)-len(p[1])]
				changed = true
				break
			}
		}
		if !changed {
			return t
		}
		s = t
	}
}
