package filescan

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/davyproject/davy/internal/intel/wallet"
	"github.com/davyproject/davy/internal/minertext"
)

// Limits on per-file state of the line rules.
const (
	maxVars     = 256
	maxVarValue = 1 << 10
	maxDownload = 64
)

// analyzer applies the script rules to the lines of one text and keeps
// one finding per evidence ID (the first line that matched, and a count).
type analyzer struct {
	e       *Engine
	kind    textKind
	subject string // "script \"x.sh\"", "image config Entrypoint"
	vars    map[string]string
	hits    map[string]*lineHit
	// File-wide facts that decide rules at the end.
	chmodX     bool
	downloads  []lineHit // raw-IP downloads waiting for a sign they are run
	tuning     *lineHit  // huge pages or msr loading, waiting for a miner co-signal
	minerWord  bool      // a miner word or the stratum scheme somewhere
	hexWallets *lineHit  // checksum-less hex addresses, counted only beside other miner text
}

// lineHit is one rule's match.
type lineHit struct {
	line int // 0 when the text has no lines (image config values)
	text string
	desc string // what the rule saw, for the message
	vals map[string]string
	n    int
}

func (e *Engine) newAnalyzer(kind textKind, subject string) *analyzer {
	return &analyzer{e: e, kind: kind, subject: subject, hits: map[string]*lineHit{}}
}

func (a *analyzer) record(id string, line int, text, desc string, vals map[string]string) {
	if h, ok := a.hits[id]; ok {
		h.n++
		return
	}
	a.hits[id] = &lineHit{line: line, text: text, desc: desc, vals: vals, n: 1}
}

// maskOf runs the keyword matcher over a string (an expanded line, an
// image config value).
func (e *Engine) maskOf(s string) uint32 {
	var m uint32
	e.kw.NewStream().Write([]byte(s), func(p int, _ int64) { m |= e.kwBits[p] })
	return m
}

// line applies the rules to one logical line; mask holds the keyword
// classes found in it. Most lines of a long text have no keyword, no
// assignment and no token long enough for a wallet address: they cost a
// few byte tests and no allocation.
func (a *analyzer) line(no int, raw []byte, mask uint32) {
	mask &^= kwPoolKey // a file-level class: no line rule reads it
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == '#' {
		return // comments quote commands as often as scripts run them
	}
	a.assign(raw)
	_, addr := longRun(raw, &alnum, minAddressRun)
	expand := len(a.vars) > 0 && bytes.IndexByte(raw, '$') >= 0
	if mask == 0 && !addr && !expand {
		return
	}
	line := string(raw)
	if expand {
		if x, ok := a.expand(line); ok {
			line = x
			mask |= a.e.maskOf(x)
			_, addr = longRun([]byte(x), &alnum, minAddressRun)
		}
	}
	if mask&(kwMinerTerm|kwStratum) != 0 {
		a.minerWord = true
	}
	if addr {
		a.wallets(no, line)
	}
	if mask == 0 {
		return
	}
	a.minerText(no, line, mask)
	a.dropper(no, line, mask)
}

// minAddressRun is the shortest run of letters and digits read as a
// possible wallet address: base58check addresses have at least 26
// characters, and real bech32 ones more.
const minAddressRun = 26

var alnum = func() (set [256]bool) {
	for c := range set {
		set[c] = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	return set
}()

// minerText finds stratum URLs (C001), miner flags (C003) and pool hosts
// (N001).
func (a *analyzer) minerText(no int, line string, mask uint32) {
	var hosts []string
	if mask&kwStratum != 0 {
		for _, u := range minertext.StratumRe.FindAllString(line, 8) {
			a.record("DAVY-C001", no, line, "has the stratum URL "+quote(u), map[string]string{"url": u})
			if h := minertext.HostOf(u); h != "" {
				hosts = append(hosts, h)
			}
		}
	}
	if mask&(kwMinerFlag|kwStratum) != 0 || (mask&kwPoolFlag != 0 && mask&kwUserFlag != 0) {
		for _, cmd := range commands(line) {
			f := minertext.ParseCmdline(cmd)
			if f.PoolUser || len(f.Flags) > 1 || len(f.Flags) == 1 && !slices.Contains(weakFlags, f.Flags[0]) {
				what := strings.Join(f.Flags, " ")
				if f.PoolUser {
					what = strings.TrimSpace("pool and user (-o host:port -u ...) " + what)
				}
				a.record("DAVY-C003", no, line, "runs a miner with "+quote(what), map[string]string{"flags": what})
				a.minerWord = true
			}
			hosts = append(hosts, f.Hosts...)
		}
	}
	for _, h := range hosts {
		if en, ok := a.e.in.PoolDomain(h); ok {
			a.record("DAVY-N001", no, line, "names the mining pool "+quote(h)+" (known as "+en.Value+", "+en.Source+")",
				map[string]string{"host": h, "pool": en.Value})
			break
		}
	}
}

// wallets finds checksum-valid wallet addresses (C002). Runs of base64
// are skipped: addresses never hold '+' or '/', and base64 lines yield many
// address-shaped tokens.
func (a *analyzer) wallets(no int, line string) {
	if len(line) < 26 || looksBase64(line) {
		return
	}
	for _, w := range wallet.Find(line) {
		vals := map[string]string{"wallet": w.Text, "coin": w.Coin, "kind": w.Kind}
		desc := "has a " + w.Coin + " wallet address (" + w.Kind + ", checksum valid) " + quote(shorten(w.Text))
		if w.Kind == wallet.KindHex {
			if a.hexWallets == nil {
				a.hexWallets = &lineHit{line: no, text: line, desc: desc, vals: vals, n: 1}
			}
			continue
		}
		a.record("DAVY-C002", no, line, desc, vals)
		return
	}
}

// looksBase64 is true for a line made only of base64 characters with a
// '+' or '/' among them.
func looksBase64(s string) bool {
	special := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+' || c == '/':
			special = true
		case b64Value[c] < 0 && c != '=':
			return false
		}
	}
	return special
}

