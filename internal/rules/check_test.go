package rules

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestOperatorsAndFields evaluates every operator on every kind of field,
// on an event that has the value and on one that does not (absent values
// make comparisons false, as in Falco).
var operatorCases = []struct {
	cond       string
	want       bool
	wantAbsent bool // on an event without the field
}{
	// evt.*
	{`evt.type = execve`, true, true},
	{`evt.type == execve`, true, true},
	{`evt.type != connect`, true, true},
	{`evt.type in (connect, execve)`, true, true},
	{`evt.type in (connect, exit)`, false, false},
	{`evt.time > 1740832245000000000`, true, false},
	{`evt.time < 1740832245000000000`, false, false},
	{`evt.time exists`, true, false},
	{`evt.dir = <`, true, true},

	// string fields, every string operator
	{`proc.name = kworkerds`, true, false},
	{`proc.name = "kworkerds"`, true, false},
	{`proc.name = 'kworkerds'`, true, false},
	{`proc.name = other`, false, false},
	{`proc.name = ""`, false, true},
	{`proc.name != other`, true, false},
	{`proc.name != kworkerds`, false, false},
	{`proc.name in (a, kworkerds, "c d")`, true, false},
	{`proc.name in (a, b)`, false, false},
	{`proc.name intersects (kworkerds)`, true, false},
	{`proc.name contains worker`, true, false},
	{`proc.name contains xyz`, false, false},
	{`proc.name icontains WORKER`, true, false},
	{`proc.name startswith kwo`, true, false},
	{`proc.name startswith wo`, false, false},
	{`proc.name endswith erds`, true, false},
	{`proc.name glob "kw*ds"`, true, false},
	{`proc.name glob "kw?rkerds"`, true, false},
	{`proc.name glob "[jk]worker[a-z]s"`, true, false},
	{`proc.name glob "[!k]*"`, false, false},
	{`proc.name glob "x*"`, false, false},
	{`proc.name regex "^kw[a-z]+ds$"`, true, false},
	{`proc.name regex "^\d+$"`, false, false},
	{`proc.name exists`, true, false},
	{`proc.exe = ./kworkerds`, true, false},
	{`proc.exepath pmatch (/tmp, /var/tmp)`, true, false},
	{`proc.exepath pmatch (/tm)`, false, false},
	{`proc.exepath pmatch (/tmp/.x/kworkerds)`, true, false},
	{`proc.exepath startswith /tmp/`, true, false},
	{`proc.cmdline contains "--threads 4"`, true, false},
	{`proc.args = "-o pool.example.test:3333 --threads 4"`, true, false},
	{`proc.args startswith "-o "`, true, false},
	{`proc.pname = sh`, true, false},
	{`proc.pcmdline endswith kworkerds`, true, false},
	{`proc.cwd = /tmp/.x`, true, false},
	{`user.name = root`, true, false},
	{`container.id = 3f2a9c1b7d4e`, true, false},
	{`container.id != host`, true, false},
	{`container.name startswith web-`, true, false},
	{`container.image = "registry.example.test/shop/web:1.4"`, true, false},
	{`container.image.repository = registry.example.test/shop/web`, true, false},
	{`container.image.tag = "1.4"`, true, false},
	{`container.label[team] = shop`, true, false},
	{`container.label[nope] exists`, false, false},
	{`k8s.ns.name = shop`, true, false},
	{`k8s.pod.name glob "web-*"`, true, false},
	{`k8s.pod.label[app] in (web, api)`, true, false},
	{`fd.name contains "->192.0.2.10:3333"`, true, false},
	{`fd.l4proto = tcp`, true, false},
	{`davy.verdict = miner`, true, false},
	{`davy.verdict in (miner, suspicious)`, true, false},

	// proc.aname
	{`proc.aname = bash`, true, false},
	{`proc.aname = nope`, false, false},
	{`proc.aname in (containerd-shim)`, true, false},
	{`proc.aname[0] = kworkerds`, true, false},
	{`proc.aname[1] = sh`, true, false},
	{`proc.aname[2] = bash`, true, false},
	{`proc.aname[2] = sh`, false, false},
	{`proc.aname[9] exists`, false, false},
	{`proc.aname startswith container`, true, false},

	// numbers
	{`proc.pid = 4242`, true, false},
	{`proc.pid != 1`, true, false},
	{`proc.pid > 4000`, true, false},
	{`proc.pid >= 4242`, true, false},
	{`proc.pid < 4242`, false, false},
	{`proc.pid <= 4242`, true, false},
	{`proc.pid in (1, 4242)`, true, false},
	{`proc.ppid = 4200`, true, false},
	{`user.uid = 0`, true, false},
	{`user.uid exists`, true, false},
	{`fd.sport = 3333`, true, false},
	{`fd.dport in (3333, 5555)`, true, false},
	{`fd.cport > 1024`, true, false},
	{`davy.score >= 80`, true, false},
	{`davy.score exists`, true, false},
	{`davy.cpu.ratio > 0.9`, true, false},
	{`davy.cpu.ratio <= 0.5`, false, false},
	{`davy.cpu.ratio = 0.97`, true, false},
	{`davy.cpu.ratio in (0.5, 0.97)`, true, false},
	{`proc.pid = 0x1092`, true, false},

	// addresses and networks
	{`fd.sip = 192.0.2.10`, true, false},
	{`fd.sip = 192.0.2.11`, false, false},
	{`fd.sip != 192.0.2.11`, true, false},
	{`fd.sip = 192.0.2.0/24`, true, false},
	{`fd.sip in (10.0.0.0/8, 192.0.2.10)`, true, false},
	{`fd.sip = ::ffff:192.0.2.10`, true, false},
	{`fd.dip = 192.0.2.10`, true, false},
	{`fd.cip in (10.0.0.0/8)`, true, false},
	{`fd.net in (10.0.0.0/8)`, true, false},
	{`fd.net = 192.0.2.0/24`, true, false},
	{`fd.net in (172.16.0.0/12)`, false, false},
	{`fd.net != 172.16.0.0/12`, true, false},
	{`fd.snet = 192.0.2.0/24`, true, false},
	{`fd.snet in (10.0.0.0/8)`, false, false},
	{`fd.cnet in (10.0.0.0/8)`, true, false},
	{`fd.net exists`, true, false},
	{`fd.sip exists`, true, false},
	{`fd.rip = 192.0.2.10 and fd.rport = 3333`, true, false},
	{`fd.lip = 10.1.2.3 and fd.lport = 41000`, true, false},
	{`fd.rnet = 192.0.2.0/24 and fd.lnet in (10.0.0.0/8)`, true, false},
	{`fd.rnet = 10.0.0.0/8`, false, false},

	// list fields: any element
	{`davy.evidence intersects (DAVY-I001, DAVY-I002)`, true, false},
	{`davy.evidence intersects (DAVY-N003)`, false, false},
	{`davy.evidence in (DAVY-C001)`, true, false},
	{`davy.evidence contains DAVY-P001`, true, false},
	{`davy.evidence = DAVY-I001`, true, false},
	{`davy.evidence != DAVY-N003`, true, false},
	{`davy.evidence != DAVY-I001`, false, false},
	{`davy.evidence startswith DAVY-C`, true, false},
	{`davy.evidence glob "DAVY-?00*"`, true, false},
	{`davy.evidence regex "^DAVY-P"`, true, false},
	{`davy.evidence exists`, true, false},
	{`fd.sip.name = eu.pool.example.test`, true, false},
	{`fd.sip.name endswith .example.test`, true, false},
	{`fd.sip.name in (nope.test, pool.example.test)`, true, false},
	{`fd.sip.name icontains POOL`, true, false},

	// logic
	{`not proc.name = other`, true, true},
	{`not proc.name = kworkerds`, false, true},
	{`proc.name = a or proc.name = kworkerds`, true, false},
	{`proc.name = kworkerds and proc.pid = 1`, false, false},
	{`not (proc.name = a or proc.pid = 1) and proc.name exists`, true, false},
	{`proc.name = a or proc.name = b or proc.name = kworkerds`, true, false},
	{`proc.name = kworkerds and proc.pid = 4242 and user.uid = 0`, true, false},
	{`not not proc.name = kworkerds`, true, false},
	{`((proc.name = kworkerds))`, true, false},
	// not binds tighter than and, and tighter than or.
	{`not proc.name = x and proc.name = kworkerds`, true, false},
	{`proc.name = kworkerds or proc.name = x and proc.pid = 1`, true, false},
}

