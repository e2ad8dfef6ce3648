# pg-backup-api — build, test, and a real Barman sandbox.
#   make sandbox   real Barman 3.4, 3.13.3 and Debian unstable's + PostgreSQL 15 + sshd on loopback, and `serve` on 127.0.0.1:7480
#   make check     the whole suite: lint, unit and integration tests (-race), fuzz smoke, end-to-end on real Barman

GO          ?= go
BIN         ?= pg-backup-api
SANDBOX_DIR ?= /var/tmp/pg-backup-api-sandbox
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE        ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS     := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

export SANDBOX_DIR
SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c

# Tests go through cmd/testreport: plain go test output, a closing
# "N passed, N failed, N skipped" line, and with NO_SKIPS=1 (CI sets it) a
# failure when any test was skipped, because a skip means a tool was missing.
NO_SKIPS    ?= $(if $(CI),1,)
TESTREPORT  := $(GO) run ./cmd/testreport $(if $(NO_SKIPS),-no-skips,)

.PHONY: all build lint test fuzz-smoke e2e check sandbox sandbox-stop clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/
	$(GO) tool staticcheck ./...
	$(GO) tool staticcheck -tags e2e ./e2e/

test:
	$(GO) test -json -race -count=1 ./... | $(TESTREPORT)

# End-to-end: brings the sandbox up (installing Barman 3.4, PostgreSQL, sshd and
# rsync with apt-get when missing, and fetching Debian 13's Barman 3.13.3 and
# Debian unstable's (3.20 or later) into it; needs root) and runs the e2e
# suite on it: every case on each of the three Barmans that has its command.
e2e:
	@start=$$(date +%s); \
	  scripts/sandbox up; rc=$$?; up=$$(date +%s); \
	  echo "e2e: scripts/sandbox up took $$(( up - start ))s"; \
	  if [ $$rc -eq 0 ]; then \
	    PG_BACKUP_API_E2E_ENV=$(SANDBOX_DIR)/env $(GO) test -json -tags e2e -count=1 -v -timeout 30m ./e2e/ | $(TESTREPORT) -v; rc=$$?; \
	    echo "e2e: the end-to-end tests on Barman 3.4, 3.13.3 and Debian unstable's took $$(( $$(date +%s) - up ))s"; \
	  fi; exit $$rc

# Each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
FUZZTIME ?= 5s
fuzz-smoke:
	FUZZTIME=$(FUZZTIME) scripts/fuzz-smoke

check: lint test fuzz-smoke e2e

sandbox: build
	scripts/quickstart ./$(BIN)

sandbox-stop:
	scripts/quickstart --stop
	scripts/sandbox stop

clean:
	rm -f $(BIN)

.PHONY: docs release-check

# The shell completions (completions/) and the man page (man/) are generated
# from the command-line definition by cmd/gen-docs (also run by go generate
# ./cli/); cmd/gen-docs/gendocs_test.go fails when they are stale.
docs:
	$(GO) run ./cmd/gen-docs -dir .

# Build a snapshot release with goreleaser (installed if missing), check the
# tarball and the .deb, install the .deb, try it, and remove it (root, Debian).
release-check:
	scripts/release-check

.PHONY: bench bench-go
# Performance: the Go benchmarks of the store and the HTTP handlers, then
# bench/run: synthetic stores of 1,000 and 10,000 operations served on
# 127.0.0.1 and measured with wrk against the targets (root, Debian: installs
# wrk and curl with apt-get when missing; about 3 minutes).
bench: bench-go
	bench/run

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./ops/ ./store/ ./httpd/
	$(GO) test -run '^$$' -bench . -benchmem ./metrics/
	$(GO) test -run '^$$' -bench MetricsScrape -benchmem ./cli/
	$(GO) test -run '^$$' -bench Drain -benchtime 2000x ./runner/