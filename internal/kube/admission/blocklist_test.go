package admission

import (
	"strings"
	"testing"
)

func TestBlocklistMatch(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	bl, err := ParseBlocklist([]byte(`
# exact references, short Docker Hub names included
nginx:1.25-bad
registry.test/team/app:2       # trailing comment
registry.test/whole            # every tag
` + digest + `
registry.test/crypto/*
*/*/xmr*
evil/*:latest
127.0.0.1:5000/lab/*
`))
	if err != nil {
		t.Fatal(err)
	}
	if bl.Len() != 8 {
		t.Errorf("%d patterns", bl.Len())
	}
	cases := []struct {
		image, resolved string
		blocked         bool
		line            int
	}{
		{"nginx:1.25-bad", "", true, 3},
		{"docker.io/library/nginx:1.25-bad", "", true, 3},
		{"index.docker.io/library/nginx:1.25-bad", "", true, 3},
		{"nginx:1.25", "", false, 0},
		{"registry.test/team/app:2", "", true, 4},
		{"registry.test/team/app:3", "", false, 0},
		{"registry.test/whole:anything", "", true, 5},
		{"registry.test/whole@" + digest, "", true, 6}, // the digest is tried first
		{"registry.test/other@" + digest, "", true, 6},
		{"registry.test/other:1", digest, true, 6},
		{"registry.test/crypto/x:9", "", true, 7},
		{"registry.test/crypto/deep/x:9", "", false, 0},
		{"quay.io/someone/xmr-proxy:1", "", true, 8},
		{"evil/tool", "", true, 9},
		{"evil/tool:v1", "", false, 0},
		{"127.0.0.1:5000/lab/m:1", "", true, 10},
	}
	for _, c := range cases {
		r, err := parseImageRef(c.image)
		if err != nil {
			t.Fatalf("%s: %v", c.image, err)
		}
		pat, line := bl.Match(r, c.resolved)
		if (pat != "") != c.blocked || line != c.line {
			t.Errorf("%s: pattern %q line %d, want blocked %v line %d", c.image, pat, line, c.blocked, c.line)
		}
	}
}

func TestBlocklistErrors(t *testing.T) {
	cases := map[string]string{
		"ok\nsha256:1234\n":           "line 2: digest",
		"\n\nregistry.test/a b\n":     "line 3: pattern",
		"UPPER/x:1":                   "line 1: image",
		"registry.test/[x*":           "line 1: glob",
		"registry.test/x*@sha256:aa":  "digests cannot be globbed",
		"registry.test/x*:":           "empty tag",
		strings.Repeat("a", 600):      "longer than 512",
		strings.Repeat("x\n", 10_001): "line 10001: more than 10000",
	}
	for in, want := range cases {
		_, err := ParseBlocklist([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: error %v, want %q", in, err, want)
		}
	}
	if _, err := ParseBlocklist([]byte(strings.Repeat("#", MaxBlocklistBytes+1))); err == nil {
		t.Error("oversized blocklist accepted")
	}
}

func FuzzBlocklist(f *testing.F) {
	f.Add([]byte("nginx:1\nregistry.test/x/*\n# c\nsha256:" + strings.Repeat("0", 64)))
	f.Add([]byte("*/*/xmr*:lat?st\n127.0.0.1:5000/a/b@sha256:" + strings.Repeat("f", 64)))
	f.Add([]byte("[\n\x00\n"))
	images := []string{"nginx", "registry.test/x/y:1", "quay.io/a/xmr:latest", "127.0.0.1:5000/a/b@sha256:" + strings.Repeat("f", 64)}
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := ParseBlocklist(b)
		if err != nil {
			if !strings.Contains(err.Error(), "line ") && !strings.Contains(err.Error(), "larger than") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		if bl.Len() > MaxBlocklistEntries {
			t.Fatalf("%d patterns", bl.Len())
		}
		for _, s := range images {
			r, err := parseImageRef(s)
			if err != nil {
				t.Fatal(err)
			}
			bl.Match(r, "sha256:"+strings.Repeat("0", 64))
		}
	})
}
