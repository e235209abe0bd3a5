# fairgig: `make run` starts everything on embedded defaults, `make test` tests it.
CARGO ?= cargo

.PHONY: run test lint bench fmt build

## run: build (release) and serve on http://127.0.0.1:8080 with SQLite under ./data
run:
	$(CARGO) run --release --locked -p fairgig-server --bin fairgig -- serve

## test: every test of the workspace (service-backed ones need FAIRGIG_TEST_* URLs, else they SKIP)
test:
	$(CARGO) test --workspace --locked

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## bench: benchmarks that print figures (PostgreSQL too when FAIRGIG_TEST_POSTGRES_URL is set)
bench:
	$(CARGO) build --release --locked -p fairgig-server --bin fairgig
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty bench queue
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty bench pipeline
	./target/release/fairgig bench bias

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace --locked
