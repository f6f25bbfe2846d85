package image

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestRootfs(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/f", "x "+mark)
	write("big", strings.Repeat("y", 4096)+mark)
	write("z/clean", "nothing")
	if err := os.Link(filepath.Join(root, "a/f"), filepath.Join(root, "a/hl")); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"l1": "l2", "l2": "l1", "dirloop": ".", "up": "../../..", "abs": "/etc"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err) // a fifo must be skipped, never opened (it would block)
	}
	via := filepath.Join(t.TempDir(), "via-symlink")
	if err := os.Symlink(root, via); err != nil {
		t.Fatal(err)
	}

	t.Run("walk", func(t *testing.T) {
		tg := openOne(t, "", Options{Input: via}) // a symlink to the tree is resolved
		rec := newRecorder()
		res, err := Walk(context.Background(), tg, WalkOptions{MaxFileBytes: 1024}, rec.visit)
		if err != nil {
			t.Fatal(err)
		}
		want := []wantFinding{{"a/f", 0, false}}
		if got := gotFindings(res); !reflect.DeepEqual(got, want) {
			t.Errorf("findings %v, want %v", got, want)
		}
		if !slices.Equal(res.Findings[0].Links, []string{"a/hl"}) {
			t.Errorf("links %q", res.Findings[0].Links)
		}
		wantErrors(t, res, "big: file is 4106 bytes; only the first 1024")
		if len(res.Errors) != 1 {
			t.Errorf("errors:\n%s", errorsText(res))
		}
		wantFiles := []string{"a/f", "a/hl -> a/f", "abs -> /etc", "big", "dirloop -> .", "l1 -> l2", "l2 -> l1", "up -> ../../..", "z/clean"}
		if got := rec.paths(); !reflect.DeepEqual(got, wantFiles) {
			t.Errorf("visited %q\nwant    %q", got, wantFiles)
		}
		if res.Files != 3 || res.Layers != 0 {
			t.Errorf("files %d layers %d", res.Files, res.Layers)
		}
	})
	t.Run("entry limit", func(t *testing.T) {
		res, err := Walk(context.Background(), Target{Dir: root}, WalkOptions{MaxEntries: 3}, newRecorder().visit)
		if err != nil {
			t.Fatal(err)
		}
		wantErrors(t, res, "more than 3 entries")
	})
	t.Run("not a directory", func(t *testing.T) {
		_, err := Walk(context.Background(), Target{Dir: filepath.Join(root, "big")}, WalkOptions{}, newRecorder().visit)
		if err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("err = %v", err)
		}
	})
}
