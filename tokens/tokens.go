package tokens

import (
	"strings"

	"github.com/tiktoken-go/tokenizer"
	"github.com/tiktoken-go/tokenizer/codec"
)

// Counter counts and encodes text. It is safe for concurrent use.
type Counter struct {
	name  string
	codec tokenizer.Codec
}

// New returns the counter for a model name. Every model maps to o200k_base today: exact for
// the gpt-oss family (o200k_harmony's plain-text counts equal o200k_base's), an estimate for
// others. A provider prefix ("openai/") is ignored.
//
// The codec is built with its own constructor, not tokenizer.Get: Get references every
// encoding, so the linker kept all five vocabularies (about 5 MB of binary); the constructor
// links o200k_base's alone.
func New(model string) (*Counter, error) {
	return &Counter{name: "o200k_base", codec: codec.NewO200kBase()}, nil
}

// Name is the tokenizer's name, recorded with every count it makes.
func (c *Counter) Name() string { return c.name }

// Count is the number of tokens in s.
func (c *Counter) Count(s string) int {
	if s == "" {
		return 0
	}
	n, err := c.codec.Count(s)
	if err != nil {
		return 0
	}
	return n
}

// Encode returns the token ids of s.
func (c *Counter) Encode(s string) []uint {
	ids, _, _ := c.codec.Encode(s)
	return ids
}

// Decode turns token ids back into text.
func (c *Counter) Decode(ids []uint) string {
	s, _ := c.codec.Decode(ids)
	return s
}

// StripProvider removes a provider prefix such as "openai/" from a model name.
func StripProvider(model string) string {
	if i := strings.LastIndex(model, "/"); i >= 0 {
		return model[i+1:]
	}
	return model
}