func TestOperatorsAndFields(t *testing.T) {
	empty := &Event{EvtType: EventExec}
	for _, c := range operatorCases {
		t.Run(c.cond, func(t *testing.T) {
			r := compileCond(t, "", c.cond)
			if got := r.Eval(fullEvent()); got != c.want {
				t.Errorf("on the full event: got %v, want %v", got, c.want)
			}
			if got := r.Eval(empty); got != c.wantAbsent {
				t.Errorf("on an empty event: got %v, want %v", got, c.wantAbsent)
			}
		})
	}
}

// TestEveryFieldAndOperatorTested keeps the table above complete.
func TestEveryFieldAndOperatorTested(t *testing.T) {
	var all strings.Builder
	for _, c := range operatorCases {
		all.WriteString(c.cond + "\n")
	}
	text := all.String()
	for _, f := range Fields() {
		name := strings.TrimSuffix(strings.TrimSuffix(f.Name, "[N]"), "[KEY]")
		if !strings.Contains(text, name+" ") && !strings.Contains(text, name+"[") {
			t.Errorf("field %s has no case", f.Name)
		}
	}
	for name := range opByName {
		if !strings.Contains(text, " "+name+" ") && !strings.HasSuffix(name, "exists") {
			t.Errorf("operator %s has no case", name)
		}
	}
	if !strings.Contains(text, " exists") {
		t.Error("exists has no case")
	}
}

