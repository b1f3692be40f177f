# Benchmark baseline only: the same app built the common single-stage way (build tools,
# dev dependencies, sources and npm all end up in the runtime image). Compare with
# app/Dockerfile; see benchmarks/images/RESULTS.md. Not for deployment.
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
RUN npm run build && npm test
ENV NODE_ENV=production PORT=8080
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "/app/dist/healthcheck.js"]
CMD ["node", "/app/dist/main.js"]
