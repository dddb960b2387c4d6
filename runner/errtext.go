package runner

import "strings"

// errText is a piece of an error message the runner recognises an error by. This file is
// the one place the runner matches message text: everything else is told apart with
// errors.Is/As on the error's type or value (syscall errnos, io.ErrUnexpectedEOF,
// net.Error, context errors, the runner's own sentinels). A text is here only when the
// library that makes the error gives no exported type or value for it; why is said beside
// each, and errtext_test.go checks each text against the real error or its source.
type errText struct {
	text string
	why  string
}

var (
	// textHeadersTooLarge: a response whose headers pass Transport.MaxResponseHeaderBytes.
	textHeadersTooLarge = errText{"server response headers exceeded",
		"net/http makes it with fmt.Errorf(\"net/http: server response headers exceeded %d bytes; aborted\"): no type, no sentinel"}
	// textServerClosedIdle: a reused connection the server had closed before the request went out.
	textServerClosedIdle = errText{"server closed idle connection",
		"net/http's errServerClosedIdle is unexported"}
	// textTrailerEOF: a chunked body cut while its trailer was being read.
	textTrailerEOF = errText{"unexpected EOF reading trailer",
		"net/http's errTrailerEOF is unexported and does not wrap io.ErrUnexpectedEOF"}
)

// errTexts lists every text the runner matches, for the test.
var errTexts = []errText{textHeadersTooLarge, textServerClosedIdle, textTrailerEOF}

// in reports whether err's message contains the text.
func (t errText) in(err error) bool {
	return err != nil && strings.Contains(err.Error(), t.text)
}
