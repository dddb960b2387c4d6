package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// HFRef names one split of a HuggingFace dataset.
type HFRef struct {
	Repo     string // owner/name ("rajpurkar/squad")
	Config   string // "" = the only config, or "default"
	Split    string // "" = validation, else test, else train, else the first
	Revision string // "" = what the Hub serves now
}

func (r HFRef) String() string {
	s := "hf:" + r.Repo
	if r.Config != "" {
		s += "/" + r.Config
	}
	if r.Split != "" {
		s += "/" + r.Split
	}
	if r.Revision != "" {
		s += "@" + r.Revision
	}
	return s
}

// hfAliases are the short names tracker knows, as in Python's load_dataset("squad").
var hfAliases = map[string]HFRef{
	"squad":    {Repo: "rajpurkar/squad", Config: "plain_text", Split: "validation"},
	"squad_v2": {Repo: "rajpurkar/squad_v2", Config: "squad_v2", Split: "validation"},
}

// ParseHFName reads a HuggingFace dataset name: a short alias ("squad", "squad_v2"),
// "hf:owner/name" or "hf://datasets/owner/name". ok is false for other names (local files,
// "synthetic").
func ParseHFName(name string) (ref HFRef, ok bool) {
	if r, ok := hfAliases[strings.ToLower(name)]; ok {
		return r, true
	}
	var repo string
	switch {
	case strings.HasPrefix(name, "hf://datasets/"):
		repo = strings.TrimPrefix(name, "hf://datasets/")
	case strings.HasPrefix(name, "hf:"):
		repo = strings.TrimPrefix(name, "hf:")
	default:
		return HFRef{}, false
	}
	repo = strings.Trim(repo, "/")
	if repo == "" {
		return HFRef{}, false
	}
	if r, ok := hfAliases[strings.ToLower(repo)]; ok {
		return r, true
	}
	return HFRef{Repo: repo}, true
}

func envTrue(k string) bool {
	switch strings.ToLower(os.Getenv(k)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// LoadHF loads a HuggingFace dataset split named by spec.Name (see ParseHFName), with
// spec.HFConfig, spec.Split and spec.Revision choosing among what it has. A split is
// fetched once — from the datasets-server's /rows (pages of 100) or the Hub's parquet
// export — and read from the cache after; offline (spec.Offline, HF_HUB_OFFLINE=1 or
// HF_DATASETS_OFFLINE=1) only the cache is read.
func LoadHF(ctx context.Context, spec Spec) (*Source, error) {
	ref, ok := ParseHFName(spec.Name)
	if !ok {
		return nil, fmt.Errorf("%q is not a HuggingFace dataset name (want squad or hf:owner/name)", spec.Name)
	}
	if spec.HFConfig != "" {
		ref.Config = spec.HFConfig
	}
	if spec.Split != "" {
		ref.Split = spec.Split
	}
	if spec.Revision != "" {
		ref.Revision = spec.Revision
	}
	root, err := CacheRoot(spec.CacheDir)
	if err != nil {
		return nil, err
	}
	e, err := resolveHF(ctx, spec, ref, root)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", ref, err)
	}
	return loadCacheEntry(e, spec.Fields)
}

func resolveHF(ctx context.Context, spec Spec, ref HFRef, root string) (CacheEntry, error) {
	pinned := ref.Revision != "" && ref.Revision != "main"
	if spec.Offline || envTrue("HF_HUB_OFFLINE") || envTrue("HF_DATASETS_OFFLINE") {
		return pickCached(root, ref, "offline")
	}
	if pinned && ref.Config != "" && ref.Split != "" {
		if es, _ := findCached(root, ref.Repo, ref.Config, ref.Split, ref.Revision); len(es) > 0 {
			return es[0], nil
		}
	}
	c := newHubClient(spec)
	infoClient := *c
	infoClient.retry.Attempts = min(c.retry.Attempts, 2)
	revision := "main"
	info, err := infoClient.info(ctx, ref.Repo)
	var ae *apiError
	switch {
	case err == nil && info.SHA != "":
		revision = info.SHA
	case err != nil && ctx.Err() != nil:
		return CacheEntry{}, ctx.Err()
	case err != nil && !errors.As(err, &ae):
		// the Hub cannot be reached: the cache, if it has the split, still serves
		if e, cerr := pickCached(root, ref, "the Hub is unreachable"); cerr == nil {
			if spec.Progress != nil {
				fmt.Fprintf(spec.Progress, "using the cached %s (%s): %v\n", e.Split, e.Revision, err)
			}
			return e, nil
		}
		return CacheEntry{}, fmt.Errorf("asking the Hub for the revision: %w (and nothing usable is cached)", err)
	}
	// an HTTP error from the Hub info (gated, a mirror without /api/datasets, ...) leaves
	// "main"; the datasets-server's /splits below says whether the dataset exists.
	if pinned && !strings.HasPrefix(revision, ref.Revision) {
		cached, _ := findCached(root, ref.Repo, "", "", "")
		return CacheEntry{}, fmt.Errorf("revision %s is not cached and the Hub now serves %s (the datasets-server and the parquet export only serve the latest revision); cached: %s",
			ref.Revision, revision, describeEntries(cached))
	}
	if ref.Config != "" && ref.Split != "" {
		if es, _ := findCached(root, ref.Repo, ref.Config, ref.Split, revision); len(es) > 0 {
			return es[0], nil
		}
	}
	sp, err := c.splits(ctx, ref.Repo)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return CacheEntry{}, fmt.Errorf("the dataset does not exist or is not served by the datasets-server: %w", err)
		}
		if errors.As(err, &ae) && (ae.Status == 401 || ae.Status == 403) && c.token == "" {
			return CacheEntry{}, fmt.Errorf("listing splits: %w (a gated or private dataset needs HF_TOKEN)", err)
		}
		return CacheEntry{}, fmt.Errorf("listing splits: %w", err)
	}
	if ref.Config, ref.Split, err = chooseSplit(sp, ref); err != nil {
		return CacheEntry{}, err
	}
	if es, _ := findCached(root, ref.Repo, ref.Config, ref.Split, revision); len(es) > 0 {
		return es[0], nil
	}
	return fetchHF(ctx, c, spec.HFVia, root, ref, revision)
}

