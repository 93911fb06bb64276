# APS: one provisioning server for a mixed VoIP fleet.
#   docker build -t aps .
#   docker run -d -p 8080:8080 -p 8443:8443 -p 2121:2121 -p 40000-40100:40000-40100 \
#     -e APS_PUBLIC_URL=http://<address devices use>:8080 -e APS_FTP_PASV_URL=<that address> -v aps-data:/data aps
# TypeScript runs through tsx (a runtime dependency): there is no build step, only native modules to compile.

# --- builder: production node_modules, with the toolchain better-sqlite3 needs when no prebuilt binary fits
FROM node:20-bookworm-slim AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime: same base image (so native modules and esbuild's binary match), no compiler
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    APS_DATA=/data
WORKDIR /app
COPY --from=builder /app/node_modules ./node_modules
COPY . .
# The data folder (SQLite, blobs, secret key, TLS certificate) is the only place APS writes.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# HTTP, HTTPS, FTP control, FTP passive range (config ftp.pasvMin..pasvMax).
EXPOSE 8080 8443 2121 40000-40100
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.APS_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/aps.js", "serve"]
