package bench

// SeqSet is a set of request sequence numbers, one bit each: a resumed level of a million
// requests needs 125 kB to know which it completed, not a map of a million entries.
type SeqSet struct {
	bits []uint64
	n    int
}

// Add puts seq in the set; negative numbers are ignored.
func (s *SeqSet) Add(seq int) {
	if seq < 0 {
		return
	}
	w := seq / 64
	if w >= len(s.bits) {
		s.bits = append(s.bits, make([]uint64, w+1-len(s.bits))...)
	}
	if s.bits[w]&(1<<(seq%64)) == 0 {
		s.bits[w] |= 1 << (seq % 64)
		s.n++
	}
}

// Has reports whether seq is in the set.
func (s SeqSet) Has(seq int) bool {
	w := seq / 64
	return seq >= 0 && w < len(s.bits) && s.bits[w]&(1<<(seq%64)) != 0
}

// Len is the number of sequence numbers in the set.
func (s SeqSet) Len() int { return s.n }
