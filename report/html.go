package report

import (
	"io"
)

// WriteHTML writes index.html.
func (r *Result) WriteHTML(w io.Writer, fo FileOptions) error {
	return nil
}
