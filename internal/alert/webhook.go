package alert

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// WebhookOptions configures a Webhook.
type WebhookOptions struct {
	// URL receives one POST per alert, e.g. Falcosidekick's
	// http://falcosidekick:2801/.
	URL string
	// Headers are added to every request (an Authorization token, say).
	Headers map[string]string
	// Client defaults to one with its own transport; timeouts come from
	// the Dispatcher's context.
	Client *http.Client
}

// Webhook posts each alert as Falco's JSON to a URL, as Falco's
// http_output does, so Falcosidekick accepts it as input.
type Webhook struct {
	url     string
	headers http.Header
	client  *http.Client
}

// NewWebhook checks the options and returns the sink.
func NewWebhook(opt WebhookOptions) (*Webhook, error) {
	u, err := parseHTTPURL(opt.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	h, err := headerOf(opt.Headers)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	h.Set("Content-Type", "application/json")
	return &Webhook{url: u.String(), headers: h, client: clientOr(opt.Client)}, nil
}

// Name is "webhook".
func (w *Webhook) Name() string { return "webhook" }

// Send posts the alerts one by one; after a failure the ones already
// posted are reported in a PartialError so they are not posted twice.
func (w *Webhook) Send(ctx context.Context, alerts []Alert) error {
	var buf bytes.Buffer
	for i, a := range alerts {
		buf.Reset()
		if err := appendLine(&buf, a); err != nil {
			return partial(i, Permanent(err))
		}
		if err := post(ctx, w.client, w.url, w.headers, buf.Bytes()); err != nil {
			return partial(i, fmt.Errorf("webhook: %w", err))
		}
	}
	return nil
}

// post sends one JSON body; a status other than 2xx is an error, and a
// redirect or a 4xx other than 408 and 429 is permanent, since the same
// request would meet it again.
func post(ctx context.Context, c *http.Client, u string, h http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header = h.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("posting alert: %w", err)
	}
	defer resp.Body.Close()
	// A small part of the body explains a refusal; the rest is read so
	// the connection can be reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("%s answered %s: %s", redactURL(u), resp.Status, strings.TrimSpace(string(snippet)))
	if resp.StatusCode >= 300 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return Permanent(err)
	}
	return err
}

// parseHTTPURL accepts only absolute http and https URLs, so a typo fails
// at start-up rather than at the first alert.
func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parsing URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL %q: scheme must be http or https", redactURL(s))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", redactURL(s))
	}
	return u, nil
}

// redactURL hides a password in the URL, which would otherwise reach logs
// through error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid URL>"
	}
	return u.Redacted()
}

func headerOf(m map[string]string) (http.Header, error) {
	h := http.Header{}
	for k, v := range m {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") || strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("invalid header %q", k)
		}
		h.Set(k, v)
	}
	return h, nil
}

// clientOr returns c, or a client with a transport of its own (so that
// settings other code makes on http.DefaultTransport do not apply) that
// does not follow redirects: Go turns a redirected POST into a GET without
// the body, which a receiver could answer 200 to while the alert is lost.
func clientOr(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
