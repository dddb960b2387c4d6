package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrEmpty is returned when a source or a sample holds no rows.
	ErrEmpty = errors.New("no rows")
	// ErrFormat is returned when a source's content is not a format this package reads.
	ErrFormat = errors.New("unrecognised dataset format")
)

// Row is one record of a source: the SQuAD fields when it has them, and every field as read.
type Row struct {
	ID       string // the row's id ("id" field, else its index)
	Index    int    // position in the source, from 0
	Title    string
	Context  string
	Question string
	Answers  []string       // gold answers; empty when the source has none
	Prompt   string         // a ready prompt, for sources with a plain prompt column
	Fields   map[string]any // every field of the row, for templates
}

// Source is a loaded dataset.
type Source struct {
	Name string // what the user named (a path, "squad", ...)
	Hash string // sha256 of the source's bytes (hex)
	Rows []Row
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Prompt is one request's input, as every endpoint receives it.
type Prompt struct {
	Idx         int       // position in the run's prompt order, from 0
	ID          string    // the source row's id
	SourceRow   int       // the source row's index
	Messages    []Message // what is sent
	Gold        []string  // gold answers, for scoring; may be empty
	Hash        string    // sha256 of the messages' JSON (hex)
	InputTokens int       // the messages' text counted with the tokenizer
	MaxTokens   int       // a fixed output length (--output-tokens): sent as max_tokens with ignore_eos; 0 = the run's
}

// HashMessages is the prompt text hash stored with every prompt.
func HashMessages(msgs []Message) string {
	b, _ := json.Marshal(msgs)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SetHash hashes an ordered prompt set: equal hashes mean the same prompts in the same order.
func SetHash(prompts []Prompt) string {
	h := sha256.New()
	for _, p := range prompts {
		h.Write([]byte(p.Hash))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
