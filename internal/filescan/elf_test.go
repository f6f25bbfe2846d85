package filescan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/davyproject/davy/internal/intel"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
)

// mkELF builds a small valid ELF64 executable: header, one PT_LOAD program
// header covering the whole file, then body.
func mkELF(body []byte) []byte {
	var b bytes.Buffer
	const ehsize, phsize = 64, 56
	size := uint64(ehsize + phsize + len(body))
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: 0x400000 + ehsize + phsize, Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: 1,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	binary.Write(&b, binary.LittleEndian, h)
	binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: 0x400000, Paddr: 0x400000, Filesz: size, Memsz: size, Align: 0x1000})
	b.Write(body)
	return b.Bytes()
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// minerBinaries returns the testbed miner and a stripped copy of it.
func minerBinaries(t *testing.T) (raw, stripped string) {
	t.Helper()
	raw = testbedtest.BuildOnce(t).Miner
	stripped = filepath.Join(t.TempDir(), "kworker")
	out, err := exec.Command("strip", "-o", stripped, raw).CombinedOutput()
	if err != nil {
		t.Fatalf("strip: %v: %s", err, out)
	}
	return raw, stripped
}

func TestELF(t *testing.T) {
	e := newEngine(t)
	raw, stripped := minerBinaries(t)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	packed := mkELF(randomBytes(256<<10, 1))
	upx := mkELF(randomBytes(256<<10, 2))
	copy(upx[200:], "UPX!")
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"testbed miner", read(raw), []string{"DAVY-I001"}},
		{"testbed miner stripped and renamed", read(stripped), []string{"DAVY-I001"}},
		{"xz", read("/usr/bin/xz"), nil},
		{"openssl", read("/usr/bin/openssl"), nil},
		{"busybox", read("/bin/busybox"), nil},
		{"high entropy", packed, []string{"DAVY-I005"}},
		{"upx", upx, []string{"DAVY-I004"}},
		{"small honest", mkELF([]byte("an honest program")), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := scanStream(t, e, "usr/bin/x", tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if got := idSet(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v%s", got, tc.want, dump(fs))
			}
		})
	}
}

func TestELFEntropyValues(t *testing.T) {
	e := newEngine(t)
	res, err := e.ScanExecutable(bytes.NewReader(mkELF(randomBytes(256<<10, 3))))
	if err != nil {
		t.Fatal(err)
	}
	if !res.HighEntropy || res.SegmentEntropy < 7.9 || res.SegmentSize == 0 || res.HeaderError != "" {
		t.Fatalf("result %+v", res)
	}
	res, err = e.ScanExecutable(bytes.NewReader(readFile(t, "/usr/bin/openssl")))
	if err != nil {
		t.Fatal(err)
	}
	// A well-formed ELF is measured on its executable segments only.
	if res.HighEntropy || res.Entropy != 0 || res.SegmentEntropy < 4 || res.HeaderError != "" {
		t.Fatalf("openssl %+v", res)
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Corrupt headers give an error naming the file, and the raw indicators
// still count.
func TestELFCorruptHeaders(t *testing.T) {
	e := newEngine(t)
	raw, _ := minerBinaries(t)
	good := readFile(t, raw)
	for _, tc := range []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"program headers past the end", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[0x20:], 1<<40); return b }},
		{"bad phentsize", func(b []byte) []byte { binary.LittleEndian.PutUint16(b[0x36:], 3); return b }},
		{"section headers past the end", func(b []byte) []byte { binary.LittleEndian.PutUint64(b[0x28:], uint64(len(b))+10); return b }},
		{"truncated file", func(b []byte) []byte { return b[:len(b)/2] }},
		{"bad class", func(b []byte) []byte { b[elf.EI_CLASS] = 9; return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.mutate(slices.Clone(good))
			fs, err := scanStream(t, e, "img!usr/bin/app", data)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != "img!usr/bin/app" {
				t.Fatalf("error does not name the file: %v", err)
			}
			if !has(fs, "DAVY-I001") {
				t.Fatalf("raw indicators lost%s", dump(fs))
			}
			t.Log(err)
		})
	}
}

// A Kinsing-like Go dropper is found by its function names in pclntab,
// which survive -s -w.
func TestGoDropperSymbolsSurviveStrip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	dir := t.TempDir()
	src := `package main

import "os"

//go:noinline
func backconnect() int { return len(os.Args) + 1 }

//go:noinline
func masscan() int { return len(os.Args) + 2 }

//go:noinline
func redisBrute() int { return len(os.Args) + 3 }

func main() { os.Exit(backconnect() + masscan() + redisBrute() - 3*len(os.Args) - 6) }
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module dropper\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kinsing-like")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	fs, err := scanStream(t, newEngine(t), "kinsing-like", readFile(t, bin))
	if err != nil {
		t.Fatal(err)
	}
	f := findingAt(fs, "DAVY-I001", "")
	if f == nil {
		t.Fatalf("stripped dropper not found%s", dump(fs))
	}
	if f.Values["indicators"] != "dropper: kinsing-backconnect, kinsing-masscan, kinsing-redis-brute" {
		t.Errorf("indicators %q", f.Values["indicators"])
	}
}

func TestELFReleaseHashAndLimit(t *testing.T) {
	data := mkELF(randomBytes(4096, 4))
	sum := sha256.Sum256(data)
	dir := t.TempDir()
	line := fmt.Sprintf("%x\ttest\tbinary test-miner\n", sum)
	if err := os.WriteFile(filepath.Join(dir, intel.FileReleaseHashes), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := intel.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := scanStream(t, e, "m", data)
	if err != nil || !has(fs, "DAVY-I002") {
		t.Fatalf("err %v%s", err, dump(fs))
	}

	small, err := New(in, Options{MaxFileBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	fs, err = scanStream(t, small, "m", data)
	if !errors.Is(err, ErrLimit) || has(fs, "DAVY-I002") {
		t.Fatalf("truncated: err %v%s", err, dump(fs))
	}
}

func TestScanExecutableCached(t *testing.T) {
	e := newEngineOpts(t, Options{CacheEntries: 2})
	data := mkELF(randomBytes(64<<10, 5))
	opens := 0
	open := func() (rc readCloser, err error) {
		opens++
		return nopCloser{bytes.NewReader(data)}, nil
	}
	k := CacheKey{Inode: 1}
	r1, hit, err := e.ScanExecutableCached(k, open)
	if err != nil || hit || !r1.HighEntropy {
		t.Fatalf("first: %+v %v %v", r1, hit, err)
	}
	if _, hit, _ = e.ScanExecutableCached(k, open); !hit || opens != 1 {
		t.Fatalf("second: hit %v opens %d", hit, opens)
	}
	e.ScanExecutableCached(CacheKey{Inode: 2}, open)
	e.ScanExecutableCached(CacheKey{Inode: 3}, open)
	if e.CacheLen() != 2 {
		t.Fatalf("cache holds %d", e.CacheLen())
	}
	boom := errors.New("boom")
	if _, _, err := e.ScanExecutableCached(CacheKey{Inode: 9}, func() (readCloser, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	_ = context.Background()
}
