package labels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wriveted/huey-api/schema/catalog"
)

// Defaults of OpenAI (tasks.md §5.2).
const (
	// DefaultModel is the model used when OpenAI.Model is empty (OPENAI_MODEL).
	DefaultModel = "gpt-4"
	// DefaultTimeout bounds one chat-completion request when OpenAI.Timeout
	// is zero (OPENAI_TIMEOUT).
	DefaultTimeout = 60 * time.Second
	// DefaultRetries is the number of re-requests after an invalid answer
	// when OpenAI.Retries is zero.
	DefaultRetries = 2
	// maxResponseBytes caps how much of a response body is read.
	maxResponseBytes = 4 << 20
)

// OpenAI is an OpenAI-compatible chat-completions provider. The zero value
// of every field but BaseURL and APIKey selects its default. It is safe for
// concurrent use when HTTP is.
type OpenAI struct {
	// BaseURL is the API root, e.g. https://api.openai.com/v1; requests go
	// to BaseURL + "/chat/completions".
	BaseURL string
	// APIKey is sent as "Authorization: Bearer <APIKey>" and never appears
	// in an error.
	APIKey string
	// Model is the chat model; "" means DefaultModel (OPENAI_MODEL).
	Model string
	// Timeout bounds each request; 0 means DefaultTimeout (OPENAI_TIMEOUT).
	Timeout time.Duration
	// HTTP sends the requests; nil means a client with Timeout.
	HTTP *http.Client
	// Retries is the number of re-requests after an invalid answer; 0 means
	// DefaultRetries, a negative value none.
	Retries int
}

var _ Provider = (*OpenAI)(nil)

// chatMessage is one message of a chat-completions conversation.
type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatRequest is the chat-completions request body.
type chatRequest struct {
	Model          string         `json:"model"`
	Messages       []chatMessage  `json:"messages"`
	ResponseFormat responseFormat `json:"response_format"`
}

// responseFormat asks for a JSON object answer.
type responseFormat struct {
	Type string `json:"type"`
}

// chatResponse is the part of a chat-completions response read here.
type chatResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

// apiError is the error body of an OpenAI-compatible API. Only its type and
// code are reported: the message may quote the credentials.
type apiError struct {
	Error struct {
		Type string `json:"type"`
		Code any    `json:"code"`
	} `json:"error"`
}

// Label asks the model to label the work described by in. An unparsable or
// schema-invalid answer is re-requested with the validation error appended
// to the conversation, up to Retries times; after that the error wraps
// ErrInvalidAnswer. A failed request (transport error or non-2xx status) is
// returned at once, without retrying.
func (o *OpenAI) Label(ctx context.Context, in Input) (catalog.LabelSetPatch, error) {
	user, err := userMessage(in)
	if err != nil {
		return catalog.LabelSetPatch{}, fmt.Errorf("label work %d: %w", in.WorkID, err)
	}
	messages := []chatMessage{
		{Role: "system", Content: systemPrompt()},
		{Role: "user", Content: user},
	}
	attempts := 1 + o.retries()
	var invalid error
	for range attempts {
		content, err := o.complete(ctx, messages)
		if err != nil {
			return catalog.LabelSetPatch{}, fmt.Errorf("label work %d: %w", in.WorkID, err)
		}
		l, err := parseAnswer(content)
		if err == nil {
			return l.patch(), nil
		}
		invalid = err
		messages = append(messages,
			chatMessage{Role: "assistant", Content: content},
			chatMessage{Role: "user", Content: retryMessage(err)})
	}
	return catalog.LabelSetPatch{}, fmt.Errorf("label work %d after %d attempts: %w: %w", in.WorkID, attempts, ErrInvalidAnswer, invalid)
}

// parseAnswer decodes and validates the model's answer.
func parseAnswer(content string) (*labels, error) {
	content = stripFence(content)
	if content == "" {
		return nil, errors.New("the answer is empty")
	}
	var a answer
	if err := json.Unmarshal([]byte(content), &a); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON object of the schema: %w", err)
	}
	return validate(&a)
}

// stripFence removes surrounding whitespace and a Markdown code fence, which
// some OpenAI-compatible servers add despite the JSON response format.
func stripFence(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "```"); ok {
		if body, ok := strings.CutSuffix(rest, "```"); ok {
			if i := strings.IndexByte(body, '\n'); i >= 0 && !strings.HasPrefix(strings.TrimSpace(body[:i]), "{") {
				body = body[i+1:] // drop a language tag such as "json"
			}
			s = strings.TrimSpace(body)
		}
	}
	return s
}

// complete sends one chat-completions request and returns the first
// choice's content.
func (o *OpenAI) complete(ctx context.Context, messages []chatMessage) (string, error) {
	body, err := json.Marshal(chatRequest{
		Model:          o.model(),
		Messages:       messages,
		ResponseFormat: responseFormat{Type: "json_object"},
	})
	if err != nil {
		return "", fmt.Errorf("encode chat completion request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.BaseURL, "/")+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("build chat completion request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+o.APIKey)

	resp, err := o.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("chat completion request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", fmt.Errorf("read chat completion response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", statusError(resp.StatusCode, raw, o.APIKey)
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return "", fmt.Errorf("decode chat completion response: %w", err)
	}
	if len(cr.Choices) == 0 {
		return "", errors.New("chat completion response has no choices")
	}
	return cr.Choices[0].Message.Content, nil
}

// statusError describes a non-2xx answer by its status and, when the body
// is an API error, its type and code; never by the body's message, which
// may quote the credentials. Should the type or code hold the key anyway,
// it is redacted.
func statusError(status int, body []byte, apiKey string) error {
	var e apiError
	detail := ""
	if json.Unmarshal(body, &e) == nil {
		var parts []string
		if e.Error.Type != "" {
			parts = append(parts, "type "+e.Error.Type)
		}
		if e.Error.Code != nil {
			parts = append(parts, fmt.Sprintf("code %v", e.Error.Code))
		}
		if len(parts) > 0 {
			detail = " (" + strings.Join(parts, ", ") + ")"
		}
		if apiKey != "" {
			detail = strings.ReplaceAll(detail, apiKey, "[redacted]")
		}
	}
	return fmt.Errorf("chat completion: status %d %s%s", status, http.StatusText(status), detail)
}

func (o *OpenAI) model() string {
	if o.Model == "" {
		return DefaultModel
	}
	return o.Model
}

func (o *OpenAI) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o *OpenAI) retries() int {
	switch {
	case o.Retries == 0:
		return DefaultRetries
	case o.Retries < 0:
		return 0
	}
	return o.Retries
}

func (o *OpenAI) client() *http.Client {
	if o.HTTP != nil {
		return o.HTTP
	}
	return &http.Client{Timeout: o.timeout()}
}
