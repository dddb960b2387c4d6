package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"
)

var parquetMagic = []byte("PAR1")

// parseCSV reads a CSV (or TSV) file with a header row; every cell is a string, and an
// answers cell may hold JSON (["a","b"] or {"text":[...]}) or one answer.
func parseCSV(path string, b []byte, comma rune, m FieldMap) ([]Row, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma = comma
	cr.FieldsPerRecord = 0 // every record as long as the header
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("dataset %s: CSV header: %w", path, err)
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("dataset %s: CSV: %w", path, err) // csv errors name the line
		}
		line, _ := cr.FieldPos(0)
		fields := make(map[string]any, len(header))
		for i, h := range header {
			fields[h] = rec[i]
		}
		r, err := RowFromFields(fields, len(rows), m)
		if err != nil {
			return nil, fmt.Errorf("dataset %s line %d: %w", path, line, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// parseParquet reads every row of a parquet file into rows. Nested columns come back as
// maps and lists (a HuggingFace SQuAD "answers" struct as {"text":[...],"answer_start":[...]}).
func parseParquet(path string, b []byte, m FieldMap) ([]Row, error) {
	records, err := readParquetRecords(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", path, err)
	}
	return rowsFrom(path, "parquet row", records, m, RowFromFields)
}

// readParquetRecords decodes a parquet file's rows as generic records, in file order.
func readParquetRecords(r io.ReaderAt, size int64) ([]map[string]any, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("opening parquet: %w", err)
	}
	rd := parquet.NewReader(f)
	defer rd.Close()
	out := make([]map[string]any, 0, f.NumRows())
	for {
		rec := map[string]any{}
		if err := rd.Read(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("parquet row %d: %w", len(out), err)
		}
		out = append(out, rec)
	}
	return out, nil
}
