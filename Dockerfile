# One image, every command: `server` (public API, :8000), `tasks` (internal, :8001),
# `server migrate`, `server check-config`, `import-books`. Each service listens on $PORT,
# else its own default (8000 / 8001); Cloud Run sets PORT itself.
#   docker build -t huey-api .
#   docker run -e MIGRATION_DATABASE_URL=… huey-api server migrate   # apply migrations
#   docker run -p 8000:8000 -e DATABASE_URL=… -e SECRET_KEY=… huey-api        # the API (default command)
#   docker run -p 8001:8001 -e DATABASE_URL=… -e SECRET_KEY=… -e INTERNAL_TASK_SECRET=… huey-api tasks
# No shell or curl in the image: `server healthcheck` / `tasks healthcheck` are the
# health checks (docker-compose.yml uses them). No Docker engine in CI: the compose
# file is tested against the same binaries instead (scripts/composecheck).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0
ARG COMMIT=unknown
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/ ./server ./tasks \
 && go build -trimpath -ldflags "-s -w" -o /out/ ./scripts/import-books

# Static binaries on a minimal base, run as an unprivileged user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /out/tasks /out/import-books /usr/local/bin/
USER nonroot:nonroot
EXPOSE 8000 8001
CMD ["server"]
