package sim

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trackerbench/tracker/internal/ctxtime"
	"github.com/trackerbench/tracker/tokens"
)

// Options tune a Server beyond its profile.
type Options struct {
	// DrainTimeout bounds how long Serve waits for requests in flight after its context
	// ends (default 30s); what is still running then is cut.
	DrainTimeout time.Duration
	// Wire is the dialect spoken: vllm (default), sambanova, alcf-metis, alcf-sophia
	// (dialect.go). Relay shapes alcf-sophia's relay (dialect_relay.go; zero = the gateway's values).
	Wire  string
	Relay RelayOptions
	// Conn closes connections behind the client's back (conns.go).
	Conn ConnOptions
}

// Server is one simulated endpoint: a profile, its engine, its own seeded randomness and
// counters. It holds no global state; several can run in one process.
type Server struct {
	p       Profile
	opts    Options
	tok     *tokens.Counter
	eng     *engine
	wire    dialect
	handler http.Handler
	started time.Time

	reqNo atomic.Uint64 // generation requests, from 1: seeds faults, ids and lengths
	names metricNames   // /metrics in vLLM's or llama.cpp's names (metrics.go)
	lat   *latencies    // the server's own TTFT and E2E histograms

	mu    sync.Mutex
	stats Stats

	conns   *connCloser  // conns.go
	prompts *promptCache // llamacpp wire: prompts seen (cache.go)
}

// New builds a server and starts its engine; Close stops it.
func New(p Profile, opts Options) (*Server, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	tok, err := tokens.New(p.Model)
	if err != nil {
		return nil, err
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	if opts.Conn.KeepaliveMax < 0 || opts.Conn.IdleClose < 0 {
		return nil, fmt.Errorf("sim %s: --keepalive-max %d and --idle-close %s must not be negative", p.Name, opts.Conn.KeepaliveMax, opts.Conn.IdleClose)
	}
	wire, err := newDialect(opts.Wire, opts)
	if err != nil {
		return nil, err
	}
	s := &Server{p: p, opts: opts, tok: tok, wire: wire, started: time.Now(),
		stats: Stats{Status: map[int]int64{}, Faults: map[string]int64{}, Paths: map[string]int64{}},
		names: metricNamesFor(opts.Wire), lat: newLatencies()}
	s.eng = newEngine(p, p.Seed)
	s.conns = &connCloser{opts: s.connOptions(), count: map[net.Conn]int{}, doomed: map[net.Conn]bool{}}
	s.prompts = newPromptCache(promptCacheEntries)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handleChat)
	mux.HandleFunc("POST /v1/completions", s.handleCompletion)
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})
	s.handler = s.count(mux)
	return s, nil
}

// Profile is the profile the server runs.
func (s *Server) Profile() Profile { return s.p }

// Handler serves the OpenAI-compatible API (for httptest.NewServer or any http.Server).
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the engine. Requests still inside it end with a cut connection.
func (s *Server) Close() { s.eng.close() }

// Serve serves on ln until ctx ends, then stops accepting, waits up to DrainTimeout for the
// requests in flight, and stops the engine.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.ConfigureServer(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("sim %s on %s: %w", s.p.Name, ln.Addr(), err)
	case <-ctx.Done():
	}
	dctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	err := srv.Shutdown(dctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("sim %s on %s: draining: %w", s.p.Name, ln.Addr(), err)
	}
	s.Close()
	<-errc
	return err
}

// Stats is what a server has served so far.
type Stats struct {
	Requests         int64            // HTTP requests of any kind
	Paths            map[string]int64 // by path
	Status           map[int]int64    // by HTTP status sent
	Generations      int64            // requests that entered the engine
	Finished         int64            // generations that ran to their end
	Canceled         int64            // generations whose client went away first
	Faults           map[string]int64 // faults injected, by kind
	PromptTokens     int64
	CompletionTokens int64         // tokens generated (for finished and canceled generations)
	QueueWait        time.Duration // summed over generations: from due in the queue to admitted
	Steps            int64         // engine steps
	MaxBatch         int64         // largest batch seen
	MaxQueue         int64         // longest queue seen
	Uptime           time.Duration
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := s.stats
	st.Paths, st.Status, st.Faults = copyMap(s.stats.Paths), copyMap(s.stats.Status), copyMap(s.stats.Faults)
	s.mu.Unlock()
	st.Steps, st.MaxBatch, st.MaxQueue = s.eng.steps.Load(), s.eng.maxBatch.Load(), s.eng.maxQueue.Load()
	st.Uptime = time.Since(s.started)
	return st
}

