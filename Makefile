# tracker: build, test, lint, demo.
GO      ?= go
BIN     ?= bin/tracker
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

# ECharts for the report's index.html: npm's echarts@$(ECHARTS_VERSION), fetched once into a
# git-ignored path, checked against its sha384 and embedded (build tag embedecharts), so a
# `make build` binary writes a page that needs no network. Version and hash are also in
# report/echarts.go (a test keeps the two the same). A plain `go build` embeds nothing.
ECHARTS_VERSION := 5.6.0
ECHARTS_SHA384  := a4f8b4cf1040a03bbaf895d6fc2ebc5192ef05452d53eef3a278627f8debaa3ee9c6c1b2ab2ab37226a7d918f7ed1b2c
ECHARTS_JS      := report/assets/echarts.min.js

.PHONY: build test lint bench demo clean

build: $(ECHARTS_JS)
	CGO_ENABLED=0 $(GO) build -tags embedecharts -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

$(ECHARTS_JS):
	@command -v npm >/dev/null || { echo "make build fetches ECharts $(ECHARTS_VERSION) with npm: install npm (apt-get install npm), or use CGO_ENABLED=0 go build (its pages load ECharts from the CDN)"; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null && tar xzf echarts-$(ECHARTS_VERSION).tgz package/dist/echarts.min.js) && \
	  echo "$(ECHARTS_SHA384)  $$tmp/package/dist/echarts.min.js" | sha384sum --check --quiet - && \
	  mkdir -p $(dir $@) && cp "$$tmp/package/dist/echarts.min.js" $@.tmp && mv $@.tmp $@ && \
	  echo "fetched ECharts $(ECHARTS_VERSION) (npm, sha384 checked) -> $@"

# The browser test renders a report written by the `make build` binary (TRACKER_BIN).
test: lint build
	TRACKER_BIN=$(abspath $(BIN)) $(GO) test -count=1 ./...

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...

# Small benchmarks as usual; the large ones (a 100k-request run, 1M-request databases: built
# once and cached in $TMPDIR) once each. About 15 minutes on 2 cores; README.md, "Scale".
LARGE_BENCH := Scale|1M|StreamOverhead

bench:
	$(GO) test -run '^$$' -bench . -skip '$(LARGE_BENCH)' -benchmem ./...
	$(GO) test -run '^$$' -bench '$(LARGE_BENCH)' -benchtime 1x -timeout 60m ./...

demo:
	BIN=$(BIN) ./examples/demo.sh

clean:
	rm -rf bin report/assets
