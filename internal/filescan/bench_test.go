package filescan

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// benchText is ordinary text: shell-like lines, prose and some base64, as
// found in images.
func benchText(n int) []byte {
	lines := []string{
		"#!/bin/sh",
		"set -eu",
		`if [ -f /etc/default/app ]; then . /etc/default/app; fi`,
		`exec /usr/bin/app --config /etc/app/config.yaml --log-level info "$@"`,
		"The quick brown fox jumps over the lazy dog, then reads the manual page twice.",
		`curl -fsSL https://example.com/releases/v1.2.3/app.tar.gz -o /tmp/app.tar.gz`,
		`find /var/cache -type f -mtime +30 -delete 2>/dev/null || true`,
		"dGhpcyBpcyBzb21lIGJhc2U2NCBlbmNvZGVkIHRleHQgdGhhdCBnb2Vz",
		`echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) done" >> /var/log/app.log`,
	}
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.WriteString(lines[i%len(lines)])
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// BenchmarkScanFile scans a mix: a 20 MiB ELF-headed random blob (the
// executable path: content indicators, SHA-256, entropy, header checks)
// and a 5 MiB script (keywords, line rules, base64 runs). MB/s is over
// both.
func BenchmarkScanFile(b *testing.B) {
	e := newEngine(b)
	elf := mkELF(randomBytes(20<<20, 11))
	text := benchText(5 << 20)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
	}{
		{"mix", map[string][]byte{"usr/bin/blob": elf, "usr/local/bin/run": text}},
		{"elf", map[string][]byte{"usr/bin/blob": elf}},
		{"script", map[string][]byte{"usr/local/bin/run": text}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			total := 0
			for _, d := range tc.files {
				total += len(d)
			}
			b.SetBytes(int64(total))
			for b.Loop() {
				for p, d := range tc.files {
					fs, err := e.ScanFile(context.Background(), p, int64(len(d)), streamOnly{bytes.NewReader(d)})
					if err != nil {
						b.Fatal(err)
					}
					for _, f := range fs {
						if !strings.HasPrefix(f.ID, "DAVY-I005") {
							b.Fatalf("unexpected finding %s", f.Message)
						}
					}
				}
			}
		})
	}
}
