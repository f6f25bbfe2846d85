package host

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv switches the test binary into a helper process for real-process
// tests: "block" just waits, "dial" connects to DAVY_HOST_ADDR and waits.
// Helpers end by themselves after helperLife, so that a crashed test leaves
// nothing behind for long.
const (
	helperEnv  = "DAVY_HOST_HELPER"
	helperLife = 2 * time.Minute
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "block":
		fmt.Println("ready")
		time.Sleep(helperLife)
	case "take":
		helperTake()
	case "dial":
		c, err := net.Dial("tcp", os.Getenv("DAVY_HOST_ADDR"))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		defer c.Close()
		fmt.Println("ready", c.LocalAddr())
		time.Sleep(helperLife)
	default:
		os.Exit(2)
	}
	os.Exit(0)
}

// maxRSSKiB is this process's peak resident set size.
func maxRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Maxrss
}

// child is a process a test started; stop kills it by PID and reaps it.
type child struct {
	cmd   *exec.Cmd
	ready string // the helper's first line of output
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// startChild starts a process that dies with the test (Pdeathsig) and is
// killed, by its PID only, when the test ends.
func startChild(t testing.TB, cmd *exec.Cmd) *child {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	})
	return c
}

// startHelper re-executes the test binary as a helper and waits for its
// "ready" line.
func startHelper(t testing.TB, mode string, env []string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append(env, helperEnv+"="+mode)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, cmd)
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case c.ready = <-line:
	case <-time.After(30 * time.Second):
		t.Fatalf("helper %s did not start", mode)
	}
	if !strings.HasPrefix(c.ready, "ready") {
		t.Fatalf("helper %s: %q", mode, c.ready)
	}
	return c
}
