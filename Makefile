# Huey API — everyday commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VERSION ?= $(shell git describe --tags --always 2>/dev/null || echo 0.1.0)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN     := .data/bin

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}' | sed 's/\$$\$$/$$/g'

SEED ?= demo

.PHONY: run
run: build ## start Postgres (private, under ./.data) + API (:8000) + task server (:8001) with a demo school and tokens; SEED=none skips the demo; Ctrl-C stops all
	@exec $(BIN)/run-local -server $(BIN)/server -tasks $(BIN)/tasks -seed $(SEED)

.PHONY: build
build: ## build the server and tasks binaries into .data/bin
	@mkdir -p $(BIN)
	@echo "make: building the API server (the first build takes a few minutes on a small machine; later ones seconds)…"
	@go build -ldflags "$(LDFLAGS)" -o $(BIN)/server ./server
	@echo "make: building the task server…"
	@go build -ldflags "$(LDFLAGS)" -o $(BIN)/tasks ./tasks
	@echo "make: building the launcher…"
	@go build -o $(BIN)/run-local ./scripts/run-local

.PHONY: test
test: firebase-emulator-deps ## run every test (Go, Rego, RLS) with the race detector; starts its own Postgres and Firebase Auth emulator
	go test -race ./...

.PHONY: access-report
access-report: ## regenerate docs/access-matrix.md and .html: every account × resource × action, Rego vs row security (docs/security-review.md)
	go run ./scripts/access-report

.PHONY: soak
soak: ## run the cross-tenant differential test longer (DIFF_CHECKS, default 200000)
	DIFF_CHECKS=$${DIFF_CHECKS:-200000} go test -race -timeout 60m -count=1 -v -run '^TestHardening_CrossTenantDifferential$$' ./server/internal/api

FUZZTIME ?= 10s

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 10s)
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

.PHONY: firebase-emulator-deps
firebase-emulator-deps: scripts/firebase-emulator/node_modules/.package-lock.json ## install the pinned firebase-tools (Auth emulator for the tests)

scripts/firebase-emulator/node_modules/.package-lock.json: scripts/firebase-emulator/package-lock.json
	cd scripts/firebase-emulator && npm ci --no-audit --no-fund

.PHONY: bench
bench: ## measure HTTP vs the API's own SQL vs ideal SQL in one sitting (docs/performance.md); BENCH_FLAGS="-small" for a quick run
	@mkdir -p $(BIN)
	go build -o $(BIN)/bench ./scripts/bench
	@exec $(BIN)/bench $(BENCH_FLAGS)

.PHONY: vet
vet: ## go vet and gofmt check
	go vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# sqlc, pinned; `go run` builds it once into the Go build cache (cgo: its
# Postgres parser is C, so the first build takes several minutes).
SQLC := go run github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1

.PHONY: sqlc
sqlc: ## regenerate schema/queries/*.sql.go from schema/queries/*.sql and the migrations (sqlc v1.31.1)
	cd schema && $(SQLC) generate

.PHONY: sqlc-check
sqlc-check: ## fail when schema/queries/*.sql.go is not what sqlc generates from the .sql files
	cd schema && $(SQLC) diff

# oapi-codegen, pinned (built on kin-openapi); `go run` builds it once into the
# Go build cache. It turns server/internal/api/openapi.yaml into the Go request
# and response types of server/internal/api/apitypes.
OAPI_CODEGEN := go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2
APITYPES := server/internal/api/apitypes

.PHONY: openapi-gen
openapi-gen: ## regenerate server/internal/api/apitypes from openapi.yaml (oapi-codegen v2.8.2) and record the spec's hash
	cd $(APITYPES) && $(OAPI_CODEGEN) -config oapi-codegen.yaml ../openapi.yaml
	cd $(APITYPES) && sha256sum ../openapi.yaml oapi-codegen.yaml > openapi.sha256

.PHONY: openapi-check
openapi-check: ## fail when server/internal/api/apitypes is not what oapi-codegen generates from openapi.yaml
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	  (dir=$$PWD/$(APITYPES) && cd $$tmp && $(OAPI_CODEGEN) -config $$dir/oapi-codegen.yaml $$dir/../openapi.yaml) && \
	  diff -u $(APITYPES)/apitypes.gen.go $$tmp/apitypes.gen.go && \
	  (cd $(APITYPES) && sha256sum --quiet -c openapi.sha256) && echo "apitypes is current"

GOLANGCI_VERSION := 2.15.0
GOLANGCI := $(shell go env GOPATH)/bin/golangci-lint

.PHONY: lint
lint: vet golangci-lint ## static checks: vet, gofmt, golangci-lint (.golangci.yml: the import graph, staticcheck)
	$(GOLANGCI) run ./...

.PHONY: golangci-lint
golangci-lint: ## install the pinned golangci-lint into $$(go env GOPATH)/bin unless it is there
	@if [ "$$($(GOLANGCI) version --short 2>/dev/null)" != "$(GOLANGCI_VERSION)" ]; then \
	  echo "make: installing golangci-lint v$(GOLANGCI_VERSION) (a few minutes, once)…"; \
	  go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v$(GOLANGCI_VERSION); \
	fi

.PHONY: migrate
migrate: ## apply pending migrations to $$MIGRATION_DATABASE_URL (or $$DATABASE_URL)
	go run ./server migrate

.PHONY: migrate-status
migrate-status: ## list applied and pending migrations
	go run ./server migrate status

.PHONY: migrate-hash
migrate-hash: ## rewrite schema/migrations/atlas.sum after adding a NEW migration file
	go run ./scripts/migrate-hash

.PHONY: deploy-check
deploy-check: ## validate a deployment's environment for both services: API_ENV=docs/deploy/api.env.yaml TASKS_ENV=docs/deploy/tasks.env.yaml [FROM_ENV=1] [CONNECT=1] (docs/deploy-gcp.md)
	@rc=0; \
	go run ./server check-config $(foreach f,$(API_ENV),-env $(f)) $(if $(FROM_ENV),-from-env) $(if $(CONNECT),-connect) || rc=1; \
	go run ./tasks check-config $(foreach f,$(TASKS_ENV),-env $(f)) $(if $(FROM_ENV),-from-env) $(if $(CONNECT),-connect) || rc=1; \
	exit $$rc

.PHONY: db-reset
db-reset: ## delete the private development database (./.data/postgres) and its secrets
	rm -rf .data/postgres .data/secrets.json .data/dev.env

.PHONY: clean
clean: ## remove build output and the private test cluster
	rm -rf $(BIN) .data/test-postgres
