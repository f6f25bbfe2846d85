import os, hashlib, shutil
# Regenerates testdata/proc and testdata/sys: python3 testdata/mkfixture.py
root = os.path.dirname(os.path.abspath(__file__))
proc = os.path.join(root, 'proc')
sysd = os.path.join(root, 'sys')
for d in (proc, sysd):
    if os.path.exists(d): shutil.rmtree(d)
DOCKER = hashlib.sha256(b'docker').hexdigest()
K8S = hashlib.sha256(b'k8s').hexdigest()
POD = '1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b'

def w(path, data):
    p = os.path.join(proc, path) if not path.startswith('/') else path
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if isinstance(data, str): data = data.encode()
    with open(p, 'wb') as f: f.write(data)
def ln(path, target):
    p = os.path.join(proc, path) if not path.startswith('/') else path
    os.makedirs(os.path.dirname(p), exist_ok=True)
    os.symlink(target, p)

def stat(pid, comm, state='S', ppid=1, flags=4194560, utime=0, stime=0, threads=1, start=100):
    if isinstance(comm, str): comm = comm.encode()
    tail = f' {state} {ppid} {pid} {pid} 0 -1 {flags} 100 0 0 0 {utime} {stime} 0 0 20 0 {threads} 0 {start} 10000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n'
    return str(pid).encode() + b' (' + comm + b')' + tail.encode()

w('stat', 'cpu  1000 0 500 90000 10 0 5 0 0 0\ncpu0 500 0 250 45000 5 0 3 0 0 0\ncpu1 500 0 250 45000 5 0 2 0 0 0\nintr 12345 0 1 2\nctxt 99999\nbtime 1700000000\nprocesses 5000\nprocs_running 2\nprocs_blocked 0\nsoftirq 100 0 10 20 30 40 0 0 0 0 0\n')
w('uptime', '1000.00 1900.00\n')
w('self', 'not a pid dir\n')
w('garbage-entry', 'x')

HDR_TCP = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
HDR_UDP = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
def tcp(sl, la, lp, ra, rp, st, uid, ino):
    return f'   {sl}: {la}:{lp:04X} {ra}:{rp:04X} {st:02X} 00000000:00000000 00:00000000 00000000 {uid:5d}        0 {ino} 1 0000000000000000 100 0 0 10 0\n'
def udp(sl, la, lp, ra, rp, st, uid, ino):
    return f'  {sl}: {la}:{lp:04X} {ra}:{rp:04X} {st:02X} 00000000:00000000 00:00000000 00000000 {uid:5d}        0 {ino} 2 0000000000000000 0\n'
def hex4(a):  # 127.0.0.1 -> 0100007F
    b = [int(x) for x in a.split('.')]
    return ''.join('%02X' % x for x in reversed(b))

def netns_files(pid, tcp4, tcp6, udp4, udp6):
    w(f'{pid}/net/tcp', HDR_TCP + tcp4)
    w(f'{pid}/net/tcp6', HDR_TCP + tcp6)
    w(f'{pid}/net/udp', HDR_UDP + udp4)
    if udp6 is not None:
        w(f'{pid}/net/udp6', HDR_UDP + udp6)

def v1cgroup(path, combined=True):
    if combined:
        return f'12:pids:{path}\n11:memory:{path}\n4:cpu,cpuacct:{path}\n1:name=systemd:{path}\n0::{path}\n'
    return f'12:pids:{path}\n5:cpuacct:{path}\n4:cpu:{path}\n1:name=systemd:{path}\n0::{path}\n'

# PID 1: init on the host, host netns, owns a LISTEN socket and a UDP socket.
w('1/stat', stat(1, 'systemd', ppid=0, utime=3000, stime=1000, start=1))
w('1/cmdline', b'/sbin/init\0splash\0')
ln('1/exe', '/usr/lib/systemd/systemd')
ln('1/cwd', '/')
w('1/cgroup', v1cgroup('/init.scope'))
ln('1/ns/net', 'net:[4026531840]')
ln('1/fd/0', '/dev/null')
ln('1/fd/3', 'socket:[1001]')
ln('1/fd/4', 'socket:[1003]')
ln('1/fd/5', 'anon_inode:[eventfd]')
netns_files(1,
    tcp(0, hex4('0.0.0.0'), 22, hex4('0.0.0.0'), 0, 0x0A, 0, 1001) +
    tcp(1, hex4('0.0.0.0'), 22, hex4('127.0.0.1'), 40000, 0x06, 0, 0),  # TIME_WAIT, no inode
    tcp(0, '00000000000000000000000001000000', 8080, '00000000000000000000000000000000', 0, 0x0A, 1000, 1002),
    udp(0, hex4('127.0.0.53'), 53, hex4('0.0.0.0'), 0, 0x07, 101, 1003),
    '')

# PID 2: kthreadd (PF_KTHREAD), PID 3: a kernel worker without the flag (PPID 2, no exe).
w('2/stat', stat(2, 'kthreadd', ppid=0, flags=0x00208040))
w('2/cmdline', '')
w('3/stat', stat(3, 'kworker/0:0-events', state='I', ppid=2, flags=0x04208060 & ~0x00200000))
w('3/cmdline', '')

