package agent

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParsePasswd(t *testing.T) {
	got := parsePasswd([]byte("root:x:0:0:root:/root:/bin/bash\n# comment:x:5\nbad line\nnobody:x:65534:65534::/:/usr/sbin/nologin\ndup:x:0:0::/:/bin/sh\nneg:x:-1:0::/:/bin/sh\n"))
	if len(got) != 2 || got[0] != "root" || got[65534] != "nobody" {
		t.Errorf("parsePasswd = %v", got)
	}
}

func TestUsersFollowTheFile(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("miner:x:1000:1000::/:/bin/sh\n")
	u := newUsers(root)
	if n := u.name(1000); n != "miner" {
		t.Fatalf("name(1000) = %q", n)
	}
	write("renamed-user:x:1000:1000::/:/bin/sh\n") // another size: re-read
	if n := u.name(1000); n != "renamed-user" {
		t.Errorf("after a change, name(1000) = %q", n)
	}
	if n := newUsers(t.TempDir()).name(0); n != "" {
		t.Errorf("no passwd: %q", n)
	}
}

func FuzzParsePasswd(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parsePasswd(data) })
}
