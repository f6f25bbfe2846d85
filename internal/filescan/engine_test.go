package filescan

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
)

// One engine serves many scans at once; run with -race.
func TestConcurrentScans(t *testing.T) {
	e := newEngine(t)
	raw, _ := minerBinaries(t)
	miner := readFile(t, raw)
	inputs := []struct {
		path string
		data []byte
		id   string
	}{
		{"m", miner, "DAVY-I001"},
		{"d.sh", []byte(kinsingLike), "DAVY-S004"},
		{"c.json", []byte(xmrigConfig), "DAVY-F001"},
		{"a.tgz", mkGzip(t, mkTar(t, member{"x/m", miner})), "DAVY-I001"},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := inputs[i%len(inputs)]
			fs, err := e.ScanFile(context.Background(), in.path, int64(len(in.data)), streamOnly{bytes.NewReader(in.data)})
			if err == nil && !has(fs, in.id) {
				err = errors.New(in.path + ": missing " + in.id + dump(fs))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestCanceledScan(t *testing.T) {
	e := newEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.ScanFile(ctx, "x.sh", -1, bytes.NewReader([]byte(kinsingLike)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

type failAfter struct {
	data []byte
	err  error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

type stuck struct{}

func (stuck) Read([]byte) (int, error) { return 0, nil }

func TestReadErrors(t *testing.T) {
	e := newEngine(t)
	boom := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		r    io.Reader
		want error
		id   string
	}{
		{"script then error", &failAfter{[]byte(kinsingLike), boom}, boom, "DAVY-S004"},
		{"elf then error", &failAfter{mkELF(randomBytes(100<<10, 9)), boom}, boom, ""},
		{"stuck reader", stuck{}, io.ErrNoProgress, ""},
		{"empty", bytes.NewReader(nil), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := e.ScanFile(context.Background(), "f", -1, tc.r)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.id != "" && !has(fs, tc.id) {
				t.Fatalf("partial findings lost%s", dump(fs))
			}
			if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) != 1 {
				t.Fatalf("%d errors for one failure: %v", len(j.Unwrap()), err)
			}
		})
	}
}
