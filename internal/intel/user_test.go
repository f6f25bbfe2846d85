package intel

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUserOverlay(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		FilePoolDomains:   "# our own\nmy-pool.example\tteam wiki\tinternal test pool\nsupportxmr.com\tteam\toverridden note\n",
		FileMinerNames:    "my-custom-miner-binary\tteam\n",
		FilePoolPorts:     "12345\tteam\tour pool\n",
		FileReleaseHashes: strings.Repeat("ab", 32) + "\tteam\tbinary our build\n",
		FileLogPatterns:   "team-line\t^hashing now\tteam\n",
		FileContentIndicators: "team-marker\tbanner\tstrong\t" + hex.EncodeToString([]byte("TEAM-MINER-MARK")) + "\tteam\n" +
			"method-KEEPALIVED\tstratum\tstrong\t" + hex.EncodeToString([]byte("keepalived")) + "\tteam\tno longer weak\n" +
			"xmrig-cxx-namespace\tbanner\toff\t-\tteam\tmisfires on our build\n",
		"README.md": "unknown files are ignored\n",
	})
	base := mustLoad(t, "")
	in := mustLoad(t, dir)

	if e, ok := in.PoolDomain("a.my-pool.example"); !ok || e.Source != "team wiki" {
		t.Errorf("user domain: %+v %v", e, ok)
	}
	if e, _ := in.PoolDomain("supportxmr.com"); e.Note != "overridden note" {
		t.Errorf("user entry did not replace embedded one: %+v", e)
	}
	if _, ok := in.PoolDomain("pool.hashvault.pro"); !ok {
		t.Error("embedded domains lost")
	}
	// A 15-character process name matches the longer user entry (comm truncation).
	if _, ok := in.MinerName("my-custom-miner"); !ok {
		t.Error("truncated comm did not match")
	}
	if !in.PoolPort(12345) || !in.PoolPort(3333) {
		t.Error("ports not merged")
	}
	if _, ok := in.ReleaseHash(strings.Repeat("AB", 32)); !ok {
		t.Error("user hash missing")
	}
	if p, ok := in.MatchLog("hashing now at 5 H/s"); !ok || p.Name != "team-line" {
		t.Errorf("user log pattern: %v %v", p.Name, ok)
	}
	got, want := in.Counts(), base.Counts()
	want.PoolDomains++
	want.MinerNames++
	want.PoolPorts++
	want.ReleaseHashes++
	want.LogPatterns++
	// one added, one switched off
	if got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	for _, ind := range in.ContentIndicators() {
		if ind.Name == "method-KEEPALIVED" && ind.Weak {
			t.Error("user indicator did not replace embedded one")
		}
		if ind.Name == "xmrig-cxx-namespace" {
			t.Error("indicator switched off by the user is still there")
		}
	}
}

func TestUserGarbage(t *testing.T) {
	for _, tc := range []struct {
		name, file, body, want string
	}{
		{"wrong field count", FilePoolDomains, "# c\n\nok.example\tsrc\nbroken-line-without-source\n", FilePoolDomains + ":4:"},
		{"too many fields", FilePoolPorts, "3333\ta\tb\tc\n", FilePoolPorts + ":1:"},
		{"bad domain", FilePoolDomains, "*.pool.example\tsrc\n", FilePoolDomains + ":1:"},
		{"ip not domain", FilePoolDomains, "10.0.0.1\tsrc\n", FilePoolDomains + ":1:"},
		{"bad port", FilePoolPorts, "\n70000\tsrc\n", FilePoolPorts + ":2:"},
		{"port zero", FilePoolPorts, "0\tsrc\n", FilePoolPorts + ":1:"},
		{"bad hash", FileReleaseHashes, "abc\tsrc\n", FileReleaseHashes + ":1:"},
		{"bad regexp", FileLogPatterns, "x\t(unclosed\tsrc\n", FileLogPatterns + ":1:"},
		{"bad hex", FileContentIndicators, "x\tbanner\tstrong\tzz\tsrc\n", FileContentIndicators + ":1:"},
		{"bad category", FileContentIndicators, "x\tmystery\tstrong\t6162\tsrc\n", FileContentIndicators + ":1:"},
		{"bad strength", FileContentIndicators, "x\tbanner\tmaybe\t6162\tsrc\n", FileContentIndicators + ":1:"},
		{"empty field", FileMinerNames, "\tsrc\n", FileMinerNames + ":1:"},
		{"control character", FileMinerNames, "xm\x00rig\tsrc\n", FileMinerNames + ":1:"},
		{"binary garbage", FileMinerNames, "\xff\xfe\x00\x01garbage\n", FileMinerNames + ":1:"},
		{"line too long", FileMinerNames, strings.Repeat("a", maxLineLen+10) + "\n", FileMinerNames + ":1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{tc.file: tc.body})
			_, err := Load(dir)
			if err == nil {
				t.Fatal("garbage accepted")
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, tc.want)) {
				t.Fatalf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

func TestUserFileLimits(t *testing.T) {
	t.Run("file too large", func(t *testing.T) {
		dir := t.TempDir()
		f, err := os.Create(filepath.Join(dir, FilePoolDomains))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(MaxFileSize + 1); err != nil { // sparse, no disk cost
			t.Fatal(err)
		}
		f.Close()
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("too many entries", func(t *testing.T) {
		var b strings.Builder
		for i := range MaxFileEntries + 1 {
			b.WriteString("n")
			b.WriteString(strings.Repeat("x", i%7))
			b.WriteString(hex.EncodeToString([]byte{byte(i >> 16), byte(i >> 8), byte(i)}))
			b.WriteString("\ts\n")
		}
		dir := writeFiles(t, map[string]string{FileMinerNames: b.String()})
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "entries") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("too many indicator bytes", func(t *testing.T) {
		var b strings.Builder
		pat := hex.EncodeToString([]byte(strings.Repeat("z", 1000)))
		for i := range 70 {
			b.WriteString("big" + strings.Repeat("i", i) + "\tbanner\tstrong\t" + pat + "\ts\n")
		}
		dir := writeFiles(t, map[string]string{FileContentIndicators: b.String()})
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not a regular file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, FileLogPatterns), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "regular") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Fatal("missing user dir accepted")
		}
	})
	t.Run("dir is a file", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"f": "x"})
		if _, err := Load(filepath.Join(dir, "f")); err == nil {
			t.Fatal("file as user dir accepted")
		}
	})
	t.Run("empty dir is fine", func(t *testing.T) {
		mustLoad(t, t.TempDir())
	})
}
