package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/textsafe"
)

// MaxTableRows is how many rows the table format shows; the others formats stream every row.
const MaxTableRows = 10000

// RowWriter writes a query result row by row, so a result of any size takes bounded memory:
// CSV, JSON and markdown stream every row; the table format (aligned columns need every
// width) keeps at most MaxTableRows and says how many it left out.
type RowWriter struct {
	format  string
	cols    []string
	bw      *bufio.Writer
	csv     *csv.Writer
	table   *store.Table
	rows    int
	dropped int
}

// NewRowWriter starts writing a result with these columns in format (one of Formats).
func NewRowWriter(w io.Writer, format string, cols []string) (*RowWriter, error) {
	rw := &RowWriter{format: format, cols: cols, bw: bufio.NewWriter(w)}
	switch format {
	case "", "table":
		rw.table = &store.Table{Columns: cols}
	case "csv":
		rw.csv = csv.NewWriter(rw.bw)
		return rw, rw.csv.Write(cols)
	case "json":
		_, err := rw.bw.WriteString("[")
		return rw, err
	case "markdown":
		return rw, rw.markdownHeader()
	default:
		return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	return rw, nil
}

// terminalRow copies row with its text made safe to print (textsafe.Terminal): a stored
// answer or error message may hold a server's escape sequences, and the table and markdown
// formats are read on a terminal. CSV and JSON keep the data exact (JSON escapes control
// characters itself).
func terminalRow(row []any) []any {
	out := make([]any, len(row))
	for i, v := range row {
		switch t := v.(type) {
		case string:
			out[i] = textsafe.Terminal(t)
		case []byte:
			out[i] = textsafe.Terminal(string(t))
		default:
			out[i] = v
		}
	}
	return out
}

// WriteRow writes one row (its values are not kept: the slice may be reused).
func (rw *RowWriter) WriteRow(row []any) error {
	rw.rows++
	switch rw.format {
	case "csv":
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = CellText(v)
		}
		return rw.csv.Write(cells)
	case "json":
		return rw.jsonRow(row)
	case "markdown":
		return rw.markdownRow(row)
	}
	if len(rw.table.Rows) >= MaxTableRows {
		rw.dropped++
		return nil
	}
	rw.table.Rows = append(rw.table.Rows, terminalRow(row))
	return nil
}

// Close finishes the output and flushes it.
func (rw *RowWriter) Close() error {
	var err error
	switch rw.format {
	case "csv":
		rw.csv.Flush()
		err = rw.csv.Error()
	case "json":
		if rw.rows > 0 {
			_, err = rw.bw.WriteString("\n")
		}
		if err == nil {
			_, err = rw.bw.WriteString("]\n")
		}
	case "markdown":
	default:
		err = WriteTable(rw.bw, "table", rw.table)
		if err == nil && rw.dropped > 0 {
			_, err = fmt.Fprintf(rw.bw, "%d more rows not shown (the table format shows the first %d; --format csv or json writes them all)\n",
				rw.dropped, MaxTableRows)
		}
	}
	if ferr := rw.bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

func (rw *RowWriter) jsonRow(row []any) error {
	sep := ",\n  {"
	if rw.rows == 1 {
		sep = "\n  {"
	}
	if _, err := rw.bw.WriteString(sep); err != nil {
		return err
	}
	for i, v := range row {
		key, _ := json.Marshal(rw.cols[i])
		val, err := json.Marshal(jsonValue(v))
		if err != nil {
			return fmt.Errorf("column %s: %w", rw.cols[i], err)
		}
		if i > 0 {
			rw.bw.WriteString(", ")
		}
		rw.bw.Write(key)
		rw.bw.WriteString(": ")
		rw.bw.Write(val)
	}
	_, err := rw.bw.WriteString("}")
	return err
}

// jsonValue is a driver value as JSON can carry it: bytes as text, non-finite floats as null.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	}
	return v
}

func (rw *RowWriter) markdownHeader() error {
	cells := make([]string, len(rw.cols))
	rule := make([]string, len(rw.cols))
	for i, c := range rw.cols {
		cells[i], rule[i] = mdCell(c), "---"
	}
	_, err := fmt.Fprintf(rw.bw, "| %s |\n| %s |\n", strings.Join(cells, " | "), strings.Join(rule, " | "))
	return err
}

func (rw *RowWriter) markdownRow(row []any) error {
	cells := make([]string, len(row))
	for i, v := range row {
		cells[i] = mdCell(textsafe.Terminal(CellText(v)))
	}
	_, err := fmt.Fprintf(rw.bw, "| %s |\n", strings.Join(cells, " | "))
	return err
}
