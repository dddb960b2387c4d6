// Package defaults fills in the options a caller left unset.
package defaults

// Number is a kind of option Positive fills in (time.Duration included).
type Number interface {
	~int | ~int64 | ~float64
}

// Positive sets *v to def when *v is zero or negative: an option not given, or given as a
// value that means nothing for it (a negative resample count, a negative backoff).
func Positive[T Number](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
