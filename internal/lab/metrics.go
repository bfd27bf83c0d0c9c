package lab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/babgate/bab/internal/metrics"
)

// Scrape reads and parses baseURL + "/metrics": an appliance's AdminURL
// or the exchange's.
func Scrape(ctx context.Context, baseURL string) (metrics.Families, error) {
	status, body, err := get(ctx, baseURL+"/metrics")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("lab: GET %s/metrics: status %d: %s", baseURL, status, strings.TrimSpace(body))
	}
	f, err := metrics.ParseText(strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("lab: %s/metrics: %w", baseURL, err)
	}
	return f, nil
}

// Readyz asks baseURL + "/readyz" and returns the status and the body.
func Readyz(ctx context.Context, baseURL string) (int, string, error) {
	return get(ctx, baseURL+"/readyz")
}

func get(ctx context.Context, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, string(b), err
}
