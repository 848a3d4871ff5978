# syntax=docker/dockerfile:1
# eventfold: one image for every role; ROLES picks what a container runs (see docker-compose.yml).
#   docker build -t eventfold .
#   docker run -p 3000:3000 -e AUTH_JWKS_URL=… -e AUTH_ISSUER=… -e AUTH_AUDIENCE=… eventfold
#                                                 # every role, embedded stores under /app/data
#   docker run -p 3000:3000 -e NODE_ENV=development eventfold   # a try: tokens from a development key,
#   docker exec <container> npm run -s token:dist -- ada        #   signed by this
# (NODE_ENV=production, set below, refuses to start without an identity provider or AUTH_DISABLED=true.)
# The ops scripts ship compiled next to the app (dist/scripts/), run with the image's own settings:
#   docker compose exec projector npm run parked:dist -- list          # node dist/scripts/parked.js list
#   docker compose exec projector npm run projections:rebuild:dist -- <projection>
#   docker compose exec projector npm run events:dist -- verify        # checks every stored event
#   docker compose exec projector npm run events:dist -- trace <correlation-id>   # stream, tail, trace
ARG NODE_VERSION=22

# ── build: dev dependencies, the TypeScript compiler, and the tools to compile better-sqlite3 ──
FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 is a native addon: npm ci compiles it when no prebuilt binary fits this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY domain ./domain
COPY commands ./commands
COPY projections ./projections
COPY read-api ./read-api
COPY infra ./infra
COPY app ./app
COPY scripts ./scripts
RUN npm run build \
 # Production dependencies only; the native addon compiled above stays as it is.
 && npm prune --omit=dev --no-audit --no-fund

# ── runtime: compiled JavaScript and production dependencies, run as a non-root user ──
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data
WORKDIR /app
# package.json says "type": "module": without it Node would read dist/*.js as CommonJS.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The embedded SQLite event store writes here (mount a volume to keep it); nothing else is writable.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Liveness only: readiness (/health/ready) is for load balancers and may be 503 while a dependency
# is away, which is no reason to restart the container.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node runs as PID 1 and handles SIGTERM itself: a graceful stop, bounded by SHUTDOWN_TIMEOUT_MS.
# Give `docker stop --time` (compose: stop_grace_period) more than that.
CMD ["node", "dist/app/main.js"]
