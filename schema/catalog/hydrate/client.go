package hydrate

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	defaultTimeout  = 30 * time.Second
	defaultCoverURL = "https://covers.openlibrary.org/b/isbn/%s-L.jpg"
	maxBody         = 4 << 20 // provider responses are a few KiB
)

// xmlDeclRE matches an XML declaration wherever the provider put it.
var xmlDeclRE = regexp.MustCompile(`<\?xml[^>]*\?>`)

// Client talks to a Nielsen-style metadata provider (tasks.md §3.2–3.3).
// The zero value is not usable: BaseURL, ClientID and Password are required.
type Client struct {
	// BaseURL is NIELSEN_API_URL.
	BaseURL string
	// ClientID is NIELSEN_CLIENT_ID.
	ClientID string
	// Password is NIELSEN_PASSWORD. It is sent only as a query parameter and
	// never appears in an error.
	Password string
	// HTTP makes the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// CoverURL is the open cover URL with %s standing for the ISBN-13;
	// "" means "https://covers.openlibrary.org/b/isbn/%s-L.jpg".
	CoverURL string
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: defaultTimeout}
}

// Fetch returns the provider record for one ISBN-13: each child element tag of
// data/data/record mapped to its text (tasks.md §3.2–3.3). Errors wrap
// ErrNotFound, ErrUnavailable, ErrRateLimited or ErrProvider.
func (c *Client) Fetch(ctx context.Context, isbn13 string) (map[string]string, error) {
	body, err := c.get(ctx, isbn13)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w: %w", isbn13, ErrProvider, err)
	}
	rec, err := parse(body)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", isbn13, err)
	}
	return rec, nil
}

// get sends the query of tasks.md §3.2 and returns the body of a 200 response.
func (c *Client) get(ctx context.Context, isbn13 string) ([]byte, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse provider URL: %w", err)
	}
	q := u.Query()
	for k, v := range map[string]string{
		"clientId": c.ClientID, "password": c.Password,
		"from": "0", "to": "1",
		"indexType":  "0", // main database (2: large images)
		"format":     "7", // XML
		"resultView": "2", // long
		"field0":     "1", // search by ISBN
		"value0":     isbn13,
	} {
		q.Set(k, v)
	}
	bare := *u // what errors may show: no query, so no password
	bare.RawQuery = ""
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = bare.Redacted()
		}
		return nil, fmt.Errorf("request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("unexpected HTTP status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("response larger than %d bytes", maxBody)
	}
	return body, nil
}

// node is a generic XML element.
type node struct {
	XMLName  xml.Name
	Text     string `xml:",chardata"`
	Children []node `xml:",any"`
}

func (n *node) child(name string) *node {
	for i := range n.Children {
		if n.Children[i].XMLName.Local == name {
			return &n.Children[i]
		}
	}
	return nil
}

// find returns the first descendant named name, depth first.
func (n *node) find(name string) *node {
	for i := range n.Children {
		if n.Children[i].XMLName.Local == name {
			return &n.Children[i]
		}
		if d := n.Children[i].find(name); d != nil {
			return d
		}
	}
	return nil
}

// parse reads a provider response and checks its result code (tasks.md §3.3).
func parse(body []byte) (map[string]string, error) {
	// The declaration (ISO-8859-1) may come mid-document, which XML forbids;
	// drop it and decode the bytes ourselves: UTF-8 if valid, else Latin-1.
	body = xmlDeclRE.ReplaceAll(body, nil)
	if !utf8.Valid(body) {
		body = latin1ToUTF8(body)
	}
	var root node
	if err := xml.Unmarshal(body, &root); err != nil {
		return nil, fmt.Errorf("%w: parse response: %w", ErrProvider, err)
	}
	code := ""
	if n := root.child("resultCode"); n != nil {
		code = strings.TrimSpace(n.Text)
	}
	switch code {
	case "00":
	case "01":
		return nil, ErrUnavailable
	case "02":
		return nil, fmt.Errorf("%w: credentials rejected (result code 02)", ErrProvider)
	case "03":
		return nil, fmt.Errorf("%w: provider server error (result code 03)", ErrProvider)
	case "50":
		return nil, ErrRateLimited
	default:
		return nil, fmt.Errorf("%w: unknown result code %q", ErrProvider, code)
	}
	hits := root.child("hits")
	if hits == nil {
		return nil, ErrNotFound
	}
	n, err := strconv.Atoi(strings.TrimSpace(hits.Text))
	if err != nil {
		return nil, fmt.Errorf("%w: parse hits: %w", ErrProvider, err)
	}
	if n < 1 {
		return nil, ErrNotFound
	}
	// The record sits at data/data/record; accept any depth below data.
	var record *node
	if data := root.child("data"); data != nil {
		record = data.find("record")
	}
	if record == nil {
		return nil, fmt.Errorf("%w: %d hits but no record", ErrProvider, n)
	}
	rec := make(map[string]string, len(record.Children))
	for _, f := range record.Children {
		rec[f.XMLName.Local] = f.Text
	}
	return rec, nil
}

func latin1ToUTF8(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b) * 2)
	for _, c := range b {
		buf.WriteRune(rune(c))
	}
	return buf.Bytes()
}

// Hydrate fetches one ISBN-13 and returns its mapped record with the estimated
// labelset, a cover URL when one is found, HydratedOn set to now (UTC) and Raw
// set to the record. Errors are Fetch's.
//
// Covers (tasks.md §3.6, adapted): the original copies cover images into a
// bucket, which we do not have. So a record with IMAGFLAG=Y gets no cover
// (Info["image_flag"] stays true so a later job can fetch the provider image),
// and otherwise the open cover URL is used as is, hotlinked, when a GET of it
// answers 200. A failed look-up only means no cover. OtherISBNs stays empty:
// the external ISBN-editions service is not reachable from here.
func (c *Client) Hydrate(ctx context.Context, isbn13 string) (HydratedBookData, error) {
	rec, err := c.Fetch(ctx, isbn13)
	if err != nil {
		return HydratedBookData{}, err
	}
	d := Map(rec)
	if d.ISBN == "" {
		d.ISBN = isbn13
	}
	ls := Estimate(d)
	d.Labelset = &ls
	if flag, _ := d.Info["image_flag"].(bool); !flag {
		d.CoverURL = c.openCover(ctx, isbn13)
	}
	d.HydratedOn = ptr(time.Now().UTC())
	d.Raw = rec
	return d, nil
}

// openCover returns the open cover URL for isbn13 if it answers 200, else nil.
func (c *Client) openCover(ctx context.Context, isbn13 string) *string {
	format := c.CoverURL
	if format == "" {
		format = defaultCoverURL
	}
	u := strings.ReplaceAll(format, "%s", url.PathEscape(isbn13))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	return &u
}
