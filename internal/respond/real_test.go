package respond

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/testenv"
)

// sleeper starts a sleep this test owns and returns it as a target process.
func sleeper(t *testing.T) (*exec.Cmd, Process) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	ticks, err := host.StartTicks("", cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return cmd, Process{PID: cmd.Process.Pid, StartTicks: ticks, Comm: "sleep", Exe: "/usr/bin/sleep"}
}

func state(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "gone"
	}
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

func processTarget(p Process) Target {
	return Target{Kind: "process", ID: strconv.Itoa(p.PID), Name: p.Comm, Verdict: finding.VerdictMiner, Processes: []Process{p}}
}

func TestKillRealProcess(t *testing.T) {
	testenv.NeedRoot(t)
	cmd, p := sleeper(t)
	dry := New(Options{Action: ActionKill}).Act(context.Background(), processTarget(p))
	if !dry.DryRun || dry.Done || len(dry.PIDs) != 1 || dry.Error != "" {
		t.Fatalf("dry run = %+v", dry)
	}
	if st := state(t, p.PID); st == "gone" || st == "Z" {
		t.Fatalf("a dry run killed the process (state %s)", st)
	}
	res := New(Options{Action: ActionKill, Enforce: true}).Act(context.Background(), processTarget(p))
	if !res.Done || res.Error != "" {
		t.Fatalf("kill = %+v", res)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("sleep ended with %v, want killed", err)
	}
}

func TestReusedPIDIsNotSignalled(t *testing.T) {
	testenv.NeedRoot(t)
	_, p := sleeper(t)
	p.StartTicks++ // as if the PID now named a newer process
	res := New(Options{Action: ActionKill, Enforce: true}).Act(context.Background(), processTarget(p))
	if res.Done || !strings.Contains(res.Error, "gone") {
		t.Fatalf("result = %+v, want nothing done", res)
	}
	if st := state(t, p.PID); st == "gone" || st == "Z" {
		t.Fatalf("the process was signalled (state %s)", st)
	}
}

func TestStopBareProcess(t *testing.T) {
	testenv.NeedRoot(t)
	_, p := sleeper(t)
	res := New(Options{Action: ActionFreeze, Enforce: true}).Act(context.Background(), processTarget(p))
	if !res.Done {
		t.Fatalf("freeze = %+v", res)
	}
	waitState(t, p.PID, "T")
}

func waitState(t *testing.T, pid int, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for state(t, pid) != want {
		if time.Now().After(deadline) {
			t.Fatalf("process %d is in state %s, want %s", pid, state(t, pid), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFreezeRealCgroup puts a process in a cgroup this test creates, named
// like a container's, and freezes it through the responder.
func TestFreezeRealCgroup(t *testing.T) {
	testenv.NeedRoot(t)
	root := "/sys/fs/cgroup"
	freezer := filepath.Join(root, "freezer")
	v2 := !exists(filepath.Join(freezer, "freezer.state")) && !exists(filepath.Join(freezer, "cgroup.procs"))
	var idBytes [32]byte
	rand.Read(idBytes[:])
	id := hex.EncodeToString(idBytes[:])
	dir := filepath.Join(freezer, "davy-test-"+id)
	control, frozen := "freezer.state", "FROZEN"
	if v2 {
		dir, control, frozen = filepath.Join(root, "davy-test-"+id), "cgroup.freeze", "1"
		if !exists(filepath.Join(root, "cgroup.controllers")) {
			testenv.Need(t, false, "a cgroup v1 freezer or a cgroup v2 hierarchy at /sys/fs/cgroup")
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd, p := sleeper(t)
	t.Cleanup(func() {
		thaw := "THAWED"
		if v2 {
			thaw = "0"
		}
		os.WriteFile(filepath.Join(dir, control), []byte(thaw), 0)
		cmd.Process.Kill()
		cmd.Wait()
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing the test cgroup: %v", err)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(p.PID)), 0); err != nil {
		t.Fatal(err)
	}
	target := processTarget(p)
	target.Kind, target.ID, target.ContainerID = "container", id, id
	res := New(Options{Action: ActionFreeze, Enforce: true}).Act(context.Background(), target)
	if !res.Done || res.Cgroup != filepath.Join(dir, control) {
		t.Fatalf("freeze = %+v, want %s written", res, filepath.Join(dir, control))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := os.ReadFile(filepath.Join(dir, control))
		if strings.TrimSpace(string(got)) == frozen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %s", control, got, frozen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
