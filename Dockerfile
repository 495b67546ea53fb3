# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with dev dependencies, ship only production ones.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY test/harness ./test/harness
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/packages ./packages
COPY bin ./bin
COPY assets ./assets
COPY config/config.sample.yaml ./config/config.sample.yaml
RUN mkdir -p /data && chown node:node /data
USER node
# Mount your config at /app/config/config.yaml and the registration where it points to;
# the embedded database lives in /data unless database.url is set.
ENV MAB_DATABASE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 9000
ENTRYPOINT ["node", "bin/matrix-agent-bridge.js"]
CMD ["start", "--config", "config/config.yaml"]
