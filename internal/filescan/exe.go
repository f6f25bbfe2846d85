package filescan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"

	"github.com/davyproject/davy/internal/content"
)

// ResultVersion changes whenever ExeResult's meaning does, so persisted
// results of an older engine are not reused.
const ResultVersion = "filescan-exe-2"

// ExeResult is what the engine learns from an executable's bytes. It is
// plain data (JSON-encodable) so callers can persist it, and read-only once
// returned: cached results are shared.
type ExeResult struct {
	content.Result
	// Entropy is the Shannon entropy of all bytes read, in bits per byte,
	// measured only when the file is not an ELF or its headers are bad;
	// a well-formed ELF is judged by SegmentEntropy.
	Entropy float64 `json:"entropy"`
	// SegmentEntropy is that of the largest executable segment of at least
	// Options.MinEntropyBytes (SegmentSize bytes); 0 when there is none.
	SegmentEntropy float64 `json:"segment_entropy,omitempty"`
	SegmentSize    int64   `json:"segment_size,omitempty"`
	// HighEntropy is set when the file or that segment reaches
	// Options.EntropyThreshold: packed or encrypted code.
	HighEntropy bool `json:"high_entropy,omitempty"`
	// HeaderError says why the ELF headers could not be trusted (corrupt
	// or truncated); the content indicators still count.
	HeaderError string `json:"header_error,omitempty"`
}

// ScanExecutable reads an executable (for the host: /proc/PID/exe) and
// returns its content result. Only read errors are returned; corrupt headers
// are reported in ExeResult.HeaderError. On a read error the partial result
// is returned with it.
func (e *Engine) ScanExecutable(r io.Reader) (ExeResult, error) {
	hp := e.heads.Get().(*[]byte)
	defer e.heads.Put(hp)
	head, err := readHead(r, *hp)
	if err != nil {
		return ExeResult{}, fmt.Errorf("filescan: read: %w", err)
	}
	return e.scanExe(context.Background(), head, r)
}

// exeObserver sees every byte the content scanner reads, for the entropy
// histograms and the tail kept for the section headers.
type exeObserver struct {
	ctx   context.Context
	r     io.Reader
	limit int64
	off   int64
	file  histogram
	// wholeFile: measure the entropy of every byte, not only of the
	// executable segments (see scanExe).
	wholeFile bool
	regions   []region
	tail      []byte // ring of the last tailSize bytes
	tailN     int64  // bytes ever written to the ring
}

func (o *exeObserver) Read(p []byte) (int, error) {
	if err := o.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := o.r.Read(p)
	if n > 0 && o.off < o.limit {
		chunk := p[:min(int64(n), o.limit-o.off)]
		if o.wholeFile {
			o.file.add(chunk)
		}
		for i := range o.regions {
			o.regions[i].observe(o.off, chunk)
		}
		o.keepTail(chunk)
		o.off += int64(len(chunk))
	}
	return n, err
}

func (o *exeObserver) keepTail(chunk []byte) {
	if len(chunk) >= tailSize {
		copy(o.tail, chunk[len(chunk)-tailSize:])
		o.tailN = tailSize // ring now starts at 0
		return
	}
	for len(chunk) > 0 {
		at := int(o.tailN % tailSize)
		k := copy(o.tail[at:], chunk)
		chunk = chunk[k:]
		o.tailN += int64(k)
	}
}

// tailBytes returns the kept tail in file order.
func (o *exeObserver) tailBytes() []byte {
	if o.tailN <= tailSize {
		return o.tail[:o.tailN]
	}
	at := int(o.tailN % tailSize)
	return append(append([]byte(nil), o.tail[at:]...), o.tail[:at]...)
}