// dropper applies the S rules.
func (a *analyzer) dropper(no int, line string, mask uint32) {
	dl := downloads(line, mask)
	// pipesToShell is a costly regexp: asked only where a rule needs it.
	pipeKnown, piped := false, false
	pipe := func() bool {
		if !pipeKnown {
			pipeKnown, piped = true, mask&(kwDownload|kwURL|kwBase64) != 0 && pipesToShell(line)
		}
		return piped
	}
	if mask&kwChmod != 0 && reChmodX.MatchString(line) {
		a.chmodX = true
	}
	var ip, src string
	rawIP := false
	if dl || mask&kwURL != 0 {
		ip, src, rawIP = rawIPSource(line)
	}
	if dl && pipe() {
		a.record("DAVY-S002", no, line, "pipes a download into a shell", nil)
	}
	if dl && rawIP && len(a.downloads) < maxDownload {
		h := lineHit{line: no, text: line, desc: "downloads " + quote(src) + " from the raw IP address " + ip + " and runs it",
			vals: map[string]string{"ip": ip, "source": src}}
		if pipe() || runsLocal(line) {
			h.n = 1 // run on the same line: no chmod needed
		}
		a.downloads = append(a.downloads, h)
	}
	// A cron entry that fetches and runs: piped into a shell, or fetched
	// from a raw IP, or written to a path that is then run. A cron job that
	// only pings a URL (health checks) does not count.
	// The tool may sit in a variable ($LDR http://...), so any URL counts.
	if (dl || mask&kwURL != 0) && (a.kind == kindCron || mask&kwCron != 0) && (pipe() || rawIP || runsLocal(line)) {
		switch {
		case a.kind == kindCron:
			a.record("DAVY-S003", no, line, "has a cron entry that downloads and runs code", nil)
		case reCronRef.MatchString(line):
			a.record("DAVY-S003", no, line, "installs a cron entry that downloads and runs code", nil)
		}
	}
	if mask&kwKill != 0 {
		if what, ok := a.killsRivals(line); ok {
			a.record("DAVY-S004", no, line, "kills rival miners ("+quote(what)+")", map[string]string{"target": what})
		}
	}
	if mask&kwCron != 0 {
		if what, ok := a.cleansCron(line); ok {
			a.record("DAVY-S004", no, line, "removes rival miners' cron entries ("+quote(what)+")", map[string]string{"target": what})
		}
	}
	if mask&kwMSR != 0 && reMSRWrite.MatchString(line) {
		a.record("DAVY-S005", no, line, "writes CPU model-specific registers (MSR), as miners do for RandomX", nil)
	} else if a.tuning == nil && (mask&kwMSR != 0 && reMSRLoad.MatchString(line) || mask&kwHuge != 0 && reHugePages.MatchString(line)) {
		a.tuning = &lineHit{line: no, text: line, desc: "reserves huge pages or loads the msr module, with other miner traits", n: 1}
	}
	if mask&kwPreload != 0 && rePreload.MatchString(line) {
		a.record("DAVY-S006", no, line, "writes /etc/ld.so.preload", nil)
	}
	if mask&kwChattr != 0 && reChattr.MatchString(line) {
		a.record("DAVY-S007", no, line, "changes immutable attributes with chattr", nil)
	}
	if mask&kwBase64 != 0 && reB64Decode.MatchString(line) && (pipe() || reB64Exec.MatchString(line)) {
		a.record("DAVY-S008", no, line, "decodes base64 into a shell", nil)
	}
	if mask&kwSecurity != 0 && reSecurity.MatchString(line) {
		a.record("DAVY-S009", no, line, "turns off a security control", nil)
	}
}