# PID 100: a miner in a docker container (cgroupfs v1, combined cpu,cpuacct),
# running from a deleted file, with two threads, in its own netns.
w('100/stat', stat(100, 'xmrig', state='R', ppid=1, utime=40000, stime=5000, threads=2, start=50000))
w('100/cmdline', b'./xmrig\0-o\0pool.example:3333\0-u\0WALLET\0')
ln('100/exe', '/tmp/x (deleted)')
ln('100/cwd', '/tmp')
w('100/cgroup', v1cgroup('/docker/' + DOCKER))
ln('100/ns/net', 'net:[4026532000]')
ln('100/fd/0', '/dev/null')
ln('100/fd/7', 'socket:[2001]')
w('100/task/100/stat', stat(100, 'xmrig', state='R', ppid=1, utime=20000, stime=2500, start=50000))
w('100/task/101/stat', stat(101, 'xmrig', state='R', ppid=1, utime=20000, stime=2500, start=50001))
netns_files(100,
    tcp(0, hex4('172.17.0.2'), 45678, hex4('10.0.0.5'), 3333, 0x01, 0, 2001),
    '', '', None)  # no udp6 table: IPv6 off in this namespace

# PIDs 200 and 201: one Kubernetes container (systemd driver, burstable pod, containerd),
# 200 runs from a memfd with a name holding a newline and invalid UTF-8;
# 201's name holds spaces and parentheses.
kpath = f'/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{POD.replace("-", "_")}.slice/cri-containerd-{K8S}.scope'
w('200/stat', stat(200, b'a\nb\xff', ppid=1, utime=100, stime=0, start=90000))
w('200/cmdline', b'[kworker/0:1]\0')
ln('200/exe', '/memfd:foo (deleted)')
ln('200/cwd', '/')
w('200/cgroup', v1cgroup(kpath, combined=False))
ln('200/ns/net', 'net:[4026532100]')
w('201/stat', stat(201, b') (evil) x', ppid=200, utime=0, stime=0, start=90010))
w('201/cmdline', b'sleep\0infinity\0')
ln('201/exe', '/usr/bin/sleep')
ln('201/cwd', '/')
w('201/cgroup', v1cgroup(kpath, combined=False))
ln('201/ns/net', 'net:[4026532100]')
ln('201/fd/9', 'socket:[3001]')
ln('201/fd/10', 'socket:[3002]')
netns_files(200,
    tcp(0, hex4('10.1.0.7'), 50000, hex4('10.96.0.10'), 443, 0x01, 0, 3001),
    '',
    # one good line, then one garbage line of 11 fields (procfs indexes field 12)
    udp(0, hex4('10.1.0.7'), 5353, hex4('0.0.0.0'), 0, 0x07, 0, 3002) + '  1: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 3003\n',
    '')

# Broken entries.
w('300/comm', 'gone\n')                                      # exited: stat already gone
w('301/stat', '301 (garbage) S x y z\n')                      # non-numeric fields
w('302/stat', '302 (short)')                                  # truncated after comm
w('303/stat', b'\x00\x01\x02\xff\xfe garbage\n')               # binary noise
w('304/stat', stat(999, 'liar', ppid=1))                      # PID inside differs
w('305/stat', stat(305, 'broken', ppid=1, start=99000))       # readable stat, broken rest:
os.makedirs(os.path.join(proc, '305/cmdline'))                #   cmdline is a directory
ln('305/exe', '/nonexistent/broken')                          #   exe target missing
w('305/cgroup', 'not a cgroup line\n')                         #   cgroup malformed
ln('305/ns/net', 'garbage')                                   #   netns link malformed
w('306/stat', '306 (big) ' + 'S ' * 3000 + '\n')              # longer than any real stat

# sysfs: cgroup v1 with cpu and cpuacct mounted together, plus the usual symlinks.
cg = os.path.join(sysd, 'fs/cgroup')
comb = os.path.join(cg, 'cpu,cpuacct')
def sw(rel, data):
    w(os.path.join(comb, rel), data)
sw('cpu.cfs_period_us', '100000\n'); sw('cpu.cfs_quota_us', '-1\n'); sw('cpuacct.usage', '123456789000\n')
sw(f'docker/{DOCKER}/cpu.cfs_period_us', '100000\n'); sw(f'docker/{DOCKER}/cpu.cfs_quota_us', '150000\n')
sw(f'docker/{DOCKER}/cpuacct.usage', '450000000000\n')
sw('docker/cpu.cfs_period_us', '100000\n'); sw('docker/cpu.cfs_quota_us', '-1\n')
kdir = kpath.lstrip('/')
sw(f'{kdir}/cpu.cfs_period_us', '100000\n'); sw(f'{kdir}/cpu.cfs_quota_us', '50000\n'); sw(f'{kdir}/cpuacct.usage', '1000000000\n')
pod = os.path.dirname(kdir)
sw(f'{pod}/cpu.cfs_period_us', '100000\n'); sw(f'{pod}/cpu.cfs_quota_us', '200000\n')
os.symlink('cpu,cpuacct', os.path.join(cg, 'cpu'))
os.symlink('cpu,cpuacct', os.path.join(cg, 'cpuacct'))
w(os.path.join(cg, 'memory/memory.limit_in_bytes'), '9223372036854771712\n')
print(DOCKER); print(K8S)
