package content

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func opener(data []byte, opens *atomic.Int32) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		opens.Add(1)
		return io.NopCloser(bytes.NewReader(data)), nil
	}
}

func TestScanCachedHitMissEvict(t *testing.T) {
	s := newTestScanner(t, Options{CacheEntries: 2})
	var opens atomic.Int32
	data := []byte("mining.subscribe")
	k1, k2, k3 := CacheKey{Inode: 1}, CacheKey{Inode: 2}, CacheKey{Inode: 3}

	res, hit, err := s.ScanCached(k1, opener(data, &opens))
	if err != nil || hit || len(res.Hits) != 1 {
		t.Fatalf("first scan: hit %v err %v res %+v", hit, err, res)
	}
	if _, hit, _ = s.ScanCached(k1, opener(data, &opens)); !hit {
		t.Fatal("second scan of same key missed")
	}
	s.ScanCached(k2, opener(data, &opens))
	s.ScanCached(k1, opener(data, &opens)) // k1 becomes most recent
	s.ScanCached(k3, opener(data, &opens)) // evicts k2
	if s.CacheLen() != 2 {
		t.Fatalf("cache holds %d", s.CacheLen())
	}
	if _, hit, _ = s.ScanCached(k1, opener(data, &opens)); !hit {
		t.Fatal("k1 was evicted though recently used")
	}
	if _, hit, _ = s.ScanCached(k2, opener(data, &opens)); hit {
		t.Fatal("k2 should have been evicted")
	}
	if got := opens.Load(); got != 4 {
		t.Fatalf("opened %d times, want 4", got)
	}
	// A different mtime is a different file version.
	if _, hit, _ = s.ScanCached(CacheKey{Inode: 1, Mtime: 9}, opener(data, &opens)); hit {
		t.Fatal("changed mtime hit the cache")
	}
}

func TestScanCachedErrorsNotCached(t *testing.T) {
	s := newTestScanner(t, Options{})
	boom := errors.New("boom")
	_, hit, err := s.ScanCached(CacheKey{Inode: 1}, func() (io.ReadCloser, error) { return nil, boom })
	if !errors.Is(err, boom) || hit {
		t.Fatalf("err %v hit %v", err, hit)
	}
	if s.CacheLen() != 0 {
		t.Fatal("failed open was cached")
	}
	_, _, err = s.ScanCached(CacheKey{Inode: 2}, func() (io.ReadCloser, error) {
		return io.NopCloser(&failingReader{data: []byte("abc"), err: boom}), nil
	})
	if !errors.Is(err, boom) || s.CacheLen() != 0 {
		t.Fatalf("failed read: err %v, cache %d", err, s.CacheLen())
	}
}

func TestScanCachedConcurrentSameKey(t *testing.T) {
	s := newTestScanner(t, Options{})
	var opens atomic.Int32
	release := make(chan struct{})
	open := func() (io.ReadCloser, error) {
		opens.Add(1)
		<-release // hold the first scan so the others pile up behind it
		return io.NopCloser(bytes.NewReader([]byte("RandomX\x03"))), nil
	}
	var wg sync.WaitGroup
	results := make(chan Result, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _, err := s.ScanCached(CacheKey{Inode: 7}, open)
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	close(results)
	for res := range results {
		if len(res.Hits) != 1 {
			t.Fatalf("hits %v", res.Names())
		}
	}
	if got := opens.Load(); got != 1 {
		t.Fatalf("opened %d times, want 1", got)
	}
}

func TestScanCachedPanicDoesNotStrandWaiters(t *testing.T) {
	s := newTestScanner(t, Options{})
	func() {
		defer func() { _ = recover() }()
		s.ScanCached(CacheKey{Inode: 1}, func() (io.ReadCloser, error) { panic("bad opener") })
	}()
	done := make(chan struct{})
	go func() {
		s.ScanCached(CacheKey{Inode: 1}, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nil)), nil })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("second call blocked behind a panicked scan")
	}
}
