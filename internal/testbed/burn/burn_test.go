package burn

import (
	"context"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	o, err := Parse([]string{"compress", "--threads", "2", "--duty", "0.5", "--duration", "1s"})
	if err != nil || o.Mode != "compress" || o.Threads != 2 || o.Duty != 0.5 || o.Duration != time.Second {
		t.Fatalf("got %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"mine"}, {"--threads", "0"}, {"--duty", "-1"}, {"sha", "extra"}} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestRunEveryMode(t *testing.T) {
	for _, m := range Modes {
		units, err := Run(context.Background(), Options{Mode: m, Threads: 1, Duration: 300 * time.Millisecond})
		if err != nil || units == 0 {
			t.Errorf("%s: %d units, %v", m, units, err)
		}
	}
}