func copyMap[K comparable](m map[K]int64) map[K]int64 {
	out := make(map[K]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// String is a one-paragraph account for the terminal.
func (st Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests in %s; %d generations: %d finished, %d canceled; %d prompt and %d completion tokens; %d engine steps, max batch %d, max queue %d",
		st.Requests, st.Uptime.Round(time.Millisecond), st.Generations, st.Finished, st.Canceled,
		st.PromptTokens, st.CompletionTokens, st.Steps, st.MaxBatch, st.MaxQueue)
	if st.Generations > 0 {
		fmt.Fprintf(&b, ", mean queue wait %s", (st.QueueWait / time.Duration(st.Generations)).Round(10*time.Microsecond))
	}
	if len(st.Status) > 0 {
		b.WriteString("; status")
		for _, code := range slices.Sorted(maps.Keys(st.Status)) {
			fmt.Fprintf(&b, " %d:%d", code, st.Status[code])
		}
	}
	if len(st.Faults) > 0 {
		b.WriteString("; faults")
		for _, k := range FaultKinds() {
			if n := st.Faults[k]; n > 0 {
				fmt.Fprintf(&b, " %s:%d", k, n)
			}
		}
	}
	return b.String()
}

func (s *Server) add(f func(st *Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// statusWriter records the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		s.conns.request(r)
		defer func() {
			code := sw.status
			if code == 0 {
				code = http.StatusOK
			}
			s.add(func(st *Stats) {
				st.Requests++
				st.Paths[r.URL.Path]++
				st.Status[code]++
			})
		}()
		next.ServeHTTP(sw, r)
	})
}

