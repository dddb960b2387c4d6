package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteJSON writes report.json: every computed number.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
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
// creating it.
func (r *Result) WriteFiles(dir string, fo FileOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating report directory: %w", err)
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"report.md", r.WriteMarkdown},
		{"report.json", r.WriteJSON},
		{"index.html", func(w io.Writer) error { return r.WriteHTML(w, fo) }},
	} {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return err
		}
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return r.writeFigures(dir, fo.PNG)
}
