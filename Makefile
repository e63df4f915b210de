# conform: build, test and benchmark targets. `make test` is what CI runs.
GO ?= go
SHARED ?= ../shared

.PHONY: build test lint staticcheck bench packages demo

build:
	$(GO) build -o bin/conform ./cmd/conform

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: lint
	$(GO) test -count=1 -timeout 15m ./...

# staticcheck, fetched through the Go module proxy (not part of CI's make test).
STATICCHECK_VERSION ?= v0.8.2
staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The FHIR packages the demo needs, installed into the FHIR package cache from
# the shared data folder (elsewhere: conform packages install name#version).
FHIR_PACKAGES = $(SHARED)/fhir/packages/hl7.fhir.r4.core-4.0.1.tgz \
	$(SHARED)/fhir/packages/hl7.terminology.r4-7.0.1.tgz \
	$(SHARED)/fhir/sources/uk-core-2.0.2

packages: build
	./bin/conform packages install $(FHIR_PACKAGES)

demo: packages
	./bin/conform demo
