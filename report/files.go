package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// WriteJSON writes report.json: every computed number. A number JSON cannot carry (NaN,
// ±Inf) is written as null rather than failing the whole file. The text is what a
// json.Encoder with SetIndent("", "  ") writes (indentJSON).
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		if b, err = json.Marshal(jsonSafe(reflect.ValueOf(r))); err != nil {
			return fmt.Errorf("writing report.json: %w", err)
		}
	}
	b = append(b, '\n') // as json.Encoder ends each value
	if _, err := w.Write(indentJSON(make([]byte, 0, 2*len(b)), b, "  ")); err != nil {
		return fmt.Errorf("writing report.json: %w", err)
	}
	return nil
}

// indentJSON appends src, compact JSON as json.Marshal writes it (no space outside strings,
// but a last newline), indented as json.Indent(dst, src, "", indent) would: a newline and
// indent after each opening bracket and comma and before each closing bracket, a space
// after each colon, empty objects and arrays kept as {} and []. json.Indent runs its full
// scanner over every byte, about half the time of writing a million requests' report.json;
// compact input needs only to know whether a byte is within a string.
func indentJSON(dst, src []byte, indent string) []byte {
	newline := func(depth int) {
		dst = append(dst, '\n')
		for range depth {
			dst = append(dst, indent...)
		}
	}
	inString, escaped, needIndent, depth := false, false, false, 0
	for _, c := range src {
		if inString {
			dst = append(dst, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			newline(depth)
		}
		switch c {
		case '"':
			inString = true
			dst = append(dst, c)
		case '{', '[':
			needIndent = true // delayed, so that empty objects and arrays stay {} and []
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline(depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				depth--
				newline(depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// FileOptions tune WriteFiles.
type FileOptions struct {
	// EChartsJS is the text of a local echarts.min.js (ECharts 5) to inline so the page works
	// offline; empty loads EChartsCDN with its integrity hash (ResolveECharts picks one).
	EChartsJS     string
	EChartsSource EChartsSource // where EChartsJS came from, for the page's footer
	PNG           bool          // also write each SVG figure as PNG
}

// WriteFiles writes index.html, report.md, report.json and report.md's SVG figures (and
// PNGs with fo.PNG) into dir, creating it. Everything is rendered before anything is
// written (a figure that cannot be drawn is named in report.md instead of failing the
// report), then each file is written to a temporary file in dir and renamed over the old
// one, so a report that fails leaves the previous files as they were (never a new
// report.md beside an old index.html or old figures) and a reader never sees half a file.
//
// report.json, the largest file (megabytes at a million requests) and the one that reads no
// figure, is rendered on another goroutine beside the figures, report.md and index.html.
func (r *Result) WriteFiles(dir string, fo FileOptions) error {
	var jsonBuf bytes.Buffer
	var jsonErr error
	var wg sync.WaitGroup
	wg.Go(func() { jsonErr = r.WriteJSON(&jsonBuf) })
	files, err := r.renderFiles(fo)
	wg.Wait()
	if err != nil {
		return err
	}
	if jsonErr != nil {
		return jsonErr
	}
	files = slices.Insert(files, len(files)-1, renderedFile{"report.json", jsonBuf.Bytes()}) // before index.html, as before
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating report directory: %w", err)
	}
	return replaceFiles(dir, files)
}

// renderFiles renders the figures, then report.md and index.html (the last).
func (r *Result) renderFiles(fo FileOptions) ([]renderedFile, error) {
	files := r.renderFigures(fo.PNG) // first: report.md names the figures that failed
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"report.md", r.WriteMarkdown},
		{"index.html", func(w io.Writer) error { return r.WriteHTML(w, fo) }},
	} {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return nil, err
		}
		files = append(files, renderedFile{f.name, buf.Bytes()})
	}
	return files, nil
}

// renderedFile is one report file, rendered, waiting to be written.
type renderedFile struct {
	name string
	data []byte
}

// renderFigures draws every figure (SVG, and PNG when png is set). A figure that fails,
// or whose plotting panics, is left out and recorded in r.figureErrs for report.md.
func (r *Result) renderFigures(png bool) []renderedFile {
	formats := []string{"svg"}
	if png {
		formats = append(formats, "png")
	}
	r.figureErrs = nil
	var out []renderedFile
	for _, f := range r.Figures() {
		var drawn []renderedFile
		for _, format := range formats {
			b, err := f.Render(format)
			if err != nil {
				if r.figureErrs == nil {
					r.figureErrs = map[string]string{}
				}
				r.figureErrs[f.File] = err.Error()
				drawn = nil
				break
			}
			drawn = append(drawn, renderedFile{strings.TrimSuffix(f.File, ".svg") + "." + format, b})
		}
		out = append(out, drawn...)
	}
	return out
}

// replaceFiles writes every file to a temporary file in dir, then renames each over its
// name; on any failure the temporary files are removed and no file has been replaced.
func replaceFiles(dir string, files []renderedFile) error {
	temps := make([]string, len(files))
	defer func() {
		for _, t := range temps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	for i, f := range files {
		t, err := writeTemp(dir, f.name, f.data)
		if err != nil {
			return err
		}
		temps[i] = t
	}
	for i, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.Rename(temps[i], path); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		temps[i] = ""
	}
	return nil
}

// writeTemp writes data to a new temporary file beside name in dir and returns its path.
func writeTemp(dir, name string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
	}
	_, werr := f.Write(data)
	if err := f.Chmod(0o644); werr == nil {
		werr = err
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing %s: %w", filepath.Join(dir, name), werr)
	}
	return f.Name(), nil
}
