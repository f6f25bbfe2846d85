package detect

import (
	"context"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/host"
	"github.com/davyproject/davy/internal/testenv"
)

func TestParseRootUpperDir(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"overlay root",
			"1161 1050 0:95 / / rw,relatime - overlay overlay rw,lowerdir=/l1:/l2,upperdir=/var/lib/containers/storage/overlay/abc/diff,workdir=/w\n" +
				"1162 1161 0:98 / /proc rw - proc proc rw\n",
			"/var/lib/containers/storage/overlay/abc/diff"},
		{"optional fields before the separator",
			"36 35 98:0 / / rw shared:1 master:2 - overlay overlay rw,upperdir=/u,workdir=/w\n", "/u"},
		{"escaped space", `36 35 98:0 / / rw - overlay overlay rw,upperdir=/a\040b,workdir=/w` + "\n", "/a b"},
		{"not an overlay", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", ""},
		{"a later root mount wins", "1 0 0:1 / / rw - overlay o rw,upperdir=/u\n2 1 8:1 / / rw - ext4 /dev/sda1 rw\n", ""},
		{"relative upperdir ignored", "1 0 0:1 / / rw - overlay o rw,upperdir=u\n", ""},
		{"garbage", "no fields here\n - - -\n", ""},
	} {
		if got := parseRootUpperDir([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func FuzzParseRootUpperDir(f *testing.F) {
	f.Add([]byte("1161 1050 0:95 / / rw - overlay overlay rw,upperdir=/u,workdir=/w\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parseRootUpperDir(data) })
}

// TestDriftRealContainers runs two podman containers on overlay roots: one
// runs a shell it copied into /tmp at run time, the other the image's own.
func TestDriftRealContainers(t *testing.T) {
	testenv.NeedRoot(t)
	pm := testenv.NewPodman(t)
	rootfs := testenv.Rootfs(t, nil)
	drifted := pm.Run(rootfs+":O", nil, "/bin/sh", "-c", "mkdir -p /tmp/x && cp /bin/sh /tmp/x/sh && exec /tmp/x/sh -c 'while :; do sleep 1; done'")
	clean := pm.Run(rootfs+":O", nil, "/bin/sh", "-c", "while :; do sleep 1; done")
	env, err := NewEnv(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// judge waits until pid runs something other than the image's busybox
	// (or until a deadline, for the container that never will), then runs
	// the detector on it.
	judge := func(pid int, wait bool) []string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			snap, err := host.Take(context.Background(), host.Options{PIDs: []int{pid}, NoSockets: true})
			if err != nil || len(snap.Processes) != 1 {
				t.Fatalf("process %d: %v", pid, err)
			}
			if exe := snap.Processes[0].Exe; !wait || exe != "/bin/busybox" && exe != "/bin/sh" || time.Now().After(deadline) {
				var ids []string
				for _, e := range (drift{}).Detect(context.Background(), env, Workloads(snap)[0]) {
					ids = append(ids, e.ID+" "+e.Values["exe"])
				}
				return ids
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got := judge(drifted.PID, true); len(got) != 1 || got[0] != "DAVY-D001 /tmp/x/sh" {
		t.Errorf("drifted container: %v, want DAVY-D001 for /tmp/x/sh", got)
	}
	if got := judge(clean.PID, false); len(got) != 0 {
		t.Errorf("container running its image's shell: %v, want nothing", got)
	}
}
