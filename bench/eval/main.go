// Command eval is the labelled evaluation: it runs real miner variants and
// honest heavy workloads side by side on this machine, scans the host with
// each detector set, and prints a confusion matrix with precision, recall,
// false-positive rate and the time each scan took.
//
// Run it as root from the module root: go run ./bench/eval
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/testbed"
	"github.com/davyproject/davy/internal/testbed/pool"
)

func main() {
	window := flag.Duration("window", 3*time.Second, "CPU sampling window of each scan")
	noContainers := flag.Bool("no-containers", false, "leave out the podman cases")
	flag.Parse()
	// An interrupted run still ends its workloads and containers.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *window, !*noContainers); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

// detectorSets are scored separately so a reader sees what each layer
// adds: the arguments of davy scan host that select them.
var detectorSets = []struct {
	name string
	args []string
}{
	{"all detectors", nil},
	{"without identity (content)", []string{"--groups", "cmdline,config,logs,network,behaviour,location"}},
	{"behaviour + location only", []string{"--groups", "behaviour,location"}},
	{"behaviour only", []string{"--groups", "behaviour"}},
}

func run(ctx context.Context, window time.Duration, containers bool) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("run as root: the scan reads every process")
	}
	lab := &lab{}
	defer lab.cleanup()
	dir, err := os.MkdirTemp("", "davy-eval-")
	if err != nil {
		return err
	}
	lab.defers = append(lab.defers, func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "building davy and the testbed binaries...")
	// davy runs as its own process, as users run it: the workloads are
	// then not its children, and the fpu detector samples them (a parent
	// is never sampled by its own process, whose waits would take the
	// ptrace stops). Built before the workloads start, not beside them.
	davy := filepath.Join(dir, "davy")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", davy, "./cmd/davy").CombinedOutput(); err != nil {
		return fmt.Errorf("building davy: %w\n%s", err, out)
	}
	bins, err := testbed.Build(dir)
	if err != nil {
		return err
	}
	plain, err := pool.Start(ctx, pool.Config{Difficulty: 1})
	if err != nil {
		return err
	}
	defer plain.Close()
	tlsPool, err := pool.Start(ctx, pool.Config{Difficulty: 1, TLS: true})
	if err != nil {
		return err
	}
	defer tlsPool.Close()
	if err := lab.startCases(dir, bins, plain, tlsPool, containers); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "started %d workloads; letting them settle...\n", len(lab.cases))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(5 * time.Second):
	}

	for _, set := range detectorSets {
		start := time.Now()
		rep, err := scanHost(ctx, davy, window, set.args)
		if err != nil {
			return fmt.Errorf("%s: %w", set.name, err)
		}
		lab.score(set.name, rep, time.Since(start), window)
	}
	return nil
}

// scanHost runs davy scan host and reads its JSON report; its exit status
// says what it found, which the report says too.
func scanHost(ctx context.Context, davy string, window time.Duration, args []string) (*report.HostReport, error) {
	argv := append([]string{"scan", "host", "-o", "json", "--window", window.String()}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, davy, argv...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep report.HostReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("davy %s: %v (%v)\n%s", strings.Join(argv, " "), err, runErr, stderr.String())
	}
	return &rep, nil
}

// evalCase is one labelled workload.
type evalCase struct {
	name  string
	miner bool
	pid   int
	cid   string
}

type lab struct {
	cases  []evalCase
	defers []func()
}

func (l *lab) cleanup() {
	for i := len(l.defers) - 1; i >= 0; i-- {
		l.defers[i]()
	}
}

// start runs a command and ends exactly that process (and the process group
// it leads) at cleanup.
func (l *lab) start(name string, miner bool, dir string, argv ...string) error {
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = dir
	c.SysProcAttr = newProcessGroup()
	if err := c.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.defers = append(l.defers, func() { killGroup(c) })
	l.cases = append(l.cases, evalCase{name: name, miner: miner, pid: c.Process.Pid})
	return nil
}

