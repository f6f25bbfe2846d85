package filescan

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"sort"
)

// ELF headers are parsed with debug/elf from bytes kept while the file
// streams past: the head (ELF and program headers, and the section headers
// of Go binaries) and the tail (where GNU tools put the section headers and
// their name table). Nothing is read twice.

const (
	tailSize   = 64 << 10
	maxRegions = 16 // loadable segments measured for entropy
)

// errNotKept is returned for file ranges that were neither in the head nor
// in the tail: the layout is unusual, not corrupt.
var errNotKept = errors.New("range not kept")

// sparseFile serves ReadAt from the kept pieces of a file.
type sparseFile struct {
	pieces []piece
	size   int64 // bytes read; -1 while unknown
}

type piece struct {
	off  int64
	data []byte
}

func (f *sparseFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errNotKept
	}
	for _, pc := range f.pieces {
		if off >= pc.off && off+int64(len(p)) <= pc.off+int64(len(pc.data)) {
			return copy(p, pc.data[off-pc.off:]), nil
		}
	}
	if f.size >= 0 && off+int64(len(p)) > f.size {
		// The headers claim more than there is: corrupt or truncated.
		return 0, fmt.Errorf("headers point at bytes %d-%d of a %d-byte file (truncated?): %w", off, off+int64(len(p)), f.size, io.ErrUnexpectedEOF)
	}
	return 0, errNotKept
}

// parseELF runs debug/elf on r, turning its panics on hostile headers into
// errors.
func parseELF(r io.ReaderAt) (f *elf.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("debug/elf panicked: %v", p)
		}
	}()
	return elf.NewFile(r)
}

// progHeaderOffsets are where ELF32 and ELF64 headers keep e_shoff,
// e_shnum and e_shstrndx, which are blanked for the first parse so that
// debug/elf reads only the ELF and program headers.
var sectionFields = map[elf.Class][][2]int{
	elf.ELFCLASS32: {{0x20, 4}, {0x30, 2}, {0x32, 2}},
	elf.ELFCLASS64: {{0x28, 8}, {0x3c, 2}, {0x3e, 2}},
}

// loadSegments parses the program headers from the head and returns the
// executable loadable segments big enough to measure, largest first.
func loadSegments(head []byte, minSize int64) ([]region, error) {
	if len(head) < 64 {
		return nil, errors.New("ELF header truncated")
	}
	hdr := bytes.Clone(head[:64])
	fields, ok := sectionFields[elf.Class(hdr[elf.EI_CLASS])]
	if !ok {
		return nil, fmt.Errorf("unknown ELF class %d", hdr[elf.EI_CLASS])
	}
	for _, f := range fields {
		clear(hdr[f[0] : f[0]+f[1]])
	}
	sf := &sparseFile{pieces: []piece{{0, hdr}, {0, head}}, size: -1}
	f, err := parseELF(sf)
	if err != nil {
		return nil, err
	}
	var segs []region
	for _, p := range f.Progs {
		// Only executable segments: honest programs keep compressed data
		// (curl's manual, iconv tables) in read-only ones, while a packer's
		// payload is unpacked by code in the segment that holds it.
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && int64(p.Filesz) >= minSize {
			segs = append(segs, region{off: int64(p.Off), size: int64(p.Filesz)})
		}
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].size > segs[j].size })
	if len(segs) > maxRegions {
		segs = segs[:maxRegions]
	}
	return segs, nil
}

// checkLayout parses the whole header set from head and tail once the file
// has been read, and checks that every segment and section lies inside the
// file. It returns nil when the headers are fine or lie outside the kept
// bytes.
func checkLayout(head, tail []byte, size int64) error {
	sf := &sparseFile{pieces: []piece{{0, head}, {size - int64(len(tail)), tail}}, size: size}
	f, err := parseELF(sf)
	if errors.Is(err, errNotKept) {
		return nil
	}
	if err != nil {
		return err
	}
	for i, p := range f.Progs {
		if p.Filesz > 0 && (p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off) {
			return fmt.Errorf("program header %d (%s) spans bytes %d-%d of a %d-byte file", i, p.Type, p.Off, p.Off+p.Filesz, size)
		}
	}
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NOBITS || sec.Type == elf.SHT_NULL {
			continue
		}
		if sec.Offset > uint64(size) || sec.FileSize > uint64(size)-sec.Offset {
			return fmt.Errorf("section %q spans bytes %d-%d of a %d-byte file", sec.Name, sec.Offset, sec.Offset+sec.FileSize, size)
		}
	}
	return nil
}

// elf scans an ELF file and reports what its content says.
func (s *scan) elf(path string, head []byte, r io.Reader) {
	res, err := s.e.scanExe(s.ctx, head, r)
	s.add(s.e.ExeFindings(path, res)...)
	switch {
	case err != nil:
		s.fail(path, fmt.Errorf("read: %w", err))
	case res.HeaderError != "":
		s.fail(path, fmt.Errorf("%w: ELF headers: %s", ErrCorrupt, res.HeaderError))
	}
	if res.Truncated {
		s.fail(path, fmt.Errorf("%w: only the first %d bytes were read (MaxFileBytes)", ErrLimit, res.BytesRead))
	}
}
