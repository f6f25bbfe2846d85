package detect

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/davyproject/davy/internal/host"
)

// packedELF is a valid ELF64 whose one executable segment is random bytes,
// as a packer's payload looks.
func packedELF(n int) []byte {
	var b bytes.Buffer
	const ehsize, phsize = 64, 56
	size := uint64(ehsize + phsize + n)
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: 0x400078, Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: 1}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	binary.Write(&b, binary.LittleEndian, h)
	binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: 0x400000, Filesz: size, Memsz: size, Align: 0x1000})
	rng := rand.New(rand.NewPCG(1, 2))
	for range n / 8 {
		binary.Write(&b, binary.LittleEndian, rng.Uint64())
	}
	return b.Bytes()
}

func TestExeContentEntropyAndDiskCache(t *testing.T) {
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	newEnv := func() *Env {
		env, err := NewEnv(EnvOptions{ProcFS: filepath.Join(dir, "proc"), RootFS: filepath.Join(dir, "root"), CacheDir: cacheDir})
		if err != nil {
			t.Fatal(err)
		}
		env.Snapshot = &host.Snapshot{CPUs: 2}
		return env
	}
	f := &fixture{t: t, env: newEnv()}
	f.proc, f.root = f.env.ProcFS, f.env.RootFS
	p := f.process(301, packedELF(128<<10), nil)
	p.Cmdline = []string{"app"}
	w := &Workload{Kind: KindProcess, ID: "301", Processes: []*host.Process{p}}
	a := f.assess(w)
	if !ids(a)["DAVY-I005"] || ids(a)["DAVY-I001"] {
		t.Fatalf("evidence %+v", a.Evidence)
	}
	if err := f.env.Close(); err != nil {
		t.Fatal(err)
	}

	// A new Env reads the saved result instead of the file: replace the
	// file's bytes but keep its identity.
	if err := os.WriteFile(filepath.Join(f.proc, strconv.Itoa(301), "exe"), []byte("\x7fELF honest"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.env = newEnv()
	if a := f.assess(w); !ids(a)["DAVY-I005"] {
		t.Fatalf("cached result not used: %+v", a.Evidence)
	}
	// A cache written by another engine version is ignored.
	b, err := os.ReadFile(filepath.Join(cacheDir, "exe-content.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(f.env.exes.version), []byte("0000000000000000"), 1)
	if err := os.WriteFile(filepath.Join(cacheDir, "exe-content.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	f.env = newEnv()
	if a := f.assess(w); ids(a)["DAVY-I005"] {
		t.Fatalf("stale cache used: %+v", a.Evidence)
	}
}
