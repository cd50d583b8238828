# The two commands a newcomer needs: `make run` and `make test`.
GO      ?= go
NPM     ?= npm
BIN     := bin/bff
MINIAPP := miniapp

.PHONY: run test bench load build miniapp miniapp-deps services go-test miniapp-test e2e clean

## run: build the H5 and start the server in embedded mode on http://127.0.0.1:8080
run: miniapp
	$(GO) run ./bff serve

## test: every test — Go unit and integration (real MariaDB + Redis), H5 unit, browser end-to-end
test: services go-test miniapp-test e2e

## bench: benchmarks beside their floors (real MariaDB + Redis); see docs/PERFORMANCE.md
bench: services
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./internal/showcode/ ./internal/verify/ ./internal/reminder/ ./internal/importer/

## load: the load and fault harness (two servers, toxiproxy in front of MariaDB and Redis, ~3 min); see docs/PERFORMANCE.md
load: services
	$(GO) test -tags load -run '^(TestLoad|TestSIGTERMUnderLoadFailsNoRequest)$$' -count 1 -v -timeout 20m ./bff/

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
	$(GO) vet ./...
	$(GO) test -count=1 ./...

miniapp-test: miniapp-deps
	cd $(MINIAPP) && $(NPM) test

# The browser tests build the H5 themselves and run the server binary built here.
e2e: miniapp-deps
	$(GO) build -o $(BIN) ./bff
	cd $(MINIAPP) && ELICENCE_BFF_BIN=$(CURDIR)/$(BIN) $(NPM) run test:e2e

clean:
	rm -rf bin data $(MINIAPP)/dist
