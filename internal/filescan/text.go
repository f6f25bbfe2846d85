package filescan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

const (
	textBufSize = 64 << 10
	// maxLineBytes is how much of one logical line the rules read; the
	// keyword classes and base64 runs still cover the whole line.
	maxLineBytes = 16 << 10
	// maxJoined bounds backslash-continued lines joined into one.
	maxJoined = 64
)

// text streams a text file once: the keyword automaton and the base64
// tracker see every byte, the line rules see each logical line whose
// keywords call for them, and a small config is kept whole for the config
// parser. Memory stays bounded whatever the file's size.
func (s *scan) text(path string, head []byte, r io.Reader, kind textKind, depth int) {
	e := s.e
	a := e.newAnalyzer(kind, kind.noun()+" "+quote(path))
	b64 := s.base64Tracker(path, depth)
	keepConfig := kind == kindConfig
	var cfg []byte
	if keepConfig {
		cp := e.configs.Get().(*[]byte)
		defer func() { *cp = (*cp)[:0]; e.configs.Put(cp) }()
		cfg = (*cp)[:0]
	}

	bp := e.bufs.Get().(*[]byte)
	defer e.bufs.Put(bp)
	buf := *bp
	src := ctxReader{s.ctx, withHead(head, r)}
	st := e.kw.NewStream()
	var (
		line         = make([]byte, 0, 256)
		mask         uint32
		onKeyword    = func(p int, _ int64) { mask |= e.kwBits[p] }
		lineNo, from = 1, 1
		joined       int
		total        int64
		idle         int
	)
	var fileMask uint32 // every keyword class of the text
	flush := func() {
		a.line(from, line, mask)
		fileMask |= mask
		line, mask, joined = line[:0], 0, 0
	}
	// Documents get only the base64 tracker, over up to MaxFileBytes, and
	// stop there silently: they are not run, so they are not scripts whose
	// end was left unread.
	rules := kind != kindText
	limit := e.opts.MaxScriptBytes
	if !rules {
		limit = e.opts.MaxFileBytes
	}
	for {
		want := int64(len(buf))
		if rem := limit - total; rem < want {
			want = rem
		}
		if want == 0 {
			if more, _ := probe(src); more && rules {
				s.fail(path, fmt.Errorf("%w: only the first %d bytes of the text were read (MaxScriptBytes)", ErrLimit, total))
			}
			break
		}
		n, err := src.Read(buf[:want])
		chunk := buf[:n]
		total += int64(n)
		if n == 0 && err == nil {
			if idle++; idle > maxIdleReads {
				err = io.ErrNoProgress
			}
		} else {
			idle = 0
		}
		if keepConfig {
			if len(cfg)+n <= cap(cfg) {
				cfg = append(cfg, chunk...)
			} else {
				keepConfig, cfg = false, nil
			}
		}
		b64.write(chunk)
		for rules && len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			seg := chunk
			if i >= 0 {
				seg = chunk[:i+1]
			}
			chunk = chunk[len(seg):]
			st.Write(seg, onKeyword) // the newline too, so no keyword spans lines
			body := bytes.TrimSuffix(seg, []byte("\n"))
			if i >= 0 && len(line) == 0 && len(body) <= maxLineBytes && !bytes.HasSuffix(body, []byte(`\`)) && !bytes.HasSuffix(body, []byte("\\\r")) {
				// A whole line in the chunk: read in place, not copied.
				lineNo++
				a.line(from, bytes.TrimSuffix(body, []byte("\r")), mask)
				fileMask |= mask
				mask, from = 0, lineNo
				continue
			}
			if room := maxLineBytes - len(line); room > 0 {
				line = append(line, body[:min(len(body), room)]...)
			}
			if i < 0 {
				break // the line goes on in the next chunk
			}
			lineNo++
			line = bytes.TrimSuffix(line, []byte("\r"))
			if bytes.HasSuffix(line, []byte(`\`)) && joined < maxJoined {
				line = line[:len(line)-1]
				joined++
				continue
			}
			flush()
			from = lineNo
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.fail(path, fmt.Errorf("read after %d bytes: %w", total, err))
			break
		}
	}
	if len(line) > 0 {
		flush()
	}
	b64.close()
	// A config names its pools with a stratum URL or a pool or URL key:
	// most configs have none and are not parsed.
	if cfg != nil && fileMask&(kwStratum|kwPoolKey) != 0 {
		s.config(path, cfg, a)
	}
	s.add(a.finish(path)...)
}

// probe reads one byte to learn whether r has more data.
func probe(r io.Reader) (bool, error) {
	var b [1]byte
	for range maxIdleReads {
		k, err := r.Read(b[:])
		if k > 0 {
			return true, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, err
		}
	}
	return false, io.ErrNoProgress
}

// base64Tracker returns a tracker whose blobs are scanned as files nested
// in path, bounded in number, size and depth.
func (s *scan) base64Tracker(path string, depth int) *b64Tracker {
	opts := s.e.opts
	t := &b64Tracker{minLen: int64(opts.MinBase64Len), maxDec: int(opts.MaxBase64Bytes)}
	blobs := 0
	t.emit = func(off int64, data []byte, cut bool) {
		if depth+1 > opts.MaxDepth {
			s.fail(path, fmt.Errorf("%w: base64 blob at offset %d nested deeper than MaxDepth %d; not decoded", ErrLimit, off, opts.MaxDepth))
			t.skip = true
			return
		}
		if blobs++; blobs > opts.MaxBase64Blobs {
			s.fail(path, fmt.Errorf("%w: more than %d base64 blobs (MaxBase64Blobs); the rest not decoded", ErrLimit, opts.MaxBase64Blobs))
			t.skip = true
			return
		}
		p := path + "!base64@" + strconv.FormatInt(off, 10)
		if cut {
			s.fail(p, fmt.Errorf("%w: only the first %d decoded bytes were scanned (MaxBase64Bytes)", ErrLimit, len(data)))
		}
		s.file(p, int64(len(data)), bytes.NewReader(data), depth+1, originDecoded)
	}
	return t
}
