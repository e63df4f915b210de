# conform: build, test and benchmark targets. `make test` is what CI runs.
GO ?= go
SHARED ?= ../shared

.PHONY: build test lint bench demo

build:
	$(GO) build -o bin/conform ./cmd/conform

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: lint
	$(GO) test -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: build
	./bin/conform demo