// fail sends an error response in the dialect's error shape.
func (s *Server) fail(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(s.wire.errorBody(status, typ, msg))
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	if !hasModels(s.wire) { // the ALCF gateway has no /v1/models
		s.fail(w, http.StatusNotFound, "NotFoundError", "no route GET /v1/models")
		return
	}
	type model struct {
		ID          string `json:"id"`
		Object      string `json:"object"`
		Created     int64  `json:"created"`
		OwnedBy     string `json:"owned_by"`
		Root        string `json:"root"`
		Parent      any    `json:"parent"`
		MaxModelLen int    `json:"max_model_len,omitempty"`
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(mustJSON(map[string]any{"object": "list", "data": []model{{ID: s.p.Model, Object: "model",
		Created: s.started.Unix(), OwnedBy: "vllm", Root: s.p.Model, MaxModelLen: s.p.MaxModelLen}}}))
}

// chatRequest is the part of a chat completion request the simulator reads.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Prompt              json.RawMessage `json:"prompt"` // /v1/completions
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	MinTokens           int             `json:"min_tokens"`
	IgnoreEOS           bool            `json:"ignore_eos"`
	Temperature         *float64        `json:"temperature"`
	Seed                *int64          `json:"seed"`
	Stream              bool            `json:"stream"`
	CachePrompt         *bool           `json:"cache_prompt"` // llama.cpp: false = do not use the prompt cache
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text is a message's content: a string, or the text parts of a content array.
func (m chatMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) { s.generate(w, r, true) }

func (s *Server) handleCompletion(w http.ResponseWriter, r *http.Request) { s.generate(w, r, false) }

// generate serves one chat or text completion: it checks the request, draws its fault,
// plans its output, queues it in the engine and sends its tokens as the engine makes them.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, chat bool) {
	arrival := time.Now() // parsing and tokenizing count as part of request_overhead
	req, g, whole, ok := s.readGenRequest(w, r, chat)
	if !ok {
		return
	}
	n := s.reqNo.Add(1)
	g.n = n
	fault, failed := s.injectFault(w, req, chat, n)
	if failed {
		return
	}
	plan := planOutput(s.p, s.tok, s.p.Seed, g)
	seq := newSequence(g.promptTokens, plan.tokens())
	if seq.reserve > s.p.KVCacheTokens {
		s.fail(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf(
			"The request needs %d KV-cache tokens (%d prompt + %d output), more than the server's %d.",
			seq.reserve, g.promptTokens, plan.tokens(), s.p.KVCacheTokens))
		return
	}
	cached := s.cachedTokens(req, whole, g.promptTokens)
	seq.prompt -= cached                           // prefill only what the cache lacks
	seq.arrived = arrival.Add(s.p.RequestOverhead) // when it is due in the queue
	if wait := time.Until(seq.arrived); wait > 0 && !ctxtime.Sleep(r.Context(), wait) {
		return
	}
	if err := s.eng.submit(seq); err != nil {
		s.fail(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "The server is shutting down.")
		return
	}
	s.add(func(st *Stats) { st.Generations++; st.PromptTokens += int64(g.promptTokens) })
	defer s.countOutcome(seq)

	_, anyModel := s.wire.(llamacpp)
	c := &call{id: s.newID(chat, n), created: time.Now().Unix(), model: s.p.Model, chat: chat,
		arrived: arrival, reasoningTokens: len(plan.reasoning), cachedTokens: cached}
	if anyModel && req.Model != "" {
		c.model = req.Model // echoed
	}
	u := usage{PromptTokens: g.promptTokens, CompletionTokens: plan.tokens(), TotalTokens: g.promptTokens + plan.tokens()}
	if req.Stream {
		s.conns.streamed(r)
		includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
		s.stream(r.Context(), w, c, seq, plan, fault, includeUsage, u)
		return
	}
	s.respond(r.Context(), w, c, seq, plan, fault, u)
}