// chooseSplit validates (or defaults) the config and split against /splits.
func chooseSplit(sp *splitsResponse, ref HFRef) (config, split string, err error) {
	var configs []string
	byConfig := map[string][]string{}
	for _, s := range sp.Splits {
		if _, seen := byConfig[s.Config]; !seen {
			configs = append(configs, s.Config)
		}
		byConfig[s.Config] = append(byConfig[s.Config], s.Split)
	}
	if len(configs) == 0 {
		return "", "", fmt.Errorf("the datasets-server lists no splits (%d pending, %d failed): %w", len(sp.Pending), len(sp.Failed), ErrNotFound)
	}
	config = ref.Config
	switch {
	case config == "" && len(configs) == 1:
		config = configs[0]
	case config == "" && slices.Contains(configs, "default"):
		config = "default"
	case config == "":
		return "", "", fmt.Errorf("the dataset has several configs, choose one with --hf-config: %s", strings.Join(configs, ", "))
	case byConfig[config] == nil:
		return "", "", fmt.Errorf("config %q %w; the dataset has configs: %s", config, ErrNotFound, strings.Join(configs, ", "))
	}
	splits := byConfig[config]
	split = ref.Split
	if split == "" {
		for _, want := range []string{"validation", "test", "train"} {
			if slices.Contains(splits, want) {
				return config, want, nil
			}
		}
		return config, splits[0], nil
	}
	if !slices.Contains(splits, split) {
		return "", "", fmt.Errorf("split %q %w in config %s; it has splits: %s", split, ErrNotFound, config, strings.Join(splits, ", "))
	}
	return config, split, nil
}

// pickCached chooses the newest cached entry matching ref, or says what is cached.
func pickCached(root string, ref HFRef, why string) (CacheEntry, error) {
	es, err := findCached(root, ref.Repo, ref.Config, ref.Split, ref.Revision)
	if err != nil {
		return CacheEntry{}, err
	}
	if ref.Split == "" && len(es) > 0 {
		// the same default as online: validation, else test, else train
		for _, want := range []string{"validation", "test", "train"} {
			for _, e := range es {
				if e.Split == want {
					return e, nil
				}
			}
		}
	}
	if len(es) == 0 {
		all, _ := findCached(root, ref.Repo, "", "", "")
		return CacheEntry{}, fmt.Errorf("%s and not in the cache %s: %w; cached for %s: %s", why, root, ErrNotFound, ref.Repo, describeEntries(all))
	}
	return es[0], nil
}

