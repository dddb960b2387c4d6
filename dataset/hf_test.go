package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/trackerbench/tracker/internal/testenv"
)

const fakeSHA = "4b2c6c8a1f0e3d5b7a9c8e6f4d2b0a1c3e5f7a9b"

// fakeHub is a local datasets-server and Hub answering in the documented shapes
// (../shared/squad/api_shapes): /splits, /rows (pages of at most 100), /api/datasets/D,
// /api/datasets/D/parquet and the parquet files themselves.
type fakeHub struct {
	t        *testing.T
	repo     string
	rows     []map[string]any
	features json.RawMessage
	token    string // the bearer token every request must carry ("" = none)

	mu          sync.Mutex
	rowsStatus  []int // statuses to answer /rows with before serving it (429, 503, ...)
	retryAfter  string
	rowsDown    bool // /rows always answers 500
	calls       map[string]int
	offsets     []int
	authSeen    []string
	parquetURLs []string
	files       map[string][]byte

	hub, server *httptest.Server
}

func squadLikeRows(n int) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		title := fmt.Sprintf("Article_%d", i/25)
		ctx := fmt.Sprintf("Paragraph %d of %s. The keeper of row %d is named Keeper%d, who lives in Town%d.", i/5, title, i, i, i%7)
		rows[i] = map[string]any{
			"id":       fmt.Sprintf("%024x", i+1),
			"title":    title,
			"context":  ctx,
			"question": fmt.Sprintf("Who is the keeper of row %d?", i),
			"answers": map[string]any{
				"text":         []any{fmt.Sprintf("Keeper%d", i), fmt.Sprintf("named Keeper%d", i)},
				"answer_start": []any{float64(strings.Index(ctx, "Keeper")), float64(strings.Index(ctx, "named"))},
			},
		}
	}
	return rows
}

func newFakeHub(t *testing.T, rows []map[string]any, featuresFile string) *fakeHub {
	t.Helper()
	feats, err := os.ReadFile(filepath.Join("testdata", "hf", featuresFile))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeHub{t: t, repo: "rajpurkar/squad", rows: rows, features: feats, calls: map[string]int{}, files: map[string][]byte{}}
	f.server = httptest.NewServer(http.HandlerFunc(f.serveDatasetsServer))
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	t.Cleanup(func() { f.server.Close(); f.hub.Close() })
	return f
}

func (f *fakeHub) spec(cache string) Spec {
	return Spec{Name: "squad", CacheDir: cache, HFEndpoint: f.hub.URL, DatasetsServer: f.server.URL,
		Token: f.token, Retry: Retry{Backoff: time.Millisecond}}
}

func (f *fakeHub) count(k string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[k]
}

func writeAPIError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Error-Code", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (f *fakeHub) checkAuth(r *http.Request) bool {
	f.mu.Lock()
	f.authSeen = append(f.authSeen, r.Header.Get("Authorization"))
	f.mu.Unlock()
	return f.token == "" || r.Header.Get("Authorization") == "Bearer "+f.token
}

