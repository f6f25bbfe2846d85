package filescan

import "testing"

func TestTextKind(t *testing.T) {
	for _, tc := range []struct {
		path, head string
		from       origin
		want       textKind
	}{
		{"etc/crontab", "SHELL=/bin/sh\n", originFile, kindCron},
		{"img.tar!var/spool/cron/crontabs/root", "* * * * * x\n", originFile, kindCron},
		{"./etc/cron.d/job", "x", originFile, kindCron},
		{"opt/x", "#!/usr/bin/env python3\n", originFile, kindScript},
		{"a.sh", "echo", originFile, kindScript},
		{"srv/Dockerfile", "FROM x", originFile, kindScript},
		{"tmp/x", "wget ...", originFile, kindScript},
		{"etc/app/config.json", "{}", originFile, kindConfig},
		{"root/.x", "  {\"pools\":[]}", originFile, kindConfig},
		{"pools.txt", "POOL: x", originFile, kindConfig},
		{"usr/share/doc/x/README", "curl | sh", originFile, kindText},
		{"src/main.go", "package main", originFile, kindText},
		{"NEWS", "news", originFile, kindText},
		{"x.sh!base64@3", "plain words", originDecoded, kindScript},
		{"usr/bin/run", "exec x", originFile, kindScript},
	} {
		if got := textKindOf(tc.path, []byte(tc.head), tc.from); got != tc.want {
			t.Errorf("%s: kind %d, want %d", tc.path, got, tc.want)
		}
	}
}

func TestSniff(t *testing.T) {
	tarHead := make([]byte, 512)
	copy(tarHead[257:], "ustar\x0000")
	for _, tc := range []struct {
		name string
		head []byte
		want fileType
	}{
		{"elf", []byte("\x7fELF\x02"), typeELF},
		{"gzip", []byte{0x1f, 0x8b, 8}, typeGzip},
		{"zip", []byte("PK\x03\x04...."), typeZip},
		{"tar", tarHead, typeTar},
		{"text", []byte("#!/bin/sh\necho hi\n"), typeText},
		{"utf8", []byte("héllo wörld\n"), typeText},
		{"utf16", []byte("h\x00i\x00"), typeOther},
		{"binary", []byte{1, 2, 3, 4, 5, 0x7f, 0x10, 0x11}, typeOther},
	} {
		if got := sniff(tc.head); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	a, b := newEngine(t).Version(), newEngineOpts(t, Options{}).Version()
	c := newEngineOpts(t, Options{MaxDepth: 5}).Version()
	if a != b || a == c || a == "" {
		t.Fatalf("versions %q %q %q", a, b, c)
	}
}