// TestPresenceRules covers the values where zero is meaningful.
func TestPresenceRules(t *testing.T) {
	cases := []struct {
		cond string
		ev   *Event
		want bool
	}{
		{`user.uid = 0`, &Event{Proc: Process{PID: 1}}, true},
		{`user.uid = 0`, &Event{}, false},
		{`davy.score = 0`, &Event{Davy: Davy{Verdict: "clean"}}, true},
		{`davy.score = 0`, &Event{}, false},
		{`davy.cpu.ratio < 0.1`, &Event{EvtType: EventCPU}, true},
		{`davy.cpu.ratio < 0.1`, &Event{EvtType: EventExec}, false},
		{`fd.sport exists`, &Event{Fd: Fd{SPort: 80}}, false},
		{`evt.time exists`, &Event{Time: time.Unix(1, 0)}, true},
		{`proc.aname[1] = p`, &Event{Proc: Process{PName: "p"}}, true},
		{`proc.pname = a`, &Event{Proc: Process{Ancestors: []string{"a"}}}, true},
		{`proc.args = "x y"`, &Event{Proc: Process{Cmdline: "other", Args: []string{"x", "y"}}}, true},
		{`proc.args = ""`, &Event{}, true},
		{`fd.sip = 10.0.0.1`, &Event{Fd: Fd{SIP: netip.MustParseAddr("::ffff:10.0.0.1")}}, true},
		{`fd.net = 2001:db8::/32`, &Event{Fd: Fd{CIP: netip.MustParseAddr("2001:db8::5")}}, true},
	}
	for _, c := range cases {
		t.Run(c.cond, func(t *testing.T) {
			if got := compileCond(t, "", c.cond).Eval(c.ev); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestTypeErrors: operators that do not fit the field's type, and values
// that do not parse, are errors at the operator or value.
func TestTypeErrors(t *testing.T) {
	cases := []struct{ cond, want string }{
		{`proc.pid contains 1`, `operator "contains" cannot be used with number field "proc.pid"`},
		{`proc.name > a`, `operator ">" cannot be used with string field "proc.name"`},
		{`fd.sip startswith 10.`, `operator "startswith" cannot be used with IP address field "fd.sip"`},
		{`davy.evidence < 3`, `operator "<" cannot be used with list field "davy.evidence"`},
		{`fd.net glob "10.*"`, `operator "glob" cannot be used with network field "fd.net"`},
		{`proc.pid = abc`, `proc.pid: "abc" is not an integer`},
		{`davy.cpu.ratio > high`, `davy.cpu.ratio: "high" is not a number`},
		{`fd.net in (10.0.0.0/33)`, `fd.net: "10.0.0.0/33" is not an IP address or CIDR`},
		{`fd.sip = host`, `fd.sip: "host" is not an IP address or CIDR`},
		{`proc.name regex "("`, "bad regular expression \"(\": error parsing regexp: missing closing ): `(`"},
		{`proc.name glob "[ab"`, `bad glob pattern "[ab": unclosed [ in class`},
		{`proc.aname[x] = a`, `proc.aname[x]: the argument must be an ancestor number from 0 to 1000`},
		{`proc.name[1] = a`, `field "proc.name" takes no argument`},
		{`k8s.pod.label = a`, `field "k8s.pod.label" needs an argument: k8s.pod.label[KEY]`},
		{`proc.nam = a`, `unknown field "proc.nam"`},
	}
	for _, c := range cases {
		t.Run(c.cond, func(t *testing.T) {
			got := loadErr(t, ruleYAML("", c.cond))
			if got == "" {
				t.Fatal("loaded")
			}
			if !hasSuffixLine(got, `rule "r": `+c.want) {
				t.Errorf("got  %s\nwant ...rule \"r\": %s", got, c.want)
			}
		})
	}
}

func hasSuffixLine(s, suffix string) bool {
	for _, l := range lines(s) {
		if len(l) >= len(suffix) && l[len(l)-len(suffix):] == suffix {
			return true
		}
	}
	return false
}

// TestGlob covers the glob matcher directly, with its corner cases.
func TestGlob(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "/a/b", true},
		{"/tmp/*", "/tmp/a/b", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"?", "é", true},
		{"[a-c]x", "bx", true},
		{"[^a-c]x", "bx", false},
		{"[]]", "]", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"**a", "bba", true},
	}
	for _, c := range cases {
		if err := checkGlob(c.p); err != nil {
			t.Fatalf("%q: %v", c.p, err)
		}
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}