func (f *fakeHub) serveDatasetsServer(w http.ResponseWriter, r *http.Request) {
	if !f.checkAuth(r) {
		writeAPIError(w, 401, "ExternalUnauthenticatedError", "bad token")
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	f.calls[r.URL.Path]++
	f.mu.Unlock()
	if q.Get("dataset") != f.repo {
		writeAPIError(w, 404, "DatasetNotFoundError", "The dataset does not exist, or is not accessible without authentication (private or gated). Please check the spelling of the dataset name or retry with authentication.")
		return
	}
	switch r.URL.Path {
	case "/splits":
		json.NewEncoder(w).Encode(map[string]any{"splits": []map[string]string{
			{"dataset": f.repo, "config": "plain_text", "split": "train"},
			{"dataset": f.repo, "config": "plain_text", "split": "validation"},
		}, "pending": []any{}, "failed": []any{}})
	case "/rows":
		f.mu.Lock()
		if len(f.rowsStatus) > 0 {
			st := f.rowsStatus[0]
			f.rowsStatus = f.rowsStatus[1:]
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			f.mu.Unlock()
			writeAPIError(w, st, "TooManyRequests", "slow down")
			return
		}
		down := f.rowsDown
		f.mu.Unlock()
		if down {
			writeAPIError(w, 500, "UnexpectedError", "rows are broken")
			return
		}
		if q.Get("config") != "plain_text" || (q.Get("split") != "validation" && q.Get("split") != "train") {
			writeAPIError(w, 404, "ConfigNamesError", "Not found.")
			return
		}
		offset, err1 := strconv.Atoi(q.Get("offset"))
		length, err2 := strconv.Atoi(q.Get("length"))
		if err1 != nil || err2 != nil || length > 100 || length < 1 || offset < 0 {
			writeAPIError(w, 422, "ParameterInvalidError", "Parameter 'length' must be positive and at most 100")
			return
		}
		f.mu.Lock()
		f.offsets = append(f.offsets, offset)
		f.mu.Unlock()
		type rowItem struct {
			RowIdx         int            `json:"row_idx"`
			Row            map[string]any `json:"row"`
			TruncatedCells []string       `json:"truncated_cells"`
		}
		page := []rowItem{}
		for i := offset; i < min(offset+length, len(f.rows)); i++ {
			page = append(page, rowItem{RowIdx: i, Row: f.rows[i], TruncatedCells: []string{}})
		}
		json.NewEncoder(w).Encode(map[string]any{"features": f.features, "rows": page,
			"num_rows_total": len(f.rows), "num_rows_per_page": 100, "partial": false})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	if !f.checkAuth(r) {
		writeAPIError(w, 401, "", "bad token")
		return
	}
	f.mu.Lock()
	f.calls["hub"+r.URL.Path]++
	f.mu.Unlock()
	switch {
	case r.URL.Path == "/api/datasets/"+f.repo:
		json.NewEncoder(w).Encode(map[string]any{"id": f.repo, "sha": fakeSHA, "private": false})
	case r.URL.Path == "/api/datasets/"+f.repo+"/parquet":
		json.NewEncoder(w).Encode(map[string]any{"plain_text": map[string]any{"validation": f.parquetURLs}})
	case strings.HasPrefix(r.URL.Path, "/files/"):
		b, ok := f.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	default:
		writeAPIError(w, 404, "", "Repository not found")
	}
}

// hfParquetRow is the HuggingFace SQuAD parquet schema: answers is a struct of two lists.
type hfParquetRow struct {
	ID       string `parquet:"id"`
	Title    string `parquet:"title"`
	Context  string `parquet:"context"`
	Question string `parquet:"question"`
	Answers  struct {
		Text        []string `parquet:"text,list"`
		AnswerStart []int32  `parquet:"answer_start,list"`
	} `parquet:"answers"`
}

func toParquetRows(rows []map[string]any) []hfParquetRow {
	out := make([]hfParquetRow, len(rows))
	for i, r := range rows {
		out[i] = hfParquetRow{ID: r["id"].(string), Title: r["title"].(string), Context: r["context"].(string), Question: r["question"].(string)}
		a := r["answers"].(map[string]any)
		for j, t := range a["text"].([]any) {
			out[i].Answers.Text = append(out[i].Answers.Text, t.(string))
			out[i].Answers.AnswerStart = append(out[i].Answers.AnswerStart, int32(a["answer_start"].([]any)[j].(float64)))
		}
	}
	return out
}

func parquetBytes(t *testing.T, rows []hfParquetRow) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// shard the rows into parquet files served by the fake Hub.
func (f *fakeHub) serveParquet(t *testing.T, shards int) {
	per := (len(f.rows) + shards - 1) / shards
	for s := 0; s < shards; s++ {
		path := fmt.Sprintf("/files/%04d.parquet", s)
		f.files[path] = parquetBytes(t, toParquetRows(f.rows[s*per:min(len(f.rows), (s+1)*per)]))
		f.parquetURLs = append(f.parquetURLs, f.hub.URL+path)
	}
}

func checkRows(t *testing.T, src *Source, want []map[string]any) {
	t.Helper()
	if len(src.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(src.Rows), len(want))
	}
	for i, r := range src.Rows {
		w := want[i]
		if r.ID != w["id"] || r.Question != w["question"] || r.Context != w["context"] || r.Index != i {
			t.Fatalf("row %d = %+v, want %v", i, r, w)
		}
		if len(r.Answers) != 2 || r.Answers[0] != fmt.Sprintf("Keeper%d", i) {
			t.Fatalf("row %d answers %q", i, r.Answers)
		}
	}
}

func TestHFRowsPagingRetryAndCache(t *testing.T) {
	for _, feats := range []string{"features_list.json", "features_sequence.json"} {
		t.Run(feats, func(t *testing.T) {
			rows := squadLikeRows(250)
			f := newFakeHub(t, rows, feats)
			f.token = "hf_secret_token_123"
			f.rowsStatus = []int{429}
			f.retryAfter = "0"
			cache := t.TempDir()
			spec := f.spec(cache)
			src, err := LoadHF(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, src, rows)
			if want := "hf:rajpurkar/squad/plain_text/validation@" + fakeSHA; src.Name != want {
				t.Errorf("source name %q, want %q", src.Name, want)
			}
			if got := f.count("/rows"); got != 4 { // one 429, then three pages
				t.Errorf("/rows called %d times, want 4 (a 429 then 3 pages)", got)
			}
			if fmt.Sprint(f.offsets) != "[0 100 200]" {
				t.Errorf("offsets %v, want [0 100 200]", f.offsets)
			}
			for _, a := range f.authSeen {
				if a != "Bearer hf_secret_token_123" {
					t.Fatalf("a request carried Authorization %q", a)
				}
			}
			// cached: a second load makes no /rows or /splits call
			before := f.count("/rows") + f.count("/splits")
			src2, err := LoadHF(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			if after := f.count("/rows") + f.count("/splits"); after != before {
				t.Errorf("second load called the datasets-server %d more times", after-before)
			}
			if src2.Hash != src.Hash || len(src2.Rows) != 250 {
				t.Errorf("cached load differs: %s vs %s", src2.Hash, src.Hash)
			}
			// offline with the servers gone
			f.server.Close()
			f.hub.Close()
			spec.Offline = true
			src3, err := LoadHF(context.Background(), spec)
			if err != nil {
				t.Fatalf("offline: %v", err)
			}
			checkRows(t, src3, rows)
			// the Hub unreachable (not declared offline): the cache still serves
			spec.Offline = false
			spec.Retry.Attempts = 1
			if _, err := LoadHF(context.Background(), spec); err != nil {
				t.Errorf("unreachable hub with a cache: %v", err)
			}
			// the token is never written to the cache
			filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("hf_secret")) {
						t.Errorf("%s holds the token", p)
					}
				}
				return nil
			})
			entries, err := ListCache(filepath.Join(cache, "datasets"))
			if err != nil || len(entries) != 1 {
				t.Fatalf("ListCache: %v %+v", err, entries)
			}
			e := entries[0]
			if e.Dataset != "rajpurkar/squad" || e.Config != "plain_text" || e.Split != "validation" || e.Revision != fakeSHA ||
				e.Rows != 250 || e.Via != "rows" || e.Bytes < 250*100 || e.SHA256 != src.Hash {
				t.Errorf("cache entry %+v", e)
			}
		})
	}
}

