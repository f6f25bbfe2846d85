package filescan

// b64Value maps a byte to its standard base64 value, or -1.
var b64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(alphabet) {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

// wrapMin is the shortest line of a wrapped base64 run: tools wrap at 64
// (PEM, openssl) or 76 (base64, MIME) characters.
const wrapMin = 48

// b64Tracker finds base64 runs in a byte stream and decodes them as they
// pass, so a blob of any length costs no more memory than its decoded
// prefix up to the limit. A run is one unbroken token of the alphabet, or
// lines of equal length (as base64 tools wrap) ending with a shorter line,
// with at most two '=' at the end. It counts when it has at least minLen
// characters and upper case, lower case and digits (so hex hashes and
// long words do not).
type b64Tracker struct {
	minLen int64
	maxDec int
	emit   func(off int64, data []byte, cut bool)
	off    int64 // stream offset of the next byte
	skip   bool  // decoding switched off (too many blobs)

	in                  bool
	start, chars        int64
	slashes             int64
	line, first         int
	nl                  bool // the run is at a line break
	pad                 int
	acc                 uint32
	nacc                int
	dec                 []byte
	cut                 bool
	upper, lower, digit bool
}

func (t *b64Tracker) write(p []byte) {
	for len(p) > 0 {
		if !t.in {
			k := t.nextRun(p)
			t.off += int64(k)
			if p = p[k:]; len(p) == 0 {
				return
			}
		}
		k := t.step(p)
		t.off += int64(k)
		p = p[k:]
	}
}

// step runs the state machine from the start of p until a run ends (it
// returns the length consumed, up to and including the byte that ended it)
// or p does.
func (t *b64Tracker) step(p []byte) int {
	for i, c := range p {
		v := b64Value[c]
		switch {
		case v >= 0:
			if t.in && t.pad > 0 {
				t.end()
			}
			if !t.in {
				t.begin(t.off + int64(i))
			} else if t.nl {
				t.nl, t.line = false, 0
			}
			t.chars++
			t.line++
			switch {
			case c >= 'A' && c <= 'Z':
				t.upper = true
			case c >= 'a' && c <= 'z':
				t.lower = true
			case c >= '0' && c <= '9':
				t.digit = true
			case c == '/':
				t.slashes++
			}
			if t.skip {
				continue
			}
			t.acc = t.acc<<6 | uint32(v)
			if t.nacc++; t.nacc == 4 {
				t.put(byte(t.acc>>16), byte(t.acc>>8), byte(t.acc))
				t.acc, t.nacc = 0, 0
			}
		case c == '=':
			if t.in && !t.nl {
				if t.pad++; t.pad > 2 {
					t.end()
				}
			}
		case c == '\n':
			if !t.in {
				break
			}
			if t.nl || t.pad > 0 || t.line < wrapMin || (t.first != 0 && t.line != t.first) {
				t.end()
				break
			}
			if t.first == 0 {
				t.first = t.line
			}
			t.nl = true
		case c == '\r':
			// CRLF line ends: the '\n' decides.
		default:
			if t.in {
				t.end()
			}
		}
		if v < 0 && !t.in {
			return i + 1
		}
	}
	return len(p)
}

func (t *b64Tracker) put(b ...byte) {
	if len(t.dec)+len(b) > t.maxDec {
		t.cut = true
		return
	}
	t.dec = append(t.dec, b...)
}

func (t *b64Tracker) begin(off int64) {
	t.in, t.start, t.chars, t.line, t.first, t.nl, t.pad = true, off, 0, 0, 0, false, 0
	t.acc, t.nacc, t.dec, t.cut = 0, 0, t.dec[:0], false
	t.upper, t.lower, t.digit, t.slashes = false, false, false, 0
}

func (t *b64Tracker) end() {
	t.in = false
	if t.chars < t.minLen || !(t.upper && t.lower && t.digit) || t.skip {
		return
	}
	if t.slashes >= 4 && t.slashes*16 > t.chars {
		return // a file path: base64 has a '/' in 64 characters on average
	}
	switch t.nacc { // a final partial quantum, padded or not
	case 2:
		t.put(byte(t.acc >> 4))
	case 3:
		t.put(byte(t.acc>>10), byte(t.acc>>2))
	}
	t.emit(t.start, t.dec, t.cut)
}

// close ends a run still open at the end of the stream.
func (t *b64Tracker) close() {
	if t.in {
		t.end()
	}
}

// nextRun is the fast path for ordinary text, outside a run: it returns
// the start of the first run of alphabet characters long enough to be a
// blob (at least minLen, or wrapMin for a wrapped one), or else of the
// trailing run, which may go on in the next chunk. Shorter runs cannot
// start a blob.
func (t *b64Tracker) nextRun(p []byte) int {
	at, _ := longRun(p, &b64Alphabet, max(int(min(t.minLen, wrapMin)), 1))
	return at
}

var b64Alphabet = func() (set [256]bool) {
	for c := range set {
		set[c] = b64Value[c] >= 0
	}
	return set
}()

// longRun finds the first run of at least l bytes of set in p and returns
// its start and true; without one, it returns the start of the trailing
// run (len(p) when p ends outside the set) and false. It steps over
// shorter runs as Boyer-Moore does: the byte where a long run would have
// to end is tested first, then backwards, so ordinary text costs a few
// byte tests per l bytes.
func longRun(p []byte, set *[256]bool, l int) (int, bool) {
	start := 0 // at 0 or just after a byte outside the set
	for {
		end := start + l - 1
		if end >= len(p) {
			j := len(p)
			for j > start && set[p[j-1]] {
				j--
			}
			return j, false
		}
		j := end
		for j >= start && set[p[j]] {
			j--
		}
		if j < start {
			return start, true
		}
		start = j + 1
	}
}
