// Package healthcheck is the container health check of both services
// (`server healthcheck`, `tasks healthcheck`): the distroless image has no
// shell and no curl, so the binary checks itself. It asks the process in the
// same container for GET /v1/version on the loopback interface and $PORT.
package healthcheck

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Timeout bounds one check; Docker's own timeout should be longer.
const Timeout = 3 * time.Second

// Check answers nil when GET http://127.0.0.1:$PORT/v1/version answers 200;
// defaultPort is the service's port when PORT is unset.
func Check(ctx context.Context, getenv func(string) string, defaultPort int) error {
	port := defaultPort
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("PORT=%q: want a port number", v)
		}
		port = p
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/v1/version"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: GET %s answered %s", url, resp.Status)
	}
	return nil
}
