package sim

import (
	"strings"
	"unicode"
)

// Prompt markers of dataset.DefaultTemplate ("...Context: <ctx>\n\nQuestion: <q>\nAnswer:").
const (
	markContext  = "Context:"
	markQuestion = "Question:"
	markAnswer   = "Answer:"
)

// splitPrompt finds the context and the question in a rendered prompt. A prompt without the
// markers is all question.
func splitPrompt(prompt string) (context, question string) {
	q := strings.LastIndex(prompt, markQuestion)
	if q < 0 {
		return "", strings.TrimSpace(prompt)
	}
	question = prompt[q+len(markQuestion):]
	if a := strings.LastIndex(question, markAnswer); a >= 0 {
		question = question[:a]
	}
	if c := strings.LastIndex(prompt[:q], markContext); c >= 0 {
		context = prompt[c+len(markContext) : q]
	}
	return strings.TrimSpace(context), strings.TrimSpace(question)
}

// extractiveAnswer is what the simulator answers: the span of the prompt's context that
// best fits the question. It picks the context sentence sharing the most content words with
// the question, then inside it the run of words that are not the question's, nearest to the
// shared ones (a number for when/how many questions, a name for who questions). Without a
// context it answers with the first sentence of the prompt.
func extractiveAnswer(prompt string) string {
	ctx, q := splitPrompt(prompt)
	if ctx == "" {
		return firstWords(firstSentence(q), 24)
	}
	sents := sentences(ctx)
	qset := contentWords(q)
	// A shared word weighs 1/(sentences holding it): rare words locate the answer.
	words := make([]map[string]bool, len(sents))
	df := map[string]int{}
	for i, s := range sents {
		words[i] = contentWords(s)
		for w := range words[i] {
			df[w]++
		}
	}
	best, bestScore := "", 0.0
	for i, s := range sents {
		score := 0.0
		for w := range words[i] {
			if qset[w] {
				score += 1 / float64(df[w])
			}
		}
		if score > bestScore+1e-9 {
			best, bestScore = s, score
		}
	}
	if bestScore == 0 {
		return firstWords(sents[0], 12)
	}
	if span := bestSpan(best, q, qset); span != "" {
		return span
	}
	return firstWords(best, 24)
}

type word struct {
	text       string // as written
	lower      string
	start, end int // byte offsets in the sentence
}

func words(s string) []word {
	var out []word
	start := -1
	for i, r := range s {
		in := unicode.IsLetter(r) || unicode.IsDigit(r) || (start >= 0 && (r == '\'' || r == '-' || r == '’'))
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			out = append(out, mkWord(s, start, i))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, mkWord(s, start, len(s)))
	}
	return out
}

func mkWord(s string, start, end int) word {
	t := strings.TrimRight(s[start:end], "'-’")
	return word{text: t, lower: strings.ToLower(t), start: start, end: start + len(t)}
}

func contentWords(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words(s) {
		if !stopwords[w.lower] {
			m[w.lower] = true
		}
	}
	return m
}