// readGenRequest decodes and checks a generation request: its model, its prompt (counted in
// tokens), max_tokens and the context length. It answers a bad request itself and returns
// ok false; whole is every message, for the prompt cache.
func (s *Server) readGenRequest(w http.ResponseWriter, r *http.Request, chat bool) (req chatRequest, g genRequest, whole string, ok bool) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<20))
	if err := dec.Decode(&req); err != nil {
		s.fail(w, http.StatusBadRequest, "BadRequestError", "invalid JSON body: "+err.Error())
		return req, g, "", false
	}
	_, anyModel := s.wire.(llamacpp) // llama-server serves its one model whatever the request names
	if req.Model != "" && req.Model != s.p.Model && !anyModel {
		s.fail(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return req, g, "", false
	}
	g = genRequest{minTokens: req.MinTokens, ignoreEOS: req.IgnoreEOS, reasoning: chat}
	whole, msg := s.readPrompt(&req, chat, &g)
	if msg != "" {
		s.fail(w, http.StatusBadRequest, "BadRequestError", msg)
		return req, g, "", false
	}
	g.promptTokens += s.p.PromptOverheadTokens
	switch {
	case req.MaxCompletionTokens != nil:
		g.maxTokens = *req.MaxCompletionTokens
	case req.MaxTokens != nil:
		g.maxTokens = *req.MaxTokens
	}
	if (req.MaxCompletionTokens != nil || req.MaxTokens != nil) && g.maxTokens < 1 {
		s.fail(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("max_tokens must be at least 1, got %d.", g.maxTokens))
		return req, g, "", false
	}
	if s.p.MaxModelLen > 0 && g.promptTokens+max(g.maxTokens, 1) > s.p.MaxModelLen {
		s.fail(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf(
			"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			s.p.MaxModelLen, g.promptTokens+g.maxTokens, g.promptTokens, g.maxTokens))
		return req, g, "", false
	}
	return req, g, whole, true
}

// readPrompt sets g's text (the last user message, or the prompt) and prompt token count from
// the chat messages or the completion prompt. It returns every message joined, for the prompt
// cache, or the message of a bad request.
func (s *Server) readPrompt(req *chatRequest, chat bool, g *genRequest) (whole, badRequest string) {
	if !chat {
		var p string
		if err := json.Unmarshal(req.Prompt, &p); err != nil {
			var ps []string
			if json.Unmarshal(req.Prompt, &ps) != nil || len(ps) == 0 {
				return "", "prompt: want a string or an array of strings"
			}
			p = strings.Join(ps, "")
		}
		g.text, g.promptTokens = p, s.tok.Count(p)
		return "", ""
	}
	if len(req.Messages) == 0 {
		return "", "messages: at least one message is required"
	}
	var b strings.Builder
	for _, m := range req.Messages {
		t := m.text()
		b.WriteString(m.Role + "\x00" + t + "\x00")
		g.promptTokens += s.tok.Count(t)
		if m.Role == "user" || g.text == "" {
			g.text = t
		}
	}
	return b.String(), ""
}

// injectFault picks request n's fault, if any. A fault that replaces the answer (rate limit,
// server error, unavailable) is answered here and failed is true; others shape the answer.
func (s *Server) injectFault(w http.ResponseWriter, req chatRequest, chat bool, n uint64) (fault *Fault, failed bool) {
	fault = pickFault(s.p.Faults, s.p.Seed, n)
	if fault == nil {
		return nil, false
	}
	s.add(func(st *Stats) { st.Faults[fault.Kind]++ })
	switch fault.Kind {
	case FaultRateLimit:
		w.Header().Set("Retry-After", strconv.Itoa(fault.RetryAfter))
		s.fail(w, http.StatusTooManyRequests, "RateLimitError", "Rate limit exceeded (simulated): retry after "+strconv.Itoa(fault.RetryAfter)+"s.")
		return fault, true
	case FaultServerError:
		if !s.streamInBandError(w, req.Stream, chat, n, "Internal server error (simulated).") {
			s.fail(w, http.StatusInternalServerError, "InternalServerError", "Internal server error (simulated).")
		}
		return fault, true
	case FaultUnavailable:
		s.fail(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "The server is temporarily unavailable (simulated).")
		return fault, true
	}
	return fault, false
}

// countOutcome counts, once the answer is over, the tokens a sequence emitted, its queue wait,
// and whether it finished or was canceled (canceling it in the engine when it did not finish).
func (s *Server) countOutcome(seq *sequence) {
	got := seq.emitted.Load()
	finished := int(got) >= seq.out
	if !finished {
		seq.canceled.Store(true)
	}
	s.add(func(st *Stats) {
		st.CompletionTokens += got
		st.QueueWait += time.Duration(seq.admitted.Load())
		if finished {
			st.Finished++
		} else {
			st.Canceled++
		}
	})
}

func (s *Server) newID(chat bool, n uint64) string {
	rng := rand.New(rand.NewPCG(uint64(s.p.Seed), n^0x6964)) // "id"
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	prefix := "cmpl-"
	if chat {
		prefix = "chatcmpl-"
	}
	return prefix + hex.EncodeToString(b[:])
}

// wait blocks until the engine has generated more than have tokens; it returns how many
// there are, or -1 when the client left or the engine stopped.
func (s *Server) wait(ctx context.Context, seq *sequence, have int) int {
	for {
		if n := int(seq.emitted.Load()); n > have {
			return n
		}
		select {
		case <-seq.notify:
		case <-ctx.Done():
			return -1
		case <-s.eng.done:
			return -1
		}
	}
}

// stream sends the tokens as SSE events, one per token, as the engine makes them.
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, c *call, seq *sequence, plan outputPlan,
	fault *Fault, includeUsage bool, u usage) {
	if rl, ok := s.wire.(relayer); ok { // a gateway's relay between the server and the client
		rw := newRelayWriter(w, rl.relayOptions())
		defer rw.close()
		w = rw
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	bw := bufio.NewWriterSize(w, 4096)
	flush := func() bool {
		return bw.Flush() == nil && rc.Flush() == nil
	}
	send := func(data []byte) {
		if data != nil {
			bw.WriteString("data: ")
			bw.Write(data)
			bw.WriteString("\n\n")
		}
	}
	flush()

	total := seq.out
	R, C := len(plan.reasoning), len(plan.content)
	faultAt := -1 // the token before which a mid-stream fault strikes
	if fault != nil {
		faultAt = min(fault.AfterTokens, total-1)
	}
	sent := 0 // tokens sent (or passed over when their piece is held back)
	for sent < total {
		n := s.wait(ctx, seq, sent)
		if n < 0 {
			if ctx.Err() == nil { // the engine stopped under us: cut the connection
				flush()
				panic(http.ErrAbortHandler)
			}
			return
		}
		for ; sent < n; sent++ {
			if sent == 0 {
				send(s.wire.chunk(c, event{kind: evRole}))
			}
			if sent == faultAt {
				switch fault.Kind {
				case FaultStall:
					if !flush() || !ctxtime.Sleep(ctx, fault.Duration) {
						return
					}
				case FaultDrop:
					flush()
					panic(http.ErrAbortHandler)
				case FaultMalformed:
					bw.WriteString(`data: {"id":"` + c.id + `","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":` + "\n\n")
					faultAt = -1
				}
			}
			ev := event{kind: evContent}
			switch {
			case sent < R:
				ev.kind, ev.text = evReasoning, plan.reasoning[sent]
			case sent < R+C:
				ev.text = plan.content[sent-R]
			}
			if sent == total-1 {
				ev.finish = plan.finish
			} else if ev.text == "" {
				continue // a held-back piece or nothing to show
			}
			c.started(seq)
			if e, ok := s.wire.(ender); ok && ev.finish != "" && c.chat {
				send(s.wire.chunk(c, event{kind: ev.kind, text: ev.text}))
				send(e.endChunk(c, ev.finish, u))
				continue
			}
			send(s.wire.chunk(c, ev))
		}
		if !flush() {
			return
		}
	}
	s.observe(c, seq) // the engine finished it: observed before the last chunks, as vLLM does
	if includeUsage && (fault == nil || fault.Kind != FaultNoUsage) {
		send(s.wire.usageChunk(c, u))
	}
	if fault == nil || fault.Kind != FaultNoDone {
		send(s.wire.done())
	}
	flush()
}

// respond waits for the whole output and sends it as one JSON body.
func (s *Server) respond(ctx context.Context, w http.ResponseWriter, c *call, seq *sequence, plan outputPlan, fault *Fault, u usage) {
	for have := 0; have < seq.out; {
		if have = s.wait(ctx, seq, have); have < 0 {
			if ctx.Err() == nil {
				panic(http.ErrAbortHandler)
			}
			return
		}
		c.started(seq)
	}
	s.observe(c, seq)
	up := &u
	if fault != nil {
		switch fault.Kind {
		case FaultStall:
			if !ctxtime.Sleep(ctx, fault.Duration) {
				return
			}
		case FaultDrop:
			panic(http.ErrAbortHandler)
		case FaultNoUsage:
			up = nil
		}
	}
	body := s.wire.response(c, plan.text(), plan.reasonText(), plan.finish, up)
	if fault != nil && fault.Kind == FaultMalformed {
		body = body[:len(body)/2]
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// started notes, at the first token, when it was sent and when the engine took the prompt
// (server timings: dialect.go, dialect_llamacpp.go).
func (c *call) started(seq *sequence) {
	if c.first.IsZero() {
		c.first = time.Now()
		c.prefillStart = seq.arrived.Add(time.Duration(seq.admitted.Load()))
	}
}

// cachedTokens is how many of the prompt's tokens the prompt cache serves: llamacpp only,
// unless the request says "cache_prompt": false.
func (s *Server) cachedTokens(req chatRequest, whole string, promptTokens int) int {
	if _, ok := s.wire.(llamacpp); !ok || whole == "" || (req.CachePrompt != nil && !*req.CachePrompt) {
		return 0
	}
	return s.prompts.lookup(whole, promptTokens)
}
