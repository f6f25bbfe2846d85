package agent

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/events"
)

// BenchmarkOnExec is the cost of judging one exec'd process: the per-exec
// budget of the agent under process churn.
func BenchmarkOnExec(b *testing.B) {
	c := newCollector()
	a := benchAgent(b, c)
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	time.Sleep(50 * time.Millisecond)
	ev := events.Event{Kind: events.Exec, PID: cmd.Process.Pid, TGID: cmd.Process.Pid, Comm: "sleep", Filename: "/usr/bin/sleep"}
	ctx := context.Background()
	for b.Loop() {
		a.handle(ctx, ev)
	}
}
