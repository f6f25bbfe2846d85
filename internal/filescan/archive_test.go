package filescan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/davyproject/davy/internal/testenv"
)

type member struct {
	name string
	data []byte
}

func mkTar(t testing.TB, ms ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, m := range ms {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o755, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.data)
	}
	tw.WriteHeader(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mkZstd(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func mkXZ(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	xw, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(data)
	xw.Close()
	return b.Bytes()
}

// mkBzip2 uses the bzip2 command: Go's library only reads the format.
func mkBzip2(t testing.TB, data []byte) []byte {
	t.Helper()
	testenv.NeedCommand(t, "bzip2")
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mkGzip(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mkZip(t testing.TB, ms ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, m := range ms {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const xmrigConfig = `{
    "autosave": true,
    "donate-level": 1,
    "cpu": {"enabled": true, "huge-pages": true, "rx": [0, 1]},
    "randomx": {"1gb-pages": false, "rdmsr": true, "wrmsr": true},
    "pools": [
        {"url": "gulf.moneroocean.stream:10128", "user": "` + testWallet + `", "pass": "x", "keepalive": true, "tls": false}
    ]
}
`

func TestArchives(t *testing.T) {
	e := newEngine(t)
	raw, _ := minerBinaries(t)
	miner := readFile(t, raw)
	release := mkGzip(t, mkTar(t, member{"xmrig-6.21.0/xmrig", miner}, member{"xmrig-6.21.0/config.json", []byte(xmrigConfig)},
		member{"xmrig-6.21.0/SHA256SUMS", []byte("abc  xmrig\n")}))
	for _, tc := range []struct {
		name, path string
		data       []byte
		want       map[string]string // ID -> path
	}{
		{"tar.gz release", "opt/xmrig.tar.gz", release, map[string]string{
			"DAVY-I001": "opt/xmrig.tar.gz!xmrig-6.21.0/xmrig",
			"DAVY-F001": "opt/xmrig.tar.gz!xmrig-6.21.0/config.json",
			"DAVY-N001": "opt/xmrig.tar.gz!xmrig-6.21.0/config.json"}},
		{"plain tar", "a.tar", mkTar(t, member{"./bin/kswapd0", miner}), map[string]string{"DAVY-I001": "a.tar!bin/kswapd0"}},
		{"gzip of one file", "tmp/x.gz", mkGzip(t, miner), map[string]string{"DAVY-I001": "tmp/x.gz!x"}},
		{"zip", "a.zip", mkZip(t, member{"m/run", miner}), map[string]string{"DAVY-I001": "a.zip!m/run"}},
		{"zip in tar.gz", "b.tgz", mkGzip(t, mkTar(t, member{"in.zip", mkZip(t, member{"x", miner})})), map[string]string{"DAVY-I001": "b.tgz!in.zip!x"}},
		{"script in zip in tar", "c.tar", mkTar(t, member{"z.zip", mkZip(t, member{"d.sh", []byte(kinsingLike)})}), map[string]string{"DAVY-S004": "c.tar!z.zip!d.sh"}},
		{"tar.zst release", "opt/xmrig.tar.zst", mkZstd(t, mkTar(t, member{"xmrig/xmrig", miner})), map[string]string{"DAVY-I001": "opt/xmrig.tar.zst!xmrig/xmrig"}},
		{"tar.xz release", "opt/xmrig.tar.xz", mkXZ(t, mkTar(t, member{"xmrig/xmrig", miner})), map[string]string{"DAVY-I001": "opt/xmrig.tar.xz!xmrig/xmrig"}},
		{"bzip2 of one file", "tmp/k.bz2", mkBzip2(t, miner), map[string]string{"DAVY-I001": "tmp/k.bz2!k"}},
		{"honest tar.gz", "ok.tgz", mkGzip(t, mkTar(t, member{"usr/bin/xz", readFile(t, "/usr/bin/xz")}, member{"README", []byte("hello\n")})), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, via := range []string{"stream", "readerat"} {
				scanFn := scanStream
				if via == "readerat" {
					scanFn = scanBytes
				}
				fs, err := scanFn(t, e, tc.path, tc.data)
				if err != nil {
					t.Fatalf("%s: %v", via, err)
				}
				for id, p := range tc.want {
					if findingAt(fs, id, p) == nil {
						t.Errorf("%s: no %s at %s%s", via, id, p, dump(fs))
					}
				}
				if tc.want == nil && len(fs) > 0 {
					t.Errorf("%s: unexpected%s", via, dump(fs))
				}
			}
		})
	}
}

// A script carrying a miner ELF as base64, wrapped as the base64 tool does.
func TestBase64EmbeddedELF(t *testing.T) {
	e := newEngine(t)
	raw, _ := minerBinaries(t)
	enc := base64.StdEncoding.EncodeToString(readFile(t, raw))
	var wrapped strings.Builder
	for i := 0; i < len(enc); i += 76 {
		wrapped.WriteString(enc[i:min(i+76, len(enc))] + "\n")
	}
	for _, tc := range []struct{ name, text string }{
		{"wrapped heredoc", "#!/bin/sh\nbase64 -d > /tmp/.x <<'EOF'\n" + wrapped.String() + "EOF\nchmod +x /tmp/.x && /tmp/.x\n"},
		{"one line", "#!/bin/sh\necho '" + enc + "' | base64 -d > /tmp/.x; chmod +x /tmp/.x; /tmp/.x &\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := scanStream(t, e, "entry.sh", []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			off := strings.Index(tc.text, enc[:76])
			if findingAt(fs, "DAVY-I001", "entry.sh!base64@"+itoa(off)) == nil {
				t.Fatalf("embedded miner not found at offset %d%s", off, dump(fs))
			}
		})
	}
}

func TestArchiveLimits(t *testing.T) {
	nested := []byte(kinsingLike)
	for i := range 4 {
		nested = mkGzip(t, mkTar(t, member{"l" + itoa(i) + ".tar.gz", nested}))
	}
	bomb := mkGzip(t, make([]byte, 64<<20)) // 64 MiB of zeros in ~64 KiB
	many := make([]member, 50)
	for i := range many {
		many[i] = member{"f" + itoa(i), []byte("x")}
	}
	truncated := mkGzip(t, mkTar(t, member{"x.sh", []byte(kinsingLike)}, member{"y", randomBytes(100<<10, 7)}))
	truncated = truncated[:len(truncated)-2000]
	for _, tc := range []struct {
		name    string
		opts    Options
		data    []byte
		wantErr error
		wantID  string
	}{
		{"depth", Options{}, nested, ErrLimit, ""},
		{"depth raised", Options{MaxDepth: 6}, nested, nil, "DAVY-S004"},
		{"gzip bomb", Options{MaxArchiveBytes: 8 << 20}, bomb, ErrLimit, ""},
		{"members", Options{MaxArchiveMembers: 10}, mkTar(t, many...), ErrLimit, ""},
		{"truncated gzip", Options{}, truncated, ErrCorrupt, "DAVY-S004"},
		{"not a gzip after magic", Options{}, []byte("\x1f\x8bnot really"), ErrCorrupt, ""},
		{"broken zip", Options{}, []byte("PK\x03\x04 and nothing else"), ErrCorrupt, ""},
		{"zip too big to buffer", Options{MaxZipBytes: 1024}, mkZip(t, member{"a", randomBytes(4096, 8)}), ErrLimit, ""},
		{"broken tar", Options{}, append(mkTar(t, member{"a", []byte("x")})[:512], bytes.Repeat([]byte{'z'}, 1024)...), ErrCorrupt, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngineOpts(t, tc.opts)
			fs, err := scanStream(t, e, "top", tc.data)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantID != "" && !has(fs, tc.wantID) {
				t.Fatalf("no %s%s", tc.wantID, dump(fs))
			}
			t.Log(err)
		})
	}
}
