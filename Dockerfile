# One image for the worker and the API (docker-compose.yml runs it twice with different commands).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY connectors ./connectors
COPY workflows ./workflows
COPY mappings ./mappings
COPY tsconfig.json ./
USER node
ENTRYPOINT ["node", "--max-semi-space-size=64", "--import", "tsx", "src/cli/main.ts"]
CMD ["doctor"]
