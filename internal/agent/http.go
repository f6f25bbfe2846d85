package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Serve exposes /metrics, /healthz and /readyz on addr until ctx is done.
// /healthz answers while the process runs; /readyz once the agent's event
// source runs and its first assessment is done.
func Serve(ctx context.Context, addr string, reg *prometheus.Registry, ready func() bool, log *slog.Logger) error {
	return ServeWith(ctx, addr, reg, ready, log, nil)
}

// ServeWith is Serve with more handlers, by path (another command's
// /status, say).
func ServeWith(ctx context.Context, addr string, reg *prometheus.Registry, ready func() bool, log *slog.Logger, extra map[string]http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	return serve(ctx, ln, reg, ready, log, extra)
}

// ServeListener is Serve on an open listener.
func ServeListener(ctx context.Context, ln net.Listener, reg *prometheus.Registry, ready func() bool, log *slog.Logger) error {
	return serve(ctx, ln, reg, ready, log, nil)
}

func serve(ctx context.Context, ln net.Listener, reg *prometheus.Registry, ready func() bool, log *slog.Logger, extra map[string]http.Handler) error {
	mux := http.NewServeMux()
	for path, h := range extra {
		mux.Handle(path, h)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}
