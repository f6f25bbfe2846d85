package image

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestCache(t *testing.T) {
	ctx := context.Background()
	layers := standardLayers(t)
	img := imageOf(t, "linux/amd64", layers...)
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, img, "")
	tg := openOne(t, "", Options{Input: dir})
	cacheDir := t.TempDir()

	var mu sync.Mutex
	var events []EventKind
	o := WalkOptions{CacheDir: cacheDir, ScannerVersion: "rules-1", Progress: func(e Event) {
		mu.Lock()
		events = append(events, e.Kind)
		mu.Unlock()
	}}
	walk := func(t *testing.T, tg Target, o WalkOptions) (Result, *recorder) {
		t.Helper()
		rec := newRecorder()
		res, err := Walk(ctx, tg, o, rec.visit)
		if err != nil {
			t.Fatal(err)
		}
		return res, rec
	}

	first, rec1 := walk(t, tg, o)
	if rec1.calls.Load() == 0 || first.CachedLayers != 0 {
		t.Fatalf("first walk: %d calls, %d cached", rec1.calls.Load(), first.CachedLayers)
	}
	if !slicesContain(events, EventLayerStart, EventLayerProgress, EventLayerDone) {
		t.Errorf("first walk events %v", events)
	}

	t.Run("second walk reads nothing and gives the same result", func(t *testing.T) {
		events = nil
		second, rec2 := walk(t, tg, o)
		if n := rec2.calls.Load(); n != 0 {
			t.Errorf("visitor called %d times", n)
		}
		if second.CachedLayers != 3 {
			t.Errorf("%d cached layers, want 3", second.CachedLayers)
		}
		second.CachedLayers = 0
		if !reflect.DeepEqual(first, second) {
			t.Errorf("results differ:\nfirst  %+v\nsecond %+v", first, second)
		}
		if !slicesContain(events, EventLayerCached) || slicesContain(events, EventLayerStart) {
			t.Errorf("cached walk events %v", events)
		}
	})

	t.Run("a shared base layer is reused and visibility recomputed", func(t *testing.T) {
		top := layerOf(t, reg("keep/.wh.visible", ""), reg("new", mark))
		img2 := imageOf(t, "linux/amd64", layers[0], top)
		res, rec := walk(t, Target{Ref: "img2", Image: img2}, o)
		if res.CachedLayers != 1 || rec.calls.Load() != 1 {
			t.Errorf("cached %d, visits %d; want 1 and 1 (only the new layer's file)", res.CachedLayers, rec.calls.Load())
		}
		want := []wantFinding{
			{"usr/bin/xm", 0, false}, {"etc/app.conf", 0, false}, {"opt/tool/run", 0, false},
			{"keep/visible", 0, true}, {"var/lib/x", 0, false}, {"srv/data/file", 0, false}, {"new", 1, false},
		}
		if got := gotFindings(res); !reflect.DeepEqual(got, want) {
			t.Errorf("findings:\n got %v\nwant %v", got, want)
		}
	})

	t.Run("another scanner version or limit misses", func(t *testing.T) {
		for _, o2 := range []WalkOptions{
			{CacheDir: cacheDir, ScannerVersion: "rules-2"},
			{CacheDir: cacheDir, ScannerVersion: "rules-1", MaxFileBytes: 1 << 20},
		} {
			res, rec := walk(t, tg, o2)
			if res.CachedLayers != 0 || rec.calls.Load() == 0 {
				t.Errorf("%+v: cached %d, visits %d", o2, res.CachedLayers, rec.calls.Load())
			}
		}
	})

	t.Run("cache file format", func(t *testing.T) {
		d := layerDigests(t, img)[0]
		files, _ := filepath.Glob(filepath.Join(cacheDir, "layers", "sha256-"+d.Hex+"-*.json"))
		if len(files) != 3 { // rules-1, rules-2, rules-1 with another limit
			t.Fatalf("cache files %q", files)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"schema", "layer", "version", "settings", "nondirs", "dirs", "findings", "files", "bytes"} {
			if _, ok := m[k]; !ok {
				t.Errorf("cache file lacks %q: %s", k, b)
			}
		}
	})

	t.Run("a corrupt cache file is a miss and is rewritten", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(cacheDir, "layers", "*.json"))
		for _, f := range files {
			os.WriteFile(f, []byte(`{"schema":1,"nondirs":"!!"`), 0o644)
		}
		res, rec := walk(t, tg, o)
		if res.CachedLayers != 0 || rec.calls.Load() == 0 {
			t.Errorf("cached %d, visits %d", res.CachedLayers, rec.calls.Load())
		}
		res, _ = walk(t, tg, o)
		if res.CachedLayers != 3 {
			t.Errorf("not rewritten: cached %d", res.CachedLayers)
		}
	})

	t.Run("docker archive layers are cached by diff_id", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "img.tar")
		writeDockerArchive(t, path, "davy/cache:1", img)
		tg := openOne(t, "", Options{Input: path})
		first, _ := walk(t, tg, o)
		second, rec := walk(t, tg, o)
		if second.CachedLayers != 3 || rec.calls.Load() != 0 {
			t.Errorf("cached %d visits %d", second.CachedLayers, rec.calls.Load())
		}
		second.CachedLayers = first.CachedLayers
		if !reflect.DeepEqual(first, second) {
			t.Error("results differ")
		}
	})

	t.Run("a cache needs a scanner version", func(t *testing.T) {
		_, err := Walk(ctx, tg, WalkOptions{CacheDir: cacheDir}, newRecorder().visit)
		if err == nil || !strings.Contains(err.Error(), "ScannerVersion") {
			t.Errorf("err = %v", err)
		}
	})
}

func slicesContain(have []EventKind, want ...EventKind) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestCachePrunesLeastRecentlyUsed fills a cache past its bound: the
// results used longest ago go first, a result just read stays.
func TestCachePrunesLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	c := newLayerCache(WalkOptions{CacheDir: dir, ScannerVersion: "v1"})
	var hashes []v1.Hash
	for i := range 4 {
		h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(strconv.Itoa(i), 64)}
		hashes = append(hashes, h)
		rec := &layerRecord{Schema: cacheSchema, Layer: h.String(), Settings: c.settings}
		if err := c.store(rec); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(c.path(h), old, old)
	}
	if _, ok := c.load(hashes[0]); !ok { // the oldest, used now
		t.Fatal("stored result not loaded")
	}
	fi, err := os.Stat(c.path(hashes[1]))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.prune(2 * fi.Size()); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, false, true} {
		if _, err := os.Stat(c.path(hashes[i])); (err == nil) != want {
			t.Errorf("result %d kept = %v, want %v", i, err == nil, want)
		}
	}
	if err := c.prune(-1); err != nil {
		t.Error(err)
	}
}