// assign remembers NAME=value (optionally after export, local, readonly),
// so that $NAME can be expanded in later lines: droppers keep their tool,
// pool and wallet in variables.
func (a *analyzer) assign(line []byte) {
	if bytes.IndexByte(line, '=') <= 0 {
		return
	}
	for _, kw := range assignPrefixes {
		line = bytes.TrimPrefix(line, kw)
	}
	i := 0
	for i < len(line) && (line[i] == '_' || line[i] >= 'a' && line[i] <= 'z' || line[i] >= 'A' && line[i] <= 'Z' || i > 0 && line[i] >= '0' && line[i] <= '9') {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != '=' || i > 64 {
		return
	}
	name, v := line[:i], line[i+1:]
	switch {
	case len(v) == 0:
	case v[0] == '"' || v[0] == '\'':
		if j := bytes.IndexByte(v[1:], v[0]); j >= 0 {
			v = v[1 : j+1]
		} else {
			v = v[1:]
		}
	default:
		if j := bytes.IndexAny(v, " \t;&|"); j >= 0 {
			v = v[:j]
		}
	}
	if len(v) > maxVarValue {
		return
	}
	if a.vars == nil {
		a.vars = map[string]string{}
	}
	if _, ok := a.vars[string(name)]; ok || len(a.vars) < maxVars {
		a.vars[string(name)] = string(v)
	}
}

var assignPrefixes = [][]byte{[]byte("export "), []byte("local "), []byte("readonly "), []byte("declare ")}

// expand substitutes known $NAME and ${NAME} once; unknown names stay.
func (a *analyzer) expand(line string) (string, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(line); i++ {
		if line[i] != '$' || i+1 >= len(line) {
			b.WriteByte(line[i])
			continue
		}
		j, brace := i+1, line[i+1] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(line) && (line[k] == '_' || line[k] >= 'a' && line[k] <= 'z' || line[k] >= 'A' && line[k] <= 'Z' || k > j && line[k] >= '0' && line[k] <= '9') {
			k++
		}
		v, ok := a.vars[line[j:k]]
		if !ok || (brace && (k >= len(line) || line[k] != '}')) {
			b.WriteByte(line[i])
			continue
		}
		if brace {
			k++
		}
		b.WriteString(v)
		changed = true
		i = k - 1
		if b.Len() > maxLineBytes {
			break
		}
	}
	return b.String(), changed
}

// finish decides the rules that depend on the whole text and returns the
// findings, one per evidence ID, ordered by ID.
func (a *analyzer) finish(path string) []Finding {
	for _, d := range a.downloads {
		if d.n > 0 || a.chmodX {
			a.record("DAVY-S001", d.line, d.text, d.desc, d.vals)
			break
		}
	}
	if a.tuning != nil && (a.minerWord || a.hasAny("DAVY-S001", "DAVY-S003", "DAVY-S004", "DAVY-S006", "DAVY-S008", "DAVY-S009", "DAVY-C001", "DAVY-C002", "DAVY-N001")) {
		a.record("DAVY-S005", a.tuning.line, a.tuning.text, a.tuning.desc, nil)
	}
	if a.hexWallets != nil && a.hasAny("DAVY-C001", "DAVY-C003", "DAVY-N001") {
		h := a.hexWallets
		a.record("DAVY-C002", h.line, h.text, h.desc, h.vals)
	}
	ids := make([]string, 0, len(a.hits))
	for id := range a.hits {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Finding, 0, len(ids))
	for _, id := range ids {
		h := a.hits[id]
		vals := map[string]string{}
		for k, v := range h.vals {
			vals[k] = v
		}
		vals["text"] = excerpt(h.text)
		msg := a.subject + " " + h.desc
		if h.line > 0 {
			vals["line"] = strconv.Itoa(h.line)
			msg += fmt.Sprintf(" (line %d: %s)", h.line, quote(excerpt(h.text)))
		} else {
			msg += ": " + quote(excerpt(h.text))
		}
		if h.n > 1 {
			vals["matches"] = strconv.Itoa(h.n)
		}
		out = append(out, Finding{ID: id, Path: path, Message: msg, Values: vals})
	}
	return out
}

func (a *analyzer) hasAny(ids ...string) bool {
	for _, id := range ids {
		if _, ok := a.hits[id]; ok {
			return true
		}
	}
	return false
}

// drop forgets findings another rule already explains (a config file's
// stratum URL and wallet are part of its F001/F002).
func (a *analyzer) drop(ids ...string) {
	for _, id := range ids {
		delete(a.hits, id)
	}
}
