package main

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	kgzip "github.com/klauspost/compress/gzip"
)

// sample is one timed run of a contender.
type sample struct {
	dur    time.Duration
	rssKiB int64               // peak RSS, 0 when not measured
	found  map[string][]string // in-image path -> what matched it
	exit   int
	note   string
}

// gunzipper opens a gzip stream; the floor is timed with davy's library
// (klauspost/compress, as internal/image uses) and, for reference, with the
// standard library's.
type gunzipper func(io.Reader) (io.Reader, error)

func klauspostGunzip(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) }
func stdlibGunzip(r io.Reader) (io.Reader, error)    { return gzip.NewReader(r) }

// floor decompresses every layer of the layout to io.Discard, parallel
// layers at a time: the least any image scanner that reads every byte must
// spend.
func floor(layoutDir string, parallel int, gunzip gunzipper) (sample, error) {
	start := time.Now()
	idx, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		return sample{}, fmt.Errorf("floor: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) == 0 {
		return sample{}, fmt.Errorf("floor: index of %s: %w", layoutDir, errors.Join(err, errors.New("no image")))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		return sample{}, fmt.Errorf("floor: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return sample{}, fmt.Errorf("floor: %w", err)
	}
	// Largest layers first, as davy schedules them: the best order for
	// a fixed number of workers.
	sizes := make([]int64, len(layers))
	for i, l := range layers {
		if sizes[i], err = l.Size(); err != nil {
			return sample{}, fmt.Errorf("floor: %w", err)
		}
	}
	order := make([]int, len(layers))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	errs := make([]error, len(layers))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, i := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = gunzipLayer(layers[i].Compressed, gunzip)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return sample{}, fmt.Errorf("floor: %w", err)
	}
	return sample{dur: time.Since(start)}, nil
}

func gunzipLayer(open func() (io.ReadCloser, error), gunzip gunzipper) error {
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	zr, err := gunzip(bufio.NewReaderSize(rc, 1<<20))
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, zr)
	return err
}

// execResult is one finished child process.
type execResult struct {
	dur            time.Duration
	hwmKiB         int64
	stdout, stderr []byte
	exit           int
}

// execTimed runs a command and polls its VmHWM (a child's ru_maxrss would
// include this benchmark's memory from before the exec). A non-zero exit is
// returned in exit, not as an error: scanners exit 1 when they find something.
func execTimed(name string, args ...string) (execResult, error) {
	var out, errb bytes.Buffer
	c := exec.Command(name, args...)
	c.Stdout, c.Stderr = &out, &errb
	start := time.Now()
	if err := c.Start(); err != nil {
		return execResult{}, fmt.Errorf("%s: %w", name, err)
	}
	done := make(chan struct{})
	var hwm int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if v := readHWM(c.Process.Pid); v > hwm {
				hwm = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	err := c.Wait()
	dur := time.Since(start)
	close(done)
	wg.Wait()
	r := execResult{dur: dur, hwmKiB: hwm, stdout: out.Bytes(), stderr: errb.Bytes()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	case err != nil:
		return r, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// readHWM returns VmHWM of a live process in KiB, 0 once it has exited.
func readHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// tail is the last lines of a child's stderr, for error messages.
func tail(b []byte, lines int) string {
	s := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(s[max(0, len(s)-lines):], "\n")
}
