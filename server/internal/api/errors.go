package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Messages of the original (api.md §0.2–0.3), kept in one place.
const (
	msgNotFound         = "Not Found"
	msgMethodNotAllowed = "Method Not Allowed"
	msgInternal         = "Internal Server Error"
)

// detail is the original's error body.
type detail struct {
	Detail any `json:"detail"`
}

// errorHandler sends every error in the original's shape, `{"detail": …}`.
// Handlers return errors and never write them. Unexpected errors are logged
// with the request id and answered with the original's plain-text 500; the
// private cause never reaches the client.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var he *echo.HTTPError
		if !errors.As(err, &he) || he.Code >= http.StatusInternalServerError {
			logger.Error("request failed",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", c.Request().Method),
				slog.String("path", c.Path()),
				slog.String("error", err.Error()))
			_ = c.String(http.StatusInternalServerError, msgInternal)
			return
		}
		msg := he.Message
		switch he.Code {
		case http.StatusNotFound:
			if msg == nil || msg == http.StatusText(http.StatusNotFound) || he == echo.ErrNotFound {
				msg = msgNotFound
			}
		case http.StatusMethodNotAllowed:
			msg = msgMethodNotAllowed
		}
		if s, ok := msg.(string); ok && s == "" {
			msg = http.StatusText(he.Code)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(he.Code)
			return
		}
		_ = c.JSON(he.Code, detail{Detail: msg})
	}
}