// scanExe streams an executable once: content indicators and SHA-256 (the
// content scanner), entropy of the file and of its segments, header checks.
func (e *Engine) scanExe(ctx context.Context, head []byte, r io.Reader) (ExeResult, error) {
	var res ExeResult
	var segs []region
	if bytes.HasPrefix(head, magicELF) {
		var err error
		segs, err = loadSegments(head, e.opts.MinEntropyBytes)
		if err != nil && !errors.Is(err, errNotKept) {
			res.HeaderError = err.Error()
		}
	}
	for i := range segs {
		segs[i].h = new(histogram)
	}
	// A well-formed ELF is judged by its executable segments; one without
	// any (split debug info, data-only objects) runs no code, so its
	// compressed sections are not a packer's payload. Every byte counts
	// only when the headers cannot be trusted or this is not an ELF.
	wholeFile := res.HeaderError != "" || !bytes.HasPrefix(head, magicELF)
	obs := &exeObserver{ctx: ctx, r: withHead(head, r), limit: e.opts.MaxFileBytes, regions: segs, wholeFile: wholeFile, tail: make([]byte, tailSize)}
	cr, err := e.sc.Scan(obs)
	res.Result = cr
	if wholeFile && cr.BytesRead >= e.opts.MinEntropyBytes {
		res.Entropy = obs.file.entropy()
	}
	for _, sg := range segs {
		// Largest first; a segment cut short by the size limit is measured
		// on what was read.
		if sg.h.n >= e.opts.MinEntropyBytes {
			res.SegmentEntropy, res.SegmentSize = sg.h.entropy(), sg.size
			break
		}
	}
	res.HighEntropy = res.Entropy >= e.opts.EntropyThreshold || res.SegmentEntropy >= e.opts.EntropyThreshold
	if err == nil && !cr.Truncated && res.HeaderError == "" && cr.ELF {
		if lerr := checkLayout(head, obs.tailBytes(), cr.BytesRead); lerr != nil {
			res.HeaderError = lerr.Error()
		}
	}
	return res, err
}

// ExeFindings judges an executable's result: DAVY-I001 (miner content),
// I002 (known release hash), I003 (some indicators), I004 (UPX), I005
// (high entropy, when not already explained by UPX). path names the
// executable in messages and in the "exe" value.
func (e *Engine) ExeFindings(path string, res ExeResult) []Finding {
	var out []Finding
	vals := map[string]string{"exe": path, "sha256": res.SHA256, "indicators": res.Summary()}
	if res.Truncated {
		vals["truncated_at"] = strconv.FormatInt(res.BytesRead, 10)
	} else if en, ok := e.in.ReleaseHash(res.SHA256); ok {
		out = append(out, Finding{ID: "DAVY-I002", Path: path, Values: vals,
			Message: "executable " + quote(path) + " is a known miner release (" + en.Note + ", " + en.Source + ")"})
	}
	switch res.Classify() {
	case content.Miner:
		out = append(out, Finding{ID: "DAVY-I001", Path: path, Values: vals,
			Message: "executable " + quote(path) + " matches miner content: " + brief(res.Result)})
	case content.Partial:
		out = append(out, Finding{ID: "DAVY-I003", Path: path, Values: vals,
			Message: "executable " + quote(path) + " has some miner indicators: " + brief(res.Result)})
	}
	switch {
	case res.UPX:
		out = append(out, Finding{ID: "DAVY-I004", Path: path, Values: vals, Message: "executable " + quote(path) + " is UPX-packed"})
	case res.HighEntropy:
		v := maps.Clone(vals)
		v["entropy"] = strconv.FormatFloat(res.Entropy, 'f', 2, 64)
		what := fmt.Sprintf("the file's entropy is %.2f bits/byte", res.Entropy)
		if res.SegmentEntropy > res.Entropy {
			v["segment_entropy"] = strconv.FormatFloat(res.SegmentEntropy, 'f', 2, 64)
			v["segment_size"] = strconv.FormatInt(res.SegmentSize, 10)
			what = fmt.Sprintf("its largest executable segment (%d bytes) has %.2f bits/byte", res.SegmentSize, res.SegmentEntropy)
		}
		out = append(out, Finding{ID: "DAVY-I005", Path: path, Values: v,
			Message: "executable " + quote(path) + " looks packed or encrypted: " + what})
	}
	return out
}

// briefNames is how many indicator names per category a message shows; the
// "indicators" value has them all.
const briefNames = 2

// brief summarises the hits per category for a one-line message, strong
// indicators first.
func brief(res content.Result) string {
	var parts []string
	by := map[string][]string{}
	for _, weak := range []bool{false, true} {
		for _, h := range res.Hits {
			if h.Weak == weak {
				by[h.Category] = append(by[h.Category], h.Name)
			}
		}
	}
	for _, c := range content.Categories {
		names := by[c]
		if len(names) == 0 {
			continue
		}
		s := c + ": " + strings.Join(names[:min(len(names), briefNames)], ", ")
		if len(names) > briefNames {
			s += fmt.Sprintf(" (+%d)", len(names)-briefNames)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
