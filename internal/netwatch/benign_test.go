package netwatch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/davyproject/davy/internal/netns"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

// startRelay forwards connections to a listener in namespace b on to
// upstream: a stratum proxy as far as the wire can tell (a miner talks to
// it exactly as to a pool).
func startRelay(t *testing.T, n *testenv.NetnsPair, upstream string) netip.AddrPort {
	t.Helper()
	ln := listenB(t, n)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var up net.Conn
			if err := netns.Do(n.PathB(), func() error {
				var err error
				up, err = net.Dial("tcp", upstream)
				return err
			}); err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// startWebsocketFeed serves a websocket in namespace b that pushes a small
// update every 100 ms, and connects a client from namespace a that pings
// it every 150 ms: an ordinary long-lived stream.
func startWebsocketFeed(t *testing.T, n *testenv.NetnsPair) netip.AddrPort {
	t.Helper()
	ln := listenB(t, n)
	srv := &http.Server{Handler: websocket.Handler(func(ws *websocket.Conn) {
		go io.Copy(io.Discard, ws)
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(ws, `{"type":"tick","seq":%d,"price":101.5}`, i); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	var ws *websocket.Conn
	testenv.InNetns(t, n.PathA(), func() error {
		var err error
		ws, err = websocket.Dial("ws://"+addr+"/feed", "", "http://"+addr)
		return err
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ws.Close() })
	go io.Copy(io.Discard, ws)
	go func() {
		for ctx.Err() == nil {
			if _, err := ws.Write([]byte(`{"type":"ping"}`)); err != nil {
				return
			}
			time.Sleep(150 * time.Millisecond)
		}
	}()
	return netip.MustParseAddrPort(addr)
}

// startPostgres runs Debian's PostgreSQL server in namespace b, as the
// postgres user, and pgbench against it from namespace a for a few
// seconds: a database client's long-lived flows.
func startPostgres(t *testing.T, n *testenv.NetnsPair) uint16 {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	testenv.Need(t, len(matches) > 0, "PostgreSQL server (Debian package postgresql)")
	testenv.NeedCommand(t, "pgbench")
	bin := filepath.Dir(matches[len(matches)-1])
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("user postgres: %v", err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	asPostgres := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	dir, err := os.MkdirTemp("", "davy-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres")
	initdb.SysProcAttr = asPostgres
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// Trust the test's own subnet: nothing else can reach namespace b.
	hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(hba, "host all all %s/24 trust\n", n.IPA)
	hba.Close()
	port := 20000 + int(time.Now().UnixNano()%20000)
	var pgLog testbedtest.SyncBuffer
	pg := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-h", n.IPB.String(), "-p", strconv.Itoa(port), "-c", "fsync=off")
	pg.SysProcAttr, pg.Stdout, pg.Stderr = asPostgres, &pgLog, &pgLog
	// Started from a thread in namespace b, the server lives there; it is
	// this test's own child, so it is stopped and waited for by PID.
	testenv.InNetns(t, n.PathB(), pg.Start)
	t.Cleanup(func() { pg.Process.Kill(); pg.Wait() })
	pgArgs := []string{"netns", "exec", n.A, "pgbench", "-h", n.IPB.String(), "-p", strconv.Itoa(port), "-U", "postgres"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command("ip", append(pgArgs, "-i", "-q", "postgres")...).CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL did not start in 30 s: %v: %s\nserver log:\n%s", err, out, pgLog.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	bench := exec.Command("ip", append(pgArgs, "-c", "2", "-T", "3", "postgres")...)
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bench.Process.Kill(); bench.Wait() })
	return uint16(port)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// listenB listens on a free TCP port of namespace b's address.
func listenB(t *testing.T, n *testenv.NetnsPair) net.Listener {
	t.Helper()
	var ln net.Listener
	testenv.InNetns(t, n.PathB(), func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(n.IPB, 0).String())
		return err
	})
	return ln
}
