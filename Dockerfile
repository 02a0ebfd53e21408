# syntax=docker/dockerfile:1
# Openhouse: a multi-stage build. The runtime image holds the binary, CA certificates and
# nothing else; it runs as a non-root user with its data (SQLite file, media) in /data.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# Cache the registry and the target dir between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && cp target/release/openhouse /usr/local/bin/openhouse \
    && strip /usr/local/bin/openhouse

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home openhouse \
    && mkdir -p /data \
    && chown openhouse:openhouse /data
COPY --from=build /usr/local/bin/openhouse /usr/local/bin/openhouse
USER openhouse
WORKDIR /data
ENV OPENHOUSE_BIND=0.0.0.0:8080 \
    OPENHOUSE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/openhouse"]
CMD ["serve"]
