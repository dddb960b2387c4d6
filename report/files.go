package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
)

// WriteJSON writes report.json: every computed number. A number JSON cannot carry (NaN,
// ±Inf) is written as null rather than failing the whole file.
func (r *Result) WriteJSON(w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		buf.Reset()
		if err := enc.Encode(jsonSafe(reflect.ValueOf(r))); err != nil {
			return fmt.Errorf("writing report.json: %w", err)
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing report.json: %w", err)
	}
	return nil
}

// FileOptions tune WriteFiles.
type FileOptions struct {
	// EChartsJS is the text of a local echarts.min.js (ECharts 5) to inline so the page works
	// offline; empty loads EChartsCDN with its integrity hash (ResolveECharts picks one).
	EChartsJS     string
	EChartsSource EChartsSource // where EChartsJS came from, for the page's footer
	PNG           bool          // also write each SVG figure as PNG
}

// WriteFiles writes index.html, report.md, report.json and report.md's SVG figures into dir,
// creating it. Every one of the three files
// is rendered before any is written, and each is written to a temporary file in dir and
// renamed over the old one, so a report that fails leaves the previous files as they were
// (never a new report.md beside an old index.html) and a reader never sees half a file.
func (r *Result) WriteFiles(dir string, fo FileOptions) error {
	files := []struct {
		name  string
		write func(io.Writer) error
		buf   bytes.Buffer
	}{
		{name: "report.md", write: r.WriteMarkdown},
		{name: "report.json", write: r.WriteJSON},
		{name: "index.html", write: func(w io.Writer) error { return r.WriteHTML(w, fo) }},
	}
	for i := range files {
		if err := files[i].write(&files[i].buf); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating report directory: %w", err)
	}
	temps := make([]string, len(files))
	defer func() {
		for _, t := range temps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	for i := range files {
		t, err := writeTemp(dir, files[i].name, files[i].buf.Bytes())
		if err != nil {
			return err
		}
		temps[i] = t
	}
	for i := range files {
		path := filepath.Join(dir, files[i].name)
		if err := os.Rename(temps[i], path); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		temps[i] = ""
	}
	return r.writeFigures(dir, fo.PNG)
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
