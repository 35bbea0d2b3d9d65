# The registry API, built in release mode on the pinned toolchain.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p api --bin registry-api

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data registry \
 && mkdir -p /data && chown registry /data
COPY --from=build /src/target/release/registry-api /usr/local/bin/registry-api
USER registry
WORKDIR /data
ENV REGISTRY_HTTP__ADDR=0.0.0.0:8080 REGISTRY_DATA_DIR=/data REGISTRY_LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/registry-api"]
