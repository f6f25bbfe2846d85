package admission

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

// TestServeReloadsCertificate: replacing the certificate files changes the
// certificate served, without a restart.
func TestServeReloadsCertificate(t *testing.T) {
	ca1, certFile, keyFile := testPKI(t)
	ca2, cert2, key2 := testPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := Serve(ctx, ServeOptions{Listener: ln, CertFile: certFile, KeyFile: keyFile, Handler: http.NotFoundHandler()}); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	// trustedBy dials with a fresh connection and reports whether the CA
	// in caPEM verifies the certificate served.
	trustedBy := func(caPEM []byte) bool {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}
	if !trustedBy(ca1) {
		t.Fatal("first certificate not served")
	}
	for _, p := range [][2]string{{cert2, certFile}, {key2, keyFile}} {
		b, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for !trustedBy(ca2) {
		if time.Now().After(deadline) {
			t.Fatal("the new certificate was never served")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
