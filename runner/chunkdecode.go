package runner

import (
	"encoding/json"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeChunk decodes one SSE event's JSON into ch (which must be zero) exactly as
// json.Unmarshal(raw, ch) does, result and error alike. A hand-written pass reads the
// shapes real servers send (decodeChunkFast); anything it is not sure of (an escape it does
// not know, invalid UTF-8, a key that differs from a field's name only by case, a key seen
// twice, a field of an unexpected type, invalid JSON) goes to encoding/json. It runs once per
// chunk: encoding/json's reflection was ~15 µs of each request's ~125 µs of CPU against a
// zero-delay server (README, "Scale"). TestDecodeChunkSameAsJSON and FuzzDecodeChunk compare
// the two.
func decodeChunk(raw []byte, ch *chunk) error {
	if decodeChunkFast(raw, ch) {
		return nil
	}
	*ch = chunk{}
	return json.Unmarshal(raw, ch)
}

// maxFastDepth is the deepest nesting decodeChunkFast reads (encoding/json's limit is
// 10,000); deeper documents go to encoding/json.
const maxFastDepth = 64

// chunkScan reads one JSON document; every method returns false where the fast path gives up.
type chunkScan struct {
	b     []byte
	i     int
	depth int

	// What a stream's previous chunk left that this one may use again (nextChunk): the
	// backing array of its choices, and its id (a server sends one id for a whole stream).
	spare  []chunkChoice
	prevID string
}

// nextChunk decodes the next chunk of a stream into ch, which holds the stream's previous
// chunk (or nothing), exactly as decodeChunk decodes it into a zero chunk: what differs is
// only that the previous chunk's choices array is written over (nothing keeps a chunk
// past the next one) and an id equal to the previous one is not made again.
func nextChunk(raw []byte, ch *chunk) error {
	spare, prevID := ch.Choices[:0], ch.ID
	*ch = chunk{}
	s := chunkScan{b: raw, spare: spare, prevID: prevID}
	if s.document(ch) {
		return nil
	}
	*ch = chunk{}
	return json.Unmarshal(raw, ch)
}

// decodeChunkFast decodes raw into ch and reports true, or reports false (ch then holds
// anything) when raw is not a document it reads exactly as encoding/json would.
func decodeChunkFast(raw []byte, ch *chunk) bool {
	s := chunkScan{b: raw}
	return s.document(ch)
}

// document reads the whole of s.b as one chunk.
func (s *chunkScan) document(ch *chunk) bool {
	s.ws()
	if !s.chunk(ch) {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// Fields of chunk, chunkChoice and its delta, as bits: a key seen twice goes to encoding/json.
const (
	fID = 1 << iota
	fObject
	fChoices
	fUsage
	fTimings
	fMessage
	fType
	fCode
	fError
)

func (s *chunkScan) chunk(ch *chunk) bool {
	seen := 0
	return s.object(func(key []byte) bool {
		var bit int
		ok := true
		switch string(key) {
		case "id":
			bit, ok = fID, s.idField(&ch.ID)
		case "object":
			bit, ok = fObject, s.stringField(&ch.Object)
		case "message":
			bit, ok = fMessage, s.stringField(&ch.Message)
		case "type":
			bit, ok = fType, s.stringField(&ch.Type)
		case "choices":
			bit, ok = fChoices, s.choices(&ch.Choices)
		case "usage":
			bit, ok = fUsage, s.raw(&ch.Usage)
		case "timings":
			bit, ok = fTimings, s.raw(&ch.Timings)
		case "error":
			bit, ok = fError, s.raw(&ch.Error)
		case "code": // only null here: any other value is an error's, which is rare
			bit, ok = fCode, s.literal("null")
		default:
			return plainKey(key) && s.skip()
		}
		return firstSight(&seen, bit) && ok
	})
}

const (
	fDelta = 1 << iota
	fText
	fFinish
	fRole
	fContent
	fReasoning
	fReasoningContent
	fChannel
	fToolCalls
)

func (s *chunkScan) choices(out *[]chunkChoice) bool {
	if s.peek() == 'n' {
		*out = nil
		return s.literal("null")
	}
	if s.peek() != '[' || !s.enter() {
		return false
	}
	s.i++
	if cap(s.spare) > 0 {
		*out, s.spare = s.spare[:0], nil // each element is written whole by the append below
	} else {
		*out = make([]chunkChoice, 0, 1)
	}
	s.ws()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		*out = append(*out, chunkChoice{})
		if !s.choice(&(*out)[len(*out)-1]) {
			return false
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// choice reads one element of choices: an object, or null (which leaves it zero).
func (s *chunkScan) choice(c *chunkChoice) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	seen := 0
	return s.object(func(key []byte) bool {
		var bit int
		ok := true
		switch string(key) {
		case "delta":
			bit = fDelta
			if s.peek() == 'n' {
				ok = s.literal("null")
			} else {
				ok = s.delta(c, &seen)
			}
		case "text":
			bit, ok = fText, s.stringPtr(&c.Text)
		case "finish_reason":
			bit, ok = fFinish, s.stringPtr(&c.FinishReason)
		case "message": // non-streaming answers: not read here
			return false
		default:
			return plainKey(key) && s.skip()
		}
		return firstSight(&seen, bit) && ok
	})
}

// delta reads a choice's delta; its fields' bits share seen with the choice's.
func (s *chunkScan) delta(c *chunkChoice, seen *int) bool {
	d := &c.Delta
	return s.object(func(key []byte) bool {
		var bit int
		ok := true
		switch string(key) {
		case "role":
			bit, ok = fRole, s.stringField(&d.Role)
		case "channel":
			bit, ok = fChannel, s.stringField(&d.Channel)
		case "content":
			bit, ok = fContent, s.stringPtr(&d.Content)
		case "reasoning":
			bit, ok = fReasoning, s.stringPtr(&d.Reasoning)
		case "reasoning_content":
			bit, ok = fReasoningContent, s.stringPtr(&d.ReasoningContent)
		case "tool_calls":
			bit, ok = fToolCalls, s.raw(&d.ToolCalls)
		default:
			return plainKey(key) && s.skip()
		}
		bit <<= 16 // a delta's bits above the choice's
		return firstSight(seen, bit) && ok
	})
}

// firstSight marks a field's bit in seen, false if it was already there: a duplicate key,
// which encoding/json resolves in ways the fast path does not copy, so it falls back.
func firstSight(seen *int, bit int) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// plainKey reports whether a key that is no field's name is surely no field's at all:
// encoding/json also matches names case-insensitively (Unicode folding: "K" is "k"), so a
// key with an upper-case letter or a non-ASCII byte is left to it.
func plainKey(key []byte) bool {
	for _, c := range key {
		if c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func (s *chunkScan) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// ws skips JSON whitespace.
func (s *chunkScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *chunkScan) enter() bool {
	s.depth++
	return s.depth <= maxFastDepth
}

// object reads an object, calling member with each key (escape-free; valid only during the
// call) with the scanner at the key's value.
func (s *chunkScan) object(member func(key []byte) bool) bool {
	if s.peek() != '{' || !s.enter() {
		return false
	}
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		key, ok := s.key()
		if !ok {
			return false
		}
		s.ws()
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.ws()
		if !member(key) {
			return false
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// key reads a member's name: a string with no escape and no control character.
func (s *chunkScan) key() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			k := s.b[s.i+1 : j]
			s.i = j + 1
			return k, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// stringField reads a string into a string field; null leaves the field as it is.
func (s *chunkScan) stringField(dst *string) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	v, ok := s.str()
	*dst = v
	return ok
}

// idField is stringField for the chunk's id: an id equal to the previous chunk's is that
// string, not a new one.
func (s *chunkScan) idField(dst *string) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	v, ok := s.strAs(s.prevID)
	*dst = v
	return ok
}

// stringPtr reads a string into a *string field; null sets it nil.
func (s *chunkScan) stringPtr(dst **string) bool {
	if s.peek() == 'n' {
		*dst = nil
		return s.literal("null")
	}
	v, ok := s.str()
	*dst = &v
	return ok
}

// raw copies a value's bytes, as json.RawMessage does (null included).
func (s *chunkScan) raw(dst *json.RawMessage) bool {
	start := s.i
	if !s.skip() {
		return false
	}
	*dst = append(json.RawMessage(nil), s.b[start:s.i]...)
	return true
}

// str reads a string value, unescaped as encoding/json unescapes it. Invalid UTF-8 (which
// encoding/json replaces byte by byte) gives up.
func (s *chunkScan) str() (string, bool) { return s.strAs("") }

// strAs is str, returning same itself when the string read equals it (no new string made).
func (s *chunkScan) strAs(same string) (string, bool) {
	if s.peek() != '"' {
		return "", false
	}
	escaped, ascii := false, true
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			body := s.b[s.i+1 : j]
			s.i = j + 1
			if !ascii && !utf8.Valid(body) {
				return "", false
			}
			if escaped {
				return unescape(body)
			}
			if string(body) == same {
				return same, true
			}
			return string(body), true
		case c == '\\':
			escaped = true
			j++ // the escaped byte is never the closing quote
		case c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// unescape is encoding/json's unquote for a string's body (between its quotes) holding
// escapes: \uXXXX as UTF-16, a valid surrogate pair as one rune, a lone surrogate as U+FFFD.
func unescape(body []byte) (string, bool) {
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(body) {
			return "", false
		}
		switch e := body[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(body[i+2:])
			if r < 0 {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2 := hex4(body[min(i+2, len(body)):]); i+1 < len(body) && body[i] == '\\' && body[i+1] == 'u' && r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
				}
				r = unicode.ReplacementChar
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(out), true
}

// hex4 is the value of four hexadecimal digits at the start of b, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// literal reads one of true, false and null.
func (s *chunkScan) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// skip reads any valid JSON value without keeping it.
func (s *chunkScan) skip() bool {
	switch c := s.peek(); {
	case c == '"':
		return s.skipString()
	case c == '{':
		return s.object(func([]byte) bool { return s.skip() })
	case c == '[':
		return s.skipArray()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	}
	return false
}

// skipString reads a valid string (any byte from 0x20 up, as encoding/json's scanner).
func (s *chunkScan) skipString() bool {
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return true
		case c == '\\':
			if j+1 >= len(s.b) {
				return false
			}
			switch s.b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if hex4(s.b[j+2:]) < 0 {
					return false
				}
				j += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		}
	}
	return false
}

func (s *chunkScan) skipArray() bool {
	if !s.enter() {
		return false
	}
	s.i++
	s.ws()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.skip() {
			return false
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// number reads a number as JSON's grammar has it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *chunkScan) number() bool {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.peek() == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more decimal digits.
func (s *chunkScan) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
