# APS: one provisioning server for a mixed VoIP fleet.
#   docker build -t aps .
#   docker run -d -p 8080:8080 -p 8443:8443 -p 2121:2121 -p 40000-40100:40000-40100 \
#     -e APS_PUBLIC_URL=http://<address devices use>:8080 -e APS_FTP_PASV_URL=<that address> -v aps-data:/data aps
# The image runs the compiled JavaScript (dist/): no TypeScript loader, no dev dependencies at run time.
# Node: the current LTS line (package.json "engines" accepts >=20.19; Node 20 itself reached end of life in
# April 2026). Builder and runtime must use the same image, so native modules match.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- builder: npm ci (its `prepare` step compiles to dist/), then only production node_modules are kept.
# The toolchain is there for better-sqlite3 when no prebuilt binary fits.
FROM ${NODE_IMAGE} AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
# The web console (built by vite into dist/console/ in the same `prepare` step).
COPY console ./console
COPY scripts/console-size.mjs ./scripts/
RUN npm ci --no-audit --no-fund \
 && test -f dist/bin/main.js \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime: compiled code, production node_modules, the demo profiles; no compiler, no TypeScript.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    APS_DATA=/data
WORKDIR /app
COPY --from=builder /app/node_modules ./node_modules
COPY --from=builder /app/dist ./dist
# package.json marks dist/ as ES modules and is where APS finds its package folder (profiles/);
# bin/aps.js lets `docker exec <container> node bin/aps.js device list` work as on a host.
COPY package.json ./
COPY bin/aps.js ./bin/aps.js
COPY profiles ./profiles
# The data folder (SQLite, blobs, secret key, TLS certificate) is the only place APS writes.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# HTTP, HTTPS, FTP control, FTP passive range (config ftp.pasvMin..pasvMax).
EXPOSE 8080 8443 2121 40000-40100
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.APS_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --max-semi-space-size=4: src/cli/heap-flags.ts (V8 reads it only at start; `aps serve` sets the rest itself).
CMD ["node", "--max-semi-space-size=4", "dist/bin/main.js", "serve"]