func (l *lab) startCases(dir string, bins testbed.Binaries, plain, tlsPool *pool.Server, containers bool) error {
	wallet := testbed.MoneroWallet
	light := []string{"-t", "1", "--dataset-mib", "8", "-R", "1"}
	args := func(extra ...string) []string { return append(append([]string{}, extra...), light...) }
	// The config-only miner lives in its own directory with its config
	// beside it, as XMRig expects; nothing else shares that directory.
	cfgDir := filepath.Join(dir, "opt-app")
	if err := os.Mkdir(cfgDir, 0o755); err != nil {
		return err
	}
	cfg := `{"donate-level":1,"pools":[{"url":"` + plain.Addr() + `","user":"` + wallet + `","pass":"x"}]}`
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(cfg), 0o644); err != nil {
		return err
	}
	renamed := filepath.Join(dir, "kworker")
	quiet := filepath.Join(cfgDir, "app-server")
	tmpCopy := filepath.Join(os.TempDir(), "davy-eval-systemd-helper")
	for _, dst := range []string{renamed, quiet, tmpCopy} {
		if err := copyFile(bins.Miner, dst); err != nil {
			return err
		}
	}
	l.defers = append(l.defers, func() { os.Remove(tmpCopy) })
	big := filepath.Join(dir, "big.img")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(big, 64<<30); err != nil {
		return err
	}
	steps := []struct {
		name  string
		miner bool
		argv  []string
	}{
		{"miner, xmrig dialect", true, append([]string{bins.Miner}, args("-o", plain.URL(), "-u", wallet)...)},
		{"miner, stratum v1", true, append([]string{bins.Miner}, args("-o", plain.URL(), "-u", wallet, "--dialect", "stratum")...)},
		{"miner, TLS", true, append([]string{bins.Miner}, args("-o", strings.Replace(tlsPool.URL(), "stratum+tcp", "stratum+ssl", 1), "-u", wallet, "--tls")...)},
		{"miner, renamed kworker", true, append([]string{renamed}, args("-o", plain.URL(), "-u", wallet)...)},
		{"miner, in /tmp", true, append([]string{tmpCopy}, args("-o", plain.URL(), "-u", wallet)...)},
		{"miner, config file only", true, append([]string{quiet}, args("-c", filepath.Join(cfgDir, "config.json"))...)},
		{"miner, memfd", true, append([]string{bins.Miner}, args("-o", plain.URL(), "-u", wallet, "--memfd")...)},
		{"miner, throttled 30%", true, append([]string{bins.Miner}, args("-o", plain.URL(), "-u", wallet, "--duty", "0.3")...)},
		{"miner, CryptoNight (cn/0)", true, append([]string{bins.Miner}, args("-o", plain.URL(), "-u", wallet, "--algo", "cn/0")...)},
		{"miner, pool down", true, append([]string{bins.Miner}, args("-o", "stratum+tcp://127.0.0.1:1", "-u", wallet)...)},
		{"honest xz -9", false, []string{"xz", "-9", "-c", big}},
		{"honest gzip -9", false, []string{"gzip", "-9", "-c", big}},
		{"honest bzip2 -9", false, []string{"bzip2", "-9", "-c", big}},
		{"honest sha256sum", false, []string{"sha256sum", big}},
		{"honest openssl speed", false, []string{"openssl", "speed", "-seconds", "600", "sha256"}},
		{"honest go build", false, []string{"go", "build", "-o", filepath.Join(dir, "out"), "./internal/testbed/cmd/burner"}},
		{"benign burner sha x2", false, []string{bins.Burner, "--mode", "sha", "--threads", "2", "--duration", "10m"}},
		{"benign burner sort", false, []string{bins.Burner, "--mode", "sort", "--duration", "10m"}},
		{"benign burner float matrix x2", false, []string{bins.Burner, "--mode", "matrix", "--threads", "2", "--duration", "10m"}},
	}
	for _, s := range steps {
		if _, err := exec.LookPath(s.argv[0]); err != nil {
			fmt.Fprintf(os.Stderr, "skipping %s: %s not installed\n", s.name, s.argv[0])
			continue
		}
		wd := dir
		if s.argv[0] == "go" {
			root, err := testbed.ModuleRoot()
			if err != nil {
				return err
			}
			wd = root
			os.Setenv("GOCACHE", filepath.Join(dir, "gocache"))
		}
		if err := l.start(s.name, s.miner, wd, s.argv...); err != nil {
			return err
		}
	}
	if containers {
		return l.startContainers(dir, bins, plain)
	}
	return nil
}