// bestSpan picks, in a sentence, the run of non-question words (at most 8, not starting or
// ending with a stopword) closest to the words it shares with the question.
func bestSpan(sent, question string, qset map[string]bool) string {
	ws := words(sent)
	var matched []int
	for i, w := range ws {
		if qset[w.lower] {
			matched = append(matched, i)
		}
	}
	ql := strings.ToLower(question)
	wantNumber := hasAnyPrefix(ql, "when", "how many", "how much", "how long", "how old", "how tall", "how far",
		"how big", "how large", "how high", "how fast", "what year", "in what year", "which year", "what percentage")
	wantName := hasAnyPrefix(ql, "who", "whom", "whose", "where", "in which country", "in what country", "in which city", "in what city")
	bestScore, bi, bj := -1<<30, -1, -1
	for i := 0; i < len(ws); {
		if qset[ws[i].lower] {
			i++
			continue
		}
		j := i
		for j < len(ws) && !qset[ws[j].lower] {
			j++
		}
		// ws[i:j] is a run without question words; trim stopwords at its ends, cap its length.
		a, b := i, j
		for a < b && stopwords[ws[a].lower] {
			a++
		}
		for b > a && stopwords[ws[b-1].lower] {
			b--
		}
		if b-a > 8 {
			if len(matched) > 0 && matched[0] >= b { // the run precedes the match: keep its end
				a = b - 8
			} else {
				b = a + 8
			}
		}
		if a < b {
			dist := 1 << 20
			for _, m := range matched {
				dist = min(dist, max(a-m, m-(b-1)))
			}
			score := -dist * 2
			if wantNumber && anyWord(ws[a:b], hasDigit) {
				score += 6
			}
			if wantName && anyWord(ws[a:b], isCapitalised) {
				score += 4
			}
			if score > bestScore {
				bestScore, bi, bj = score, a, b
			}
		}
		i = j
	}
	if bi < 0 {
		return ""
	}
	// For a number or a name, the phrase (between stopwords) that holds it is the answer.
	if wantNumber || wantName {
		want := isCapitalised
		if wantNumber {
			want = hasDigit
		}
		for i := bi; i < bj; {
			j := i
			for j < bj && !stopwords[ws[j].lower] {
				j++
			}
			if j > i && anyWord(ws[i:j], want) {
				bi, bj = i, j
				break
			}
			i = j + 1
		}
	}
	return sent[ws[bi].start:ws[bj-1].end]
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func anyWord(ws []word, f func(string) bool) bool {
	for _, w := range ws {
		if f(w.text) {
			return true
		}
	}
	return false
}

func hasDigit(s string) bool { return strings.IndexFunc(s, unicode.IsDigit) >= 0 }

func isCapitalised(s string) bool {
	for _, r := range s {
		return unicode.IsUpper(r)
	}
	return false
}

// sentences splits text after ., ! or ? followed by a space and a capital, digit or quote.
func sentences(text string) []string {
	var out []string
	rs := []rune(text)
	start := 0
	for i := 0; i+2 < len(rs); i++ {
		if (rs[i] == '.' || rs[i] == '!' || rs[i] == '?') && unicode.IsSpace(rs[i+1]) &&
			(unicode.IsUpper(rs[i+2]) || unicode.IsDigit(rs[i+2]) || rs[i+2] == '"' || rs[i+2] == '“') {
			if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	if len(out) == 0 {
		out = []string{strings.TrimSpace(text)}
	}
	return out
}

func firstSentence(s string) string { return sentences(s)[0] }

func firstWords(s string, n int) string {
	ws := words(s)
	if len(ws) <= n {
		return strings.TrimSpace(s)
	}
	return s[ws[0].start:ws[n-1].end]
}

// padding is the deterministic text generated past the answer when the output must be
// longer: the context's sentences from the answer's onwards, then the prompt's, cyclically.
func padding(prompt string) string {
	ctx, q := splitPrompt(prompt)
	src := ctx
	if src == "" {
		src = q
	}
	if strings.TrimSpace(src) == "" {
		src = "The simulated model keeps writing because it was asked for more tokens."
	}
	return strings.Join(strings.Fields(src), " ")
}

// reasoningText is the deterministic reasoning a reasoning profile sends before its answer.
func reasoningText(prompt, answer string) string {
	ctx, q := splitPrompt(prompt)
	var b strings.Builder
	b.WriteString("The user asks: ")
	b.WriteString(q)
	b.WriteString(" ")
	if ctx != "" {
		b.WriteString("The context says: ")
		b.WriteString(firstWords(ctx, 40))
		b.WriteString(" ")
	}
	b.WriteString("So the answer should be ")
	b.WriteString(answer)
	b.WriteString(". Let me double-check the context before answering. ")
	return b.String()
}

var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the of in on at to for from by with about as into onto upon over under
		and or but nor so yet if then than that this these those there here which who whom whose what when where why how
		is are was were be been being am do does did done has have had having can could will would shall should may might must
		it its it's he him his she her they them their we us our you your i me my not no
		also such some any each other more most many much very s`) {
		m[w] = true
	}
	return m
}()
