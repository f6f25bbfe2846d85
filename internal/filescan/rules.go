package filescan

import (
	"net/netip"
	"regexp"
	"strings"
)

// The script rules are re-authored from the facts in public write-ups and
// rule sets (dropper traits of Kinsing and similar campaigns, XMRig's own
// tuning scripts); no rule code was copied. Each regexp runs only on lines
// whose keyword classes (see vocab.go) say it can match.
var (
	// Download tools and APIs; "fetch" is left out because of git fetch.
	reDownload = regexp.MustCompile(`(?:^|[\s;&|(` + "`" + `"'/=])(?:curl|wget|tftp|lwp-download|aria2c)\b|urllib|urlopen|urlretrieve|requests\.get|LWP::|getstore|/dev/tcp/`)
	reURL      = regexp.MustCompile(`(?i)\b(?:https?|ftp)://`)
	// A URL whose host is an IPv4 address, and an address with a path as
	// wget and curl also take without a scheme, and bash's /dev/tcp.
	reIPURL    = regexp.MustCompile(`(?i)\b(?:https?|ftp|tftp)://(?:[^/\s@'"]*@)?(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?(?:[/?#][^\s'"|;&)]*)?`)
	reIPPath   = regexp.MustCompile(`(?:^|[\s'"=])(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?/([^\s'"|;&)]*)`)
	reDevTCPIP = regexp.MustCompile(`/dev/tcp/(\d{1,3}(?:\.\d{1,3}){3})/\d+`)
	// Output piped or substituted into an interpreter.
	rePipeShell = regexp.MustCompile(`\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:(?:/usr)?/bin/)?(?:env\s+)?(?:busybox\s+)?(?:ba|da|z|k|a)?sh\b` +
		`|\|\s*(?:sudo\s+)?(?:(?:/usr)?/bin/)?(?:env\s+)?(?:python[0-9.]*|perl|ruby|php)\b` +
		`|\b(?:ba|da|z|k)?sh\s+-c\s+["']?\$\(|\b(?:ba|da|z|k)?sh\s+<\(|\bsource\s+<\(|(?:^|\s)\.\s+<\(|\beval\s+["']?\$\(`)
	// Running what was just written to a local path.
	reRunLocal = regexp.MustCompile(`(?:&&|;|\|\|)\s*(?:nohup\s+|setsid\s+|exec\s+)?(?:(?:ba|da)?sh\s+)?(?:\./|/tmp/|/var/tmp/|/dev/shm/)`)
	reChmodX   = regexp.MustCompile(`\bchmod\s+(?:-\S+\s+)*(?:[ugoa]*\+[rwXst]*x|0?[0-7]*[1357][0-7]*\b)`)

	reCronRef   = regexp.MustCompile(`\bcrontab\b|/etc/cron|/var/spool/cron|/etc/anacrontab`)
	reCrontabL  = regexp.MustCompile(`\bcrontab\s+(?:-u\s+\S+\s+)?-l\b`)
	reSedDelete = regexp.MustCompile(`\bsed\s+(?:-[a-zA-Z]+\s+)*['"]?/((?:[^/\\]|\\.)+)/d`)
	reGrepV     = regexp.MustCompile(`\bgrep\s+(?:-[a-zA-Z]*\s+)*-[a-zA-Z]*v[a-zA-Z]*\s+(?:-[a-zA-Z]+\s+)*['"]?([^'"\s|;]+)`)
	reCronFile  = regexp.MustCompile(`/var/spool/cron|/etc/cron`)

	reKill    = regexp.MustCompile(`\b(?:pkill|killall|kill)\b`)
	reNetTool = regexp.MustCompile(`\b(?:netstat|ss|lsof)\b`)
	rePort    = regexp.MustCompile(`:(\d{2,5})\b`)
	reIPv4    = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}\b`)

	reMSRWrite  = regexp.MustCompile(`(?:^|[;&|({]\s*|\bsudo\s+|\bthen\s+|\bdo\s+)wrmsr\s+(?:-\S+\s+)*(?:0x[0-9a-fA-F]+|\d+)|\bmodprobe\s+(?:-\S+\s+)*msr\s+allow_writes`)
	reMSRLoad   = regexp.MustCompile(`\bmodprobe\s+(?:-\S+\s+)*msr\b`)
	reHugePages = regexp.MustCompile(`nr_hugepages\s*=|>\s*/proc/sys/vm/nr_hugepages|>\s*\S*/hugepages-\S*/nr_hugepages|\bsysctl\s+(?:-w\s+)?vm\.nr_hugepages`)

	rePreload = regexp.MustCompile(`(?:>>?\s*|\btee\s+(?:-a\s+)?|\bof=|\b(?:cp|mv|install|ln)\s+(?:-\S+\s+)*\S+\s+|\bsed\s+-i\S*\s+(?:'[^']*'|"[^"]*"|\S+)\s+)["']?/etc/ld\.so\.preload\b`)
	reChattr  = regexp.MustCompile(`\bchattr\s+(?:-[RVf]+\s+)*[-+=][a-zA-Z]*[ia]`)

	reB64Decode = regexp.MustCompile(`\bbase64\s+(?:-\w+\s+)*-(?:-decode|[a-zA-Z]*d[a-zA-Z]*|D)\b|\bb64decode\b|\bopenssl\s+(?:enc\s+)?(?:-\S+\s+)*-(?:base64|a)\b[^|]*\s-d\b|\bopenssl\s+(?:enc\s+)?-d\s+(?:-\S+\s+)*-(?:base64|a)\b`)
	reB64Exec   = regexp.MustCompile(`\beval\b|\bexec\s*\(|\b(?:ba|da|z|k)?sh\s+-c\b`)

	reSecurity = regexp.MustCompile(`\bsetenforce\s+0\b|>\s*/(?:sys/fs/)?selinux/enforce\b|\bsed\b.*SELINUX=disabled` +
		`|\bufw\s+(?:--force\s+)?disable\b` +
		`|\b(?:systemctl|service)\s+(?:stop|disable|mask)\s+(?:apparmor|firewalld|ufw)\b|\bservice\s+(?:apparmor|firewalld|ufw)\s+stop\b|/etc/init\.d/(?:apparmor|firewalld|ufw)\s+stop\b` +
		`|\bnmi_watchdog\s*=\s*0\b|\becho\s+0\s*>\s*/proc/sys/kernel/nmi_watchdog\b`)
)

// publicIPv4 parses s as an IPv4 address a dropper could download from:
// not loopback, unspecified or link-local (cloud metadata).
func publicIPv4(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() || a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.IsMulticast() {
		return netip.Addr{}, false
	}
	return a, true
}

// rawIPSource returns the first download source on the line whose host is
// an IPv4 address.
func rawIPSource(line string) (ip, src string, ok bool) {
	if !hasDottedQuad(line) {
		return "", "", false
	}
	for _, m := range reIPURL.FindAllStringSubmatch(line, 8) {
		if _, ok := publicIPv4(m[1]); ok {
			return m[1], m[0], true
		}
	}
	for _, m := range reDevTCPIP.FindAllStringSubmatch(line, 8) {
		if _, ok := publicIPv4(m[1]); ok {
			return m[1], m[0], true
		}
	}
	for _, m := range reIPPath.FindAllStringSubmatch(line, 8) {
		// "10.0.0.0/8" is a network, not a path.
		if strings.Trim(m[2], "0123456789") == "" {
			continue
		}
		if _, ok := publicIPv4(m[1]); ok {
			return m[1], strings.TrimLeft(m[0], " \t'\"="), true
		}
	}
	return "", "", false
}

// hasDottedQuad is a cheap test for four dot-separated digit groups, so
// the address regexps run only on lines that can match.
func hasDottedQuad(s string) bool {
	groups, digits := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && digits > 0 && digits <= 3:
			groups, digits = groups+1, 0
			continue
		default:
			if groups >= 3 && digits > 0 && digits <= 3 {
				return true
			}
			groups, digits = 0, 0
			continue
		}
		if digits > 3 {
			groups, digits = 0, 0
		}
	}
	return groups >= 3 && digits > 0 && digits <= 3
}

// downloads reports whether the line fetches something from the network.
func downloads(line string, mask uint32) bool {
	return mask&kwDownload != 0 && reDownload.MatchString(line)
}

// pipesToShell reports output piped or substituted into an interpreter.
func pipesToShell(line string) bool {
	return strings.ContainsAny(line, "|(") && rePipeShell.MatchString(line)
}

// runsLocal reports a path under . or a temporary directory being run.
func runsLocal(line string) bool {
	return strings.ContainsAny(line, "&;|") &&
		(strings.Contains(line, "./") || strings.Contains(line, "/tmp/") || strings.Contains(line, "/dev/shm/")) &&
		reRunLocal.MatchString(line)
}

// killsRivals reports what a kill line targets when it names a miner, a
// pool or a pool port.
func (a *analyzer) killsRivals(line string) (string, bool) {
	if !reKill.MatchString(line) {
		return "", false
	}
	net := reNetTool.MatchString(line)
	for _, cmd := range commands(line) {
		for _, w := range cmd {
			if a.e.isMinerTerm(w) {
				return w, true
			}
			if net {
				for _, m := range rePort.FindAllStringSubmatch(w, 4) {
					if p, ok := parsePort(m[1]); ok && a.e.in.PoolPort(p) {
						return w, true
					}
				}
			}
		}
	}
	return "", false
}

// cleansCron reports the pattern of a rival's cron entries removed by
// "crontab -l | sed '/x/d' | crontab -", "grep -v x", or sed -i on a cron
// file, when the pattern names a miner or an address.
func (a *analyzer) cleansCron(line string) (string, bool) {
	if !reCrontabL.MatchString(line) && !reCronFile.MatchString(line) {
		return "", false
	}
	var pats []string
	for _, m := range reSedDelete.FindAllStringSubmatch(line, 8) {
		pats = append(pats, m[1])
	}
	if reCrontabL.MatchString(line) {
		for _, m := range reGrepV.FindAllStringSubmatch(line, 8) {
			pats = append(pats, m[1])
		}
	}
	for _, p := range pats {
		plain := strings.ReplaceAll(p, `\`, "")
		if a.e.isMinerTerm(plain) || reIPv4.MatchString(plain) || reURL.MatchString(plain) {
			return plain, true
		}
		for _, w := range strings.FieldsFunc(plain, func(r rune) bool { return r == '|' || r == ' ' }) {
			if a.e.isMinerTerm(w) {
				return plain, true
			}
		}
	}
	return "", false
}

func parsePort(s string) (uint16, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, false
		}
	}
	return uint16(n), n > 0
}
