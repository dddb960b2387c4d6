package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The dataset cache keeps each fetched split once, keyed by dataset, config, split and
// revision:
//
//	<cache>/datasets/<owner>--<name>/<config>/<split>/<revision>/rows.jsonl  one row's JSON a line, in row order
//	<cache>/datasets/<owner>--<name>/<config>/<split>/<revision>/meta.json   a CacheEntry
//
// <cache> is Spec.CacheDir, else $TRACKER_CACHE, else os.UserCacheDir()/tracker.
// An entry is written to a temporary directory and renamed into place, so a directory
// with a meta.json is always complete.

const (
	cacheRowsFile = "rows.jsonl"
	cacheMetaFile = "meta.json"
)

// CacheEntry describes one cached split.
type CacheEntry struct {
	Dataset   string    `json:"dataset"`  // owner/name
	Config    string    `json:"config"`   // the datasets-server config
	Split     string    `json:"split"`    // train, validation, ...
	Revision  string    `json:"revision"` // the Hub's commit sha, or "main" when it did not say
	Rows      int       `json:"rows"`
	Via       string    `json:"via"`        // "rows" (datasets-server /rows) or "parquet" (the Hub's parquet export)
	FetchedAt time.Time `json:"fetched_at"` // UTC
	SHA256    string    `json:"sha256"`     // of rows.jsonl
	Bytes     int64     `json:"-"`          // the entry's size on disk, filled by ListCache
	Dir       string    `json:"-"`          // the entry's directory, filled by ListCache
}

// CacheRoot is where tracker caches datasets: dir/datasets, where dir is the given
// directory, else $TRACKER_CACHE, else os.UserCacheDir()/tracker.
func CacheRoot(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("TRACKER_CACHE")
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("finding the cache directory (set TRACKER_CACHE): %w", err)
		}
		dir = filepath.Join(base, "tracker")
	}
	return filepath.Join(dir, "datasets"), nil
}

// pathPart makes a name safe as one path element.
func pathPart(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, strings.ReplaceAll(s, "/", "--"))
}

func entryDir(root, repo, config, split, revision string) string {
	return filepath.Join(root, pathPart(repo), pathPart(config), pathPart(split), pathPart(revision))
}

// ListCache lists every complete cache entry under root (see CacheRoot), sorted by
// dataset, config, split and fetch time.
func ListCache(root string) ([]CacheEntry, error) {
	var out []CacheEntry
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() || d.Name() != cacheMetaFile {
			return nil
		}
		e, err := readMeta(filepath.Dir(path))
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the dataset cache %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		if a.Config != b.Config {
			return a.Config < b.Config
		}
		if a.Split != b.Split {
			return a.Split < b.Split
		}
		return a.FetchedAt.Before(b.FetchedAt)
	})
	return out, nil
}

func readMeta(dir string) (CacheEntry, error) {
	var e CacheEntry
	b, err := os.ReadFile(filepath.Join(dir, cacheMetaFile))
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("%s: %w", filepath.Join(dir, cacheMetaFile), err)
	}
	e.Dir = dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		return e, err
	}
	for _, f := range entries {
		if info, err := f.Info(); err == nil && !f.IsDir() {
			e.Bytes += info.Size()
		}
	}
	return e, nil
}

// findCached returns the cached entries of repo matching config, split and revision
// (each may be empty = any; a revision matches as a prefix of the stored one, or "main"
// matches any), newest first.
func findCached(root, repo, config, split, revision string) ([]CacheEntry, error) {
	all, err := ListCache(filepath.Join(root, pathPart(repo)))
	if err != nil {
		return nil, err
	}
	var out []CacheEntry
	for _, e := range all {
		if e.Dataset != repo || (config != "" && e.Config != config) || (split != "" && e.Split != split) {
			continue
		}
		if revision != "" && revision != "main" && !strings.HasPrefix(e.Revision, revision) {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FetchedAt.After(out[j].FetchedAt) })
	return out, nil
}

// cacheWriter writes one entry into a temporary directory beside its final place.
type cacheWriter struct {
	final, tmp string
	rows       *os.File
	n          int
}

func newCacheWriter(root, repo, config, split, revision string) (*cacheWriter, error) {
	final := entryDir(root, repo, config, split, revision)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, fmt.Errorf("creating the dataset cache: %w", err)
	}
	removeStalePartials(filepath.Dir(final), 24*time.Hour)
	tmp, err := os.MkdirTemp(filepath.Dir(final), ".partial-")
	if err != nil {
		return nil, fmt.Errorf("creating the dataset cache: %w", err)
	}
	f, err := os.Create(filepath.Join(tmp, cacheRowsFile))
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return &cacheWriter{final: final, tmp: tmp, rows: f}, nil
}

// add appends one row's JSON (compacted onto one line).
func (w *cacheWriter) add(row json.RawMessage) error {
	var buf strings.Builder
	if err := compactJSON(&buf, row); err != nil {
		return fmt.Errorf("row %d: %w", w.n, err)
	}
	buf.WriteByte('\n')
	if _, err := w.rows.WriteString(buf.String()); err != nil {
		return err
	}
	w.n++
	return nil
}

// commit writes meta.json and moves the entry into place, replacing an older copy.
func (w *cacheWriter) commit(e CacheEntry) (CacheEntry, error) {
	if err := w.rows.Close(); err != nil {
		w.abort()
		return e, err
	}
	sum, err := fileSHA256(filepath.Join(w.tmp, cacheRowsFile))
	if err != nil {
		w.abort()
		return e, err
	}
	e.Rows, e.SHA256, e.FetchedAt = w.n, sum, time.Now().UTC().Truncate(time.Second)
	b, _ := json.MarshalIndent(e, "", "  ")
	if err := os.WriteFile(filepath.Join(w.tmp, cacheMetaFile), append(b, '\n'), 0o644); err != nil {
		w.abort()
		return e, err
	}
	if err := os.Rename(w.tmp, w.final); err != nil {
		if done, merr := readMeta(w.final); merr == nil {
			w.abort() // another process stored the same entry first
			return done, nil
		}
		// a directory without meta.json is no entry: replace it
		os.RemoveAll(w.final)
		if err := os.Rename(w.tmp, w.final); err != nil {
			w.abort()
			return e, fmt.Errorf("storing the dataset cache entry: %w", err)
		}
	}
	return readMeta(w.final)
}

// removeStalePartials deletes temporary directories an interrupted fetch left behind.
func removeStalePartials(dir string, age time.Duration) {
	old, _ := filepath.Glob(filepath.Join(dir, ".partial-*"))
	for _, p := range old {
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > age {
			os.RemoveAll(p)
		}
	}
}

func (w *cacheWriter) abort() {
	w.rows.Close()
	os.RemoveAll(w.tmp)
}

func compactJSON(buf *strings.Builder, raw json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return err
	}
	buf.Write(b.Bytes())
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