func describeEntries(es []CacheEntry) string {
	if len(es) == 0 {
		return "nothing"
	}
	var parts []string
	for _, e := range es {
		parts = append(parts, fmt.Sprintf("%s/%s@%s", e.Config, e.Split, shortRev(e.Revision)))
	}
	return strings.Join(parts, ", ")
}

func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

// fetchHF downloads a split into the cache: via "rows" (the datasets-server's /rows),
// "parquet" (the Hub's parquet export) or "" (rows, falling back to parquet when the
// rows API fails or serves only part of the split).
func fetchHF(ctx context.Context, c *hubClient, via, root string, ref HFRef, revision string) (CacheEntry, error) {
	meta := CacheEntry{Dataset: ref.Repo, Config: ref.Config, Split: ref.Split, Revision: revision}
	switch via {
	case "", "auto", "rows":
		e, err := fetchRows(ctx, c, root, meta)
		if err == nil || via == "rows" || ctx.Err() != nil || errors.Is(err, ErrNotFound) {
			return e, err
		}
		if c.progress != nil {
			fmt.Fprintf(c.progress, "the rows API failed (%v); trying the parquet export\n", err)
		}
		e, perr := fetchParquet(ctx, c, root, meta)
		if perr != nil {
			return e, fmt.Errorf("rows API: %v; parquet export: %w", err, perr)
		}
		return e, nil
	case "parquet":
		return fetchParquet(ctx, c, root, meta)
	}
	return CacheEntry{}, fmt.Errorf("unknown HF download method %q (want rows or parquet)", via)
}

func fetchRows(ctx context.Context, c *hubClient, root string, meta CacheEntry) (CacheEntry, error) {
	w, err := newCacheWriter(root, meta.Dataset, meta.Config, meta.Split, meta.Revision)
	if err != nil {
		return meta, err
	}
	if _, err := c.rows(ctx, meta.Dataset, meta.Config, meta.Split, w.add); err != nil {
		w.abort()
		return meta, err
	}
	meta.Via = "rows"
	return w.commit(meta)
}

func fetchParquet(ctx context.Context, c *hubClient, root string, meta CacheEntry) (CacheEntry, error) {
	urls, err := c.parquetURLs(ctx, meta.Dataset, meta.Config, meta.Split)
	if err != nil {
		return meta, err
	}
	w, err := newCacheWriter(root, meta.Dataset, meta.Config, meta.Split, meta.Revision)
	if err != nil {
		return meta, err
	}
	for i, u := range urls {
		if err := fetchParquetFile(ctx, c, u, w); err != nil {
			w.abort()
			return meta, fmt.Errorf("parquet file %d of %d: %w", i+1, len(urls), err)
		}
		if c.progress != nil {
			fmt.Fprintf(c.progress, "fetched parquet file %d of %d (%d rows so far)\n", i+1, len(urls), w.n)
		}
	}
	meta.Via = "parquet"
	return w.commit(meta)
}

func fetchParquetFile(ctx context.Context, c *hubClient, u string, w *cacheWriter) error {
	f, err := os.CreateTemp(w.tmp, "download-*.parquet")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	n, err := c.download(ctx, u, f)
	if err != nil {
		return err
	}
	records, err := readParquetRecords(f, n)
	if err != nil {
		return fmt.Errorf("%s: %w", redactURL(u), err)
	}
	for _, rec := range records {
		b, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("row %d: %w", w.n, err)
		}
		if err := w.add(b); err != nil {
			return err
		}
	}
	return nil
}

// loadCacheEntry reads a cached split as a Source named hf:repo/config/split@revision.
func loadCacheEntry(e CacheEntry, m FieldMap) (*Source, error) {
	path := filepath.Join(e.Dir, cacheRowsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the cached dataset: %w", err)
	}
	rows, err := parseJSONL(path, b, m)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("dataset %s: %w", path, ErrEmpty)
	}
	name := HFRef{Repo: e.Dataset, Config: e.Config, Split: e.Split, Revision: e.Revision}.String()
	return &Source{Name: name, Hash: e.SHA256, Rows: rows}, nil
}
