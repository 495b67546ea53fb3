# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with dev dependencies, ship only production ones.
# The build context is an allowlist (.dockerignore): no node_modules, .git, tests or local secrets.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# Only the bridge is compiled here: the test harness, benchmarks and demo are not in the context.
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
COPY --from=build /app/packages ./packages
COPY bin ./bin
COPY assets ./assets
COPY config/config.sample.yaml ./config/config.sample.yaml
RUN mkdir -p /data && chown node:node /data
USER node
# Mount your config at /app/config/config.yaml. The registration (tokens) and the embedded
# database live in the /data volume; these variables win over the config file (see
# docs/deployment.md to put them elsewhere).
ENV MAB_DATABASE_DATA_DIR=/data \
    MAB_APPSERVICE_REGISTRATION=/data/registration.yaml
VOLUME ["/data"]
EXPOSE 9000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/matrix-agent-bridge.js"]
CMD ["start", "--config", "config/config.yaml"]
