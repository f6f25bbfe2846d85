package admission

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

// Path is where the API server sends AdmissionReviews.
const Path = "/validate"

// ServeOptions configure Serve.
type ServeOptions struct {
	// Listener, when set, is used instead of listening on Addr.
	Addr     string
	Listener net.Listener
	// CertFile and KeyFile hold the serving certificate; they are re-read
	// when they change (a cert-manager renewal, a rotated Secret).
	CertFile, KeyFile string
	Handler           http.Handler
	Log               *slog.Logger
}

// Serve answers HTTPS on Path (and /healthz) until ctx is cancelled, then
// shuts down gracefully: requests in progress get a few seconds to finish.
func Serve(ctx context.Context, o ServeOptions) error {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	cw, err := certwatcher.New(o.CertFile, o.KeyFile)
	if err != nil {
		return fmt.Errorf("loading the TLS certificate: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchErr := make(chan error, 1)
	go func() { watchErr <- cw.Start(ctx) }()

	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", o.Addr); err != nil {
			return fmt.Errorf("webhook listener: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle(Path, o.Handler)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cw.GetCertificate},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// The API server waits at most 30 s for a webhook.
		WriteTimeout: 35 * time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(o.Log.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	o.Log.Info("serving admission reviews", "addr", ln.Addr().String(), "path", Path)
	select {
	case err = <-served:
		return fmt.Errorf("webhook server: %w", err)
	case err = <-watchErr:
		if ctx.Err() == nil {
			shutdown(srv)
			return fmt.Errorf("watching the TLS certificate: %w", err)
		}
	case <-ctx.Done():
	}
	shutdown(srv)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("webhook server: %w", err)
	}
	return nil
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
}