func TestHFErrorsListWhatExists(t *testing.T) {
	f := newFakeHub(t, squadLikeRows(10), "features_list.json")
	cases := []struct {
		name  string
		edit  func(*Spec)
		wants []string
	}{
		{"bad split", func(s *Spec) { s.Split = "test" }, []string{`split "test"`, "train, validation"}},
		{"bad config", func(s *Spec) { s.HFConfig = "nope" }, []string{`config "nope"`, "plain_text"}},
		{"missing dataset", func(s *Spec) { s.Name = "hf:nobody/nothing" }, []string{"nobody/nothing", "does not exist", "HTTP 404"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := f.spec(t.TempDir())
			c.edit(&spec)
			_, err := LoadHF(context.Background(), spec)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("error %v is not ErrNotFound", err)
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	t.Run("offline, nothing cached", func(t *testing.T) {
		spec := f.spec(t.TempDir())
		spec.Offline = true
		_, err := LoadHF(context.Background(), spec)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "offline") {
			t.Errorf("offline error %v", err)
		}
	})
}

func TestHFRetryBackoffAndRetryAfter(t *testing.T) {
	rows := squadLikeRows(5)
	for _, c := range []struct {
		name       string
		statuses   []int // what /rows answers before its 200
		retryAfter string
		retry      Retry // zero: f.spec's (1 ms backoff)
		via        string
		timeout    time.Duration    // the caller's deadline (0 = none)
		took       [2]time.Duration // the load takes at least [0] and less than [1] (0 = unbounded)
		calls      int              // /rows requests (0 = not checked)
		wantErr    func(error) bool // nil: the load succeeds
	}{
		{name: "5xx backoff doubles", statuses: []int{503, 502}, retry: Retry{Backoff: 40 * time.Millisecond},
			took: [2]time.Duration{120 * time.Millisecond, 20 * time.Second}, calls: 3}, // 40ms + 80ms
		{name: "Retry-After honoured", statuses: []int{429}, retryAfter: "1",
			took: [2]time.Duration{time.Second, 30 * time.Second}},
		{name: "bounded attempts", statuses: []int{429, 429, 429, 429, 429}, retry: Retry{Attempts: 3, Backoff: time.Millisecond}, via: "rows", calls: 3,
			wantErr: func(err error) bool {
				return err != nil && strings.Contains(err.Error(), "after 3 attempts") && strings.Contains(err.Error(), "429")
			}},
		{name: "canceled during backoff", statuses: []int{429}, retryAfter: "30", timeout: 100 * time.Millisecond,
			took:    [2]time.Duration{0, 10 * time.Second},
			wantErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeHub(t, rows, "features_list.json")
			f.rowsStatus, f.retryAfter = c.statuses, c.retryAfter
			spec := f.spec(t.TempDir())
			if c.retry != (Retry{}) {
				spec.Retry = c.retry
			}
			if c.via != "" {
				spec.HFVia = c.via
			}
			ctx := context.Background()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			t0 := time.Now()
			_, err := LoadHF(ctx, spec)
			took := time.Since(t0)
			if c.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if c.wantErr != nil && !c.wantErr(err) {
				t.Errorf("error %v", err)
			}
			if took < c.took[0] || (c.took[1] > 0 && took >= c.took[1]) {
				t.Errorf("took %v, want at least %v and less than %v", took, c.took[0], c.took[1])
			}
			if n := f.count("/rows"); c.calls > 0 && n != c.calls {
				t.Errorf("/rows called %d times, want %d", n, c.calls)
			}
		})
	}
}

func TestHFParquetExport(t *testing.T) {
	rows := squadLikeRows(230)
	t.Run("parquet", func(t *testing.T) {
		f := newFakeHub(t, rows, "features_list.json")
		f.serveParquet(t, 3)
		spec := f.spec(t.TempDir())
		spec.HFVia = "parquet"
		src, err := LoadHF(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, src, rows)
		if f.count("/rows") != 0 {
			t.Errorf("parquet path called /rows")
		}
		es, _ := ListCache(filepath.Join(spec.CacheDir, "datasets"))
		if len(es) != 1 || es[0].Via != "parquet" || es[0].Rows != 230 {
			t.Errorf("cache %+v", es)
		}
	})
	t.Run("rows API down falls back to parquet", func(t *testing.T) {
		f := newFakeHub(t, rows, "features_list.json")
		f.serveParquet(t, 2)
		f.rowsDown = true
		spec := f.spec(t.TempDir())
		spec.Retry.Attempts = 2
		src, err := LoadHF(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, src, rows)
	})
}

func TestHFRevisionPinning(t *testing.T) {
	rows := squadLikeRows(20)
	f := newFakeHub(t, rows, "features_list.json")
	spec := f.spec(t.TempDir())
	if _, err := LoadHF(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	pinned := spec
	pinned.Revision = fakeSHA[:8]
	f.server.Close()
	f.hub.Close()
	src, err := LoadHF(context.Background(), pinned) // served from the cache, no network
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(src.Name, "@"+fakeSHA) {
		t.Errorf("name %s", src.Name)
	}
	pinned.Revision = "deadbeef"
	pinned.Offline = true
	if _, err := LoadHF(context.Background(), pinned); err == nil || !strings.Contains(err.Error(), "plain_text/validation@"+fakeSHA[:12]) {
		t.Errorf("pinned uncached revision: %v", err)
	}
}

func TestParseHFName(t *testing.T) {
	cases := map[string]string{
		"squad":                    "hf:rajpurkar/squad/plain_text/validation",
		"SQuAD":                    "hf:rajpurkar/squad/plain_text/validation",
		"hf:rajpurkar/squad":       "hf:rajpurkar/squad",
		"hf:squad":                 "hf:rajpurkar/squad/plain_text/validation",
		"hf://datasets/ibm/duorc/": "hf:ibm/duorc",
		"data.jsonl":               "",
		"synthetic":                "",
		"hf:":                      "",
	}
	for in, want := range cases {
		ref, ok := ParseHFName(in)
		got := ""
		if ok {
			got = ref.String()
		}
		if got != want {
			t.Errorf("ParseHFName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The fake's features are the documented shapes, copied from ../shared/squad/api_shapes.
func TestFakeFeaturesMatchDocumentedShapes(t *testing.T) {
	for file, shared := range map[string]string{
		"features_list.json":     "squad_rows_validation_offset0_length2.DERIVED.json",
		"features_sequence.json": "squad_features_legacy_Sequence_form.DERIVED.json",
	} {
		b, err := os.ReadFile(filepath.Join(realSquadDir, "api_shapes", shared))
		if err != nil {
			testenv.Missing(t, "api_shapes not available: %v", err)
		}
		var doc struct {
			Features any `json:"features"`
		}
		var ours any
		mine, _ := os.ReadFile(filepath.Join("testdata", "hf", file))
		if json.Unmarshal(b, &doc) != nil || json.Unmarshal(mine, &ours) != nil {
			t.Fatal("bad JSON")
		}
		if fmt.Sprint(doc.Features) != fmt.Sprint(ours) {
			t.Errorf("%s differs from %s", file, shared)
		}
	}
}

func TestHFGatedNeedsToken(t *testing.T) {
	f := newFakeHub(t, squadLikeRows(3), "features_list.json")
	f.token = "hf_needed"
	spec := f.spec(t.TempDir())
	spec.Token = ""
	t.Setenv("HF_TOKEN", "")
	_, err := LoadHF(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "HF_TOKEN") || !strings.Contains(err.Error(), "401") {
		t.Errorf("error %v", err)
	}
	t.Setenv("HF_TOKEN", "hf_needed") // read from the environment when the Spec has none
	if _, err := LoadHF(context.Background(), spec); err != nil {
		t.Errorf("with HF_TOKEN: %v", err)
	}
}

// Two fetches of the same split at once both succeed and leave one entry.
func TestHFConcurrentFetches(t *testing.T) {
	rows := squadLikeRows(150)
	f := newFakeHub(t, rows, "features_list.json")
	spec := f.spec(t.TempDir())
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var src *Source
			src, errs[i] = LoadHF(context.Background(), spec)
			if errs[i] == nil && len(src.Rows) != 150 {
				errs[i] = fmt.Errorf("%d rows", len(src.Rows))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	es, err := ListCache(filepath.Join(spec.CacheDir, "datasets"))
	if err != nil || len(es) != 1 {
		t.Errorf("cache after concurrent fetches: %v %+v", err, es)
	}
	left, _ := filepath.Glob(filepath.Join(spec.CacheDir, "datasets", "*", "*", "*", ".partial-*"))
	if len(left) != 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}
