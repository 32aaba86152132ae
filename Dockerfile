# syntax=docker/dockerfile:1
# ccgate in a container: TypeScript compiled in a build stage (with the toolchain native addons
# such as better-sqlite3 need when no prebuilt binary fits), only runtime files in the final
# image, running as the unprivileged `node` user.
#
#   docker build -t ccgate .
#   docker run -d -p 127.0.0.1:8787:8787 -e GEMINI_API_KEY -e CCGATE_AUTH_TOKEN=<token> ccgate
#
# The container listens on 0.0.0.0, which ccgate only allows with a client token
# (CCGATE_AUTH_TOKEN): start-up stops with a message naming it otherwise.

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm ci` builds dist/ (the package's prepare script) and better-sqlite3 from source if needed.
RUN npm ci --no-audit --no-fund \
    && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CCGATE_HOST=0.0.0.0 \
    CCGATE_PORT=8787 \
    XDG_STATE_HOME=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ccgate.yaml.example ./
COPY bin ./bin
# /data: the request log and other state (mount a volume to keep it); /app stays read-only.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8787
# Plain node (the slim image has no curl): healthy when /health answers 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CCGATE_PORT||8787)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM: in-flight streams get --grace seconds; keep the runtime's stop timeout above it.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/ccgate.js"]
CMD ["start", "--grace", "10"]
