package host

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// startTree runs sh -c 'sleep 30 & wait' and returns the sleep's PID once
// it exists, so the test knows a three-level tree: sleep, sh, this test.
func startTree(t *testing.T) (sh *exec.Cmd, sleepPID int) {
	t.Helper()
	sh = exec.Command("sh", "-c", "sleep 30 & echo $!; wait")
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sh.Process.Kill(); sh.Wait() })
	var buf [32]byte
	n, _ := out.Read(buf[:])
	pid, err := strconv.Atoi(string(buf[:n-1]))
	if err != nil {
		t.Fatalf("child pid %q: %v", buf[:n], err)
	}
	t.Cleanup(func() {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	})
	// $! is known right after the fork, before the child has exec'd.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); string(comm) == "sleep\n" {
			return sh, pid
		}
	}
	t.Fatalf("child %d never became sleep", pid)
	return nil, 0
}

func TestLineage(t *testing.T) {
	sh, pid := startTree(t)
	got := Lineage(sh.Process.Pid, 3, fromProc)
	if len(got) < 2 {
		t.Fatalf("Lineage(%d) = %+v, want at least sh and this test", pid, got)
	}
	if got[0].PID != sh.Process.Pid || got[0].Comm != "sh" || len(got[0].Cmdline) != 3 || got[0].Cmdline[0] != "sh" {
		t.Errorf("parent = %+v, want sh (pid %d) with its command line", got[0], sh.Process.Pid)
	}
	if got[1].PID != os.Getpid() {
		t.Errorf("grandparent = %+v, want this test (pid %d)", got[1], os.Getpid())
	}
	if n := len(Lineage(sh.Process.Pid, 1, fromProc)); n != 1 {
		t.Errorf("depth 1 gave %d ancestors", n)
	}
	if a := Lineage(1<<30, 3, fromProc); len(a) != 0 {
		t.Errorf("a missing process has ancestors %+v", a)
	}
}

func TestTakeOnlySomePIDs(t *testing.T) {
	_, pid := startTree(t)
	const missing = 1 << 30
	s, err := Take(context.Background(), Options{PIDs: []int{pid, missing}, Window: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Processes) != 1 || s.Processes[0].PID != pid || s.Processes[0].Comm != "sleep" {
		t.Fatalf("processes = %+v, want only the sleep %d", s.Processes, pid)
	}
	if s.Skipped[SkipExited] != 1 {
		t.Errorf("skipped = %v, want the missing PID counted as exited", s.Skipped)
	}
}

func fromProc(pid int) (Ancestor, bool) { return ReadAncestor("", pid) }