func (l *lab) startContainers(dir string, bins testbed.Binaries, plain *pool.Server) error {
	p, err := newPodman(dir)
	if err != nil {
		return err
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := p.rootfs(rootfs, map[string]string{"usr/bin/kworker": bins.Miner, "usr/bin/burner": bins.Burner}); err != nil {
		return err
	}
	cfg := `{"donate-level":1,"pools":[{"url":"` + plain.Addr() + `","user":"` + testbed.MoneroWallet + `","pass":"x"}]}`
	if err := os.WriteFile(filepath.Join(rootfs, "etc/k.json"), []byte(cfg), 0o644); err != nil {
		return err
	}
	for _, c := range []struct {
		name  string
		miner bool
		args  []string
	}{
		{"miner container, 0.5 CPU, config", true, []string{"--cpus", "0.5", "--network=host", "--rootfs", rootfs, "/usr/bin/kworker", "-c", "/etc/k.json", "--dataset-mib", "8"}},
		{"miner container, cmdline", true, []string{"--cpus", "1", "--network=host", "--rootfs", rootfs, "/usr/bin/kworker", "-o", plain.URL(), "-u", testbed.MoneroWallet, "-t", "1", "--dataset-mib", "8"}},
		{"burner container, 0.5 CPU", false, []string{"--cpus", "0.5", "--rootfs", rootfs, "/usr/bin/burner", "--mode", "compress", "--threads", "2", "--duration", "10m"}},
		{"busybox sha256sum container", false, []string{"--cpus", "1", "--rootfs", rootfs, "/bin/sh", "-c", "sha256sum /dev/zero"}},
	} {
		id, err := p.run(c.args...)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		l.defers = append(l.defers, func() { p.remove(id) })
		l.cases = append(l.cases, evalCase{name: c.name, miner: c.miner, cid: id})
	}
	return nil
}

func (l *lab) score(set string, rep *report.HostReport, took, window time.Duration) {
	var tp, fp, tn, fn int
	fmt.Printf("\n== %s (scan took %s, of which %s CPU window)\n", set, took.Round(time.Millisecond), window)
	fmt.Printf("%-36s %-7s %-11s %5s  %s\n", "workload", "label", "verdict", "score", "top evidence")
	for _, c := range l.cases {
		w := lookup(rep, c)
		verdict, score, top := "absent", 0, ""
		if w != nil {
			verdict, score = string(w.Verdict), w.Score
			var ids []string
			for i, e := range w.Evidence {
				if i == 4 {
					break
				}
				ids = append(ids, e.ID)
			}
			top = strings.Join(ids, " ")
		}
		called := verdict == string(finding.VerdictMiner)
		switch {
		case c.miner && called:
			tp++
		case c.miner:
			fn++
		case called:
			fp++
		default:
			tn++
		}
		label := "benign"
		if c.miner {
			label = "miner"
		}
		fmt.Printf("%-36s %-7s %-11s %5d  %s\n", c.name, label, verdict, score, top)
	}
	fmt.Printf("\nconfusion matrix (verdict miner = positive)\n")
	fmt.Printf("                 called miner   not called\n")
	fmt.Printf("  miner          %12d   %10d\n", tp, fn)
	fmt.Printf("  benign         %12d   %10d\n", fp, tn)
	fmt.Printf("precision %.3f  recall %.3f  false-positive rate %.3f\n", div(tp, tp+fp), div(tp, tp+fn), div(fp, fp+tn))
}

func lookup(rep *report.HostReport, c evalCase) *report.Workload {
	for i, w := range rep.Workloads {
		if c.cid != "" && w.ID == c.cid {
			return &rep.Workloads[i]
		}
		if c.cid == "" && w.Kind == detect.KindProcess && w.ID == strconv.Itoa(c.pid) {
			return &rep.Workloads[i]
		}
	}
	return nil
}

func div(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}
