# The two commands a newcomer needs: `make run` and `make test`.
GO      ?= go
NPM     ?= npm
BIN     := bin/bff
MINIAPP := miniapp

# Each suite leaves its counts here; `make test` ends with one line for all.
RESULTS := $(CURDIR)/bin/test-results

SHELL       := bash
.SHELLFLAGS := -o pipefail -c

.PHONY: run test bench load build miniapp miniapp-deps services lint go-test miniapp-test e2e clean

## run: build the H5 and start the server in embedded mode on http://127.0.0.1:8080
# The built binary runs with no `go run` in between; on Ctrl-C it drains and
# exits 0, and the trap keeps the recipe's shell from turning the interrupt
# into an error report.
run: miniapp
	$(GO) build -o $(BIN) ./bff
	@trap 'exit 0' INT; ./$(BIN) serve

## test: every test — lint, Go unit and integration (real MariaDB + Redis), H5 unit, browser
## end-to-end — then one summary line; every suite runs even when an earlier one failed.
test: services
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory go-test || status=1; \
	$(MAKE) --no-print-directory miniapp-test || status=1; \
	$(MAKE) --no-print-directory e2e || status=1; \
	$(GO) run ./internal/tools/testsum -report $(RESULTS) || status=1; \
	exit $$status

## lint: golangci-lint v2, pinned in go.mod as a Go tool; config in .golangci.yml
lint:
	@mkdir -p $(RESULTS)
	@$(GO) tool golangci-lint run ./... ; status=$$?; echo $$status > $(RESULTS)/lint.status; exit $$status

## bench: benchmarks beside their floors (real MariaDB + Redis), and the H5 on a throttled phone; see docs/PERFORMANCE.md
bench: services miniapp-deps
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./internal/showcode/ ./internal/verify/ ./internal/reminder/ ./internal/importer/ ./internal/stats/ ./internal/seal/
	$(GO) build -o $(BIN) ./bff
	cd $(MINIAPP) && $(NPM) run build && ELICENCE_BFF_BIN=$(CURDIR)/$(BIN) node e2e/throttled.mjs

## load: the load and fault harness (two servers, toxiproxy in front of MariaDB and Redis, ~3 min); see docs/PERFORMANCE.md
load: services
	$(GO) test -tags load -run '^TestLoad$$' -count 1 -v -timeout 20m ./bff/

build: miniapp
	$(GO) build -o $(BIN) ./bff

miniapp-deps: $(MINIAPP)/node_modules/.package-lock.json

$(MINIAPP)/node_modules/.package-lock.json: $(MINIAPP)/package-lock.json
	cd $(MINIAPP) && $(NPM) ci --no-audit --no-fund

miniapp: miniapp-deps
	cd $(MINIAPP) && $(NPM) run build

services:
	@bash deploy/local/ensure-services.sh

go-test:
	@mkdir -p $(RESULTS)
	$(GO) vet ./...
	$(GO) test -count=1 -json ./... | $(GO) run ./internal/tools/testsum -go $(RESULTS)/go.counts

# Type check (vue-tsc), ESLint + Prettier, then the Vitest unit and page tests.
miniapp-test: miniapp-deps
	@mkdir -p $(RESULTS)
	cd $(MINIAPP) && $(NPM) run typecheck && $(NPM) run lint && $(NPM) test 2>&1 | tee $(RESULTS)/miniapp.log

# The browser tests build the H5 themselves and run the server binary built here.
e2e: miniapp-deps
	$(GO) build -o $(BIN) ./bff
	@mkdir -p $(RESULTS)
	cd $(MINIAPP) && ELICENCE_BFF_BIN=$(CURDIR)/$(BIN) $(NPM) run test:e2e 2>&1 | tee $(RESULTS)/e2e.log

clean:
	rm -rf bin data $(MINIAPP)/dist
