# One image, both services: `server` (public API, :8000) or `tasks` (internal, :8001).
#   docker build -t huey-api .
#   docker run huey-api server migrate     # apply migrations ($MIGRATION_DATABASE_URL)
#   docker run -p 8000:8000 huey-api       # the API (default command)
#   docker run -p 8001:8001 huey-api tasks # the internal task server
# Not built in CI (no Docker engine there); keep it plain and standard.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0
ARG COMMIT=unknown
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/server ./server \
 && go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/tasks ./tasks

# Static binaries on a minimal base, run as an unprivileged user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /out/tasks /usr/local/bin/
USER nonroot:nonroot
ENV PORT=8000
EXPOSE 8000 8001
CMD ["server"]
