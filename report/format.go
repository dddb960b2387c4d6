package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/trackerbench/tracker/store"
)

// Formats WriteTable knows.
var Formats = []string{"table", "csv", "json", "markdown"}

// CellText renders one driver value for people: NULL as "", floats with up to 3 decimals.
func CellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	default:
		return fmt.Sprint(x)
	}
}

// WriteTable prints a query result as a terminal table, CSV, JSON (an array of objects) or
// a markdown table.
func WriteTable(w io.Writer, format string, t *store.Table) error {
	switch format {
	case "", "table", "markdown":
		opts := []tablewriter.Option{tablewriter.WithHeaderAutoFormat(tw.Off)}
		if format == "markdown" {
			opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
		}
		tbl := tablewriter.NewTable(w, opts...)
		tbl.Header(toAny(t.Columns)...)
		for _, row := range t.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = strings.ReplaceAll(CellText(v), "\n", " ")
			}
			if err := tbl.Append(cells); err != nil {
				return err
			}
		}
		return tbl.Render()
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Columns); err != nil {
			return err
		}
		for _, row := range t.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = CellText(v)
			}
			if err := cw.Write(cells); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "json":
		out := make([]map[string]any, 0, len(t.Rows))
		for _, row := range t.Rows {
			obj := make(map[string]any, len(row))
			for i, v := range row {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				obj[t.Columns[i]] = v
			}
			out = append(out, obj)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
