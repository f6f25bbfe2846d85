package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/procfs"
)

const (
	id1    = "d548c5b83fa61d8e3bd86ad42a7ffea9b7c86e3f9d8095c1577d3e1270bb9420"
	id2    = "17c132990e8e8523ccd403287b6ae761c1cd57f764df278bce7ed310bbddd7f1"
	podUID = "1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b"
	podSD  = "1b2c3d4e_5f60_4718_9a2b_3c4d5e6f7a8b" // as systemd slice names write it
)

func TestParseCgroupPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		want CgroupInfo
	}{
		// containerd
		{"containerd systemd burstable",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: podUID, QoS: QoSBurstable,
				Path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope"}},
		{"containerd systemd besteffort",
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: podUID, QoS: QoSBestEffort,
				Path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope"}},
		{"containerd systemd guaranteed",
			"/kubepods.slice/kubepods-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: podUID, QoS: QoSGuaranteed,
				Path: "/kubepods.slice/kubepods-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope"}},
		{"containerd cgroupfs burstable",
			"/kubepods/burstable/pod" + podUID + "/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: podUID, QoS: QoSBurstable,
				Path: "/kubepods/burstable/pod" + podUID + "/" + id1}},
		{"containerd cgroupfs besteffort",
			"/kubepods/besteffort/pod" + podUID + "/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: podUID, QoS: QoSBestEffort,
				Path: "/kubepods/besteffort/pod" + podUID + "/" + id1}},
		{"containerd cgroupfs guaranteed",
			"/kubepods/pod" + podUID + "/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: podUID, QoS: QoSGuaranteed,
				Path: "/kubepods/pod" + podUID + "/" + id1}},
		{"containerd cgroupfs static pod hash UID",
			"/kubepods/burstable/pod0123456789abcdef0123456789abcdef/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: "0123456789abcdef0123456789abcdef", QoS: QoSBurstable,
				Path: "/kubepods/burstable/pod0123456789abcdef0123456789abcdef/" + id1}},
		{"plain containerd namespace/id",
			"/default/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, Path: "/default/" + id1}},
		{"plain containerd k8s.io namespace",
			"/k8s.io/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, Path: "/k8s.io/" + id1}},
		{"nerdctl systemd",
			"/system.slice/nerdctl-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, Path: "/system.slice/nerdctl-" + id1 + ".scope"}},
		{"containerd v1 colon form",
			"/system.slice/containerd.service/kubepods-burstable-pod" + podSD + ".slice:cri-containerd:" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: podUID, QoS: QoSBurstable,
				Path: "/system.slice/containerd.service/kubepods-burstable-pod" + podSD + ".slice:cri-containerd:" + id1}},
		{"kind node: pod inside a docker container",
			"/docker/" + id2 + "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, PodUID: podUID, QoS: QoSBestEffort,
				Path: "/docker/" + id2 + "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope"}},

		// CRI-O
		{"crio systemd",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSD + ".slice/crio-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeCRIO, PodUID: podUID, QoS: QoSBurstable,
				Path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSD + ".slice/crio-" + id1 + ".scope"}},
		{"crio v2 container sub-cgroup",
			"/kubepods.slice/kubepods-pod" + podSD + ".slice/crio-" + id1 + ".scope/container",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeCRIO, PodUID: podUID, QoS: QoSGuaranteed,
				Path: "/kubepods.slice/kubepods-pod" + podSD + ".slice/crio-" + id1 + ".scope"}},
		{"crio conmon is the monitor",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSD + ".slice/crio-conmon-" + id1 + ".scope",
			CgroupInfo{MonitorOf: id1, Runtime: RuntimeCRIO, PodUID: podUID, QoS: QoSBurstable,
				Path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSD + ".slice/crio-conmon-" + id1 + ".scope"}},
		{"crio cgroupfs",
			"/kubepods/besteffort/pod" + podUID + "/crio-" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeCRIO, PodUID: podUID, QoS: QoSBestEffort,
				Path: "/kubepods/besteffort/pod" + podUID + "/crio-" + id1}},

		// Docker
		{"docker cgroupfs", "/docker/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeDocker, Path: "/docker/" + id1}},
		{"docker systemd", "/system.slice/docker-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeDocker, Path: "/system.slice/docker-" + id1 + ".scope"}},
		{"docker scope alone", "docker-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimeDocker, Path: "/docker-" + id1 + ".scope"}},
		{"docker outside the reader's cgroup namespace", "/../../docker/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeDocker, Path: "/docker/" + id1}},

		// Podman
		{"podman systemd", "/machine.slice/libpod-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimePodman, Path: "/machine.slice/libpod-" + id1 + ".scope"}},
		{"podman v2 container sub-cgroup", "/machine.slice/libpod-" + id1 + ".scope/container",
			CgroupInfo{ContainerID: id1, Runtime: RuntimePodman, Path: "/machine.slice/libpod-" + id1 + ".scope"}},
		{"podman conmon is the monitor", "/machine.slice/libpod-conmon-" + id1 + ".scope",
			CgroupInfo{MonitorOf: id1, Runtime: RuntimePodman, Path: "/machine.slice/libpod-conmon-" + id1 + ".scope"}},
		{"podman cgroupfs", "/libpod_parent/libpod-" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimePodman, Path: "/libpod_parent/libpod-" + id1}},
		{"podman cgroupfs bare id", "/libpod_parent/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimePodman, Path: "/libpod_parent/" + id1}},
		{"podman rootless in a pod", "/user.slice/user-1000.slice/user@1000.service/user.slice/machine-libpod_pod_" + id2[:12] + ".slice/libpod-" + id1 + ".scope",
			CgroupInfo{ContainerID: id1, Runtime: RuntimePodman,
				Path: "/user.slice/user-1000.slice/user@1000.service/user.slice/machine-libpod_pod_" + id2[:12] + ".slice/libpod-" + id1 + ".scope"}},

		// Pods without a container, and no container at all
		{"pod cgroup itself", "/kubepods/burstable/pod" + podUID,
			CgroupInfo{PodUID: podUID, QoS: QoSBurstable}},
		{"pod slice itself", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + podSD + ".slice",
			CgroupInfo{PodUID: podUID, QoS: QoSBestEffort}},
		{"root", "/", CgroupInfo{}},
		{"empty", "", CgroupInfo{}},
		{"systemd service", "/system.slice/sshd.service", CgroupInfo{}},
		{"user session", "/user.slice/user-0.slice/session-3.scope", CgroupInfo{}},
		{"init scope", "/init.scope", CgroupInfo{}},
		{"docker daemon itself", "/system.slice/docker.service", CgroupInfo{}},
		{"short hex is no container", "/process_api/897a28d3c30e7b1f2fadc009f06e8f6a", CgroupInfo{}},
		{"uppercase hex is no container", "/docker/" + strings.ToUpper(id1), CgroupInfo{}},
		{"prefix with a short id", "/system.slice/docker-abc123.scope", CgroupInfo{}},
		{"pod outside kubepods reads as a containerd namespace", "/pod" + podUID + "/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeContainerd, Path: "/pod" + podUID + "/" + id1}},
		{"bare id deep in an unknown tree", "/a/b/" + id1,
			CgroupInfo{ContainerID: id1, Runtime: RuntimeUnknown, Path: "/a/b/" + id1}},
		{"colon form with an unknown runtime", "/x.slice:mystery:" + id1, CgroupInfo{}},
		{"too long", "/docker/" + id1 + strings.Repeat("/x", maxCgroupPathLen), CgroupInfo{}},
		{"too many components", strings.Repeat("/x", maxCgroupPathComponents) + "/docker/" + id1, CgroupInfo{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseCgroupPath(tc.path)
			if got != tc.want {
				t.Errorf("ParseCgroupPath(%q)\n got  %+v\n want %+v", tc.path, got, tc.want)
			}
		})
	}
}

func FuzzParseCgroupPath(f *testing.F) {
	for _, s := range []string{
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSD + ".slice/cri-containerd-" + id1 + ".scope",
		"/kubepods/burstable/pod" + podUID + "/" + id1,
		"/default/" + id1, "/docker/" + id1, "/system.slice/docker-" + id1 + ".scope",
		"/machine.slice/libpod-" + id1 + ".scope/container", "/libpod_parent/libpod-" + id1,
		"crio-conmon-" + id1 + ".scope", "/a.slice:crio:" + id1, "/../..", "", "/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		got := ParseCgroupPath(path)
		if got.ContainerID != "" && got.MonitorOf != "" {
			t.Fatalf("both container and monitor: %+v", got)
		}
		id := got.ContainerID + got.MonitorOf
		if id != "" {
			if !isContainerID(id) {
				t.Fatalf("bad id %q", id)
			}
			if got.Runtime == "" || got.Path == "" || !strings.Contains(path, id) {
				t.Fatalf("incomplete %+v for %q", got, path)
			}
			if !strings.HasSuffix(got.Path, id) && !strings.HasSuffix(got.Path, id+".scope") {
				t.Fatalf("path %q does not end at the container", got.Path)
			}
		} else if got.Runtime != "" || got.Path != "" {
			t.Fatalf("runtime or path without a container: %+v", got)
		}
		if got.PodUID != "" && !isPodUID(got.PodUID) {
			t.Fatalf("bad pod uid %q", got.PodUID)
		}
		switch got.QoS {
		case "", QoSGuaranteed, QoSBurstable, QoSBestEffort:
		default:
			t.Fatalf("bad QoS %q", got.QoS)
		}
		if again := ParseCgroupPath(path); again != got {
			t.Fatalf("not deterministic")
		}
	})
}

func TestSelectCgroup(t *testing.T) {
	hybrid := cgroupRoots{unified: "/u", cpu: "/c", cpuacct: "/a"}
	pure := cgroupRoots{pureV2: true, unified: "/u"}
	dockerPath := "/docker/" + id1
	tests := []struct {
		name      string
		roots     cgroupRoots
		lines     string
		wantPath  string
		wantID    string
		unified   bool
		cpuPath   string
		acctPath  string
		monitorOf string
	}{
		{"pure v2", pure, "0::/system.slice/docker-" + id1 + ".scope\n",
			"/system.slice/docker-" + id1 + ".scope", id1, true, "", "", ""},
		{"v2 line alone without sysfs", cgroupRoots{}, "0::" + dockerPath + "\n", dockerPath, id1, true, "", "", ""},
		{"hybrid separate cpu and cpuacct", hybrid,
			"5:cpuacct:" + dockerPath + "\n4:cpu:" + dockerPath + "\n1:name=systemd:" + dockerPath + "\n0::/\n",
			dockerPath, id1, false, dockerPath, dockerPath, ""},
		{"combined cpu,cpuacct", hybrid, "4:cpu,cpuacct:" + dockerPath + "/sub\n0::/\n",
			dockerPath + "/sub", id1, false, dockerPath, dockerPath, ""},
		{"cpu at the root, memory names the container", hybrid,
			"4:cpu,cpuacct:/\n3:memory:" + dockerPath + "\n0::/\n", "/", id1, false, "", "", ""},
		{"hybrid with the container only in the unified line", hybrid,
			"4:cpu,cpuacct:/\n0::" + dockerPath + "\n", "/", id1, true, "", "", ""},
		{"no cpu line: cpuacct", hybrid, "5:cpuacct:" + dockerPath + "\n", dockerPath, id1, false, "", dockerPath, ""},
		{"monitor only", hybrid, "4:cpu,cpuacct:/machine.slice/libpod-conmon-" + id1 + ".scope\n",
			"/machine.slice/libpod-conmon-" + id1 + ".scope", "", false,
			"/machine.slice/libpod-conmon-" + id1 + ".scope", "/machine.slice/libpod-conmon-" + id1 + ".scope", id1},
		{"host process", hybrid, "4:cpu,cpuacct:/init.scope\n0::/init.scope\n", "/init.scope", "", false, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cgs := parseCgroupLines(t, tc.lines)
			sel := tc.roots.selectCgroup(cgs)
			if sel.processPath != tc.wantPath || sel.info.ContainerID != tc.wantID || sel.unified != tc.unified ||
				sel.cpuPath != tc.cpuPath || sel.acctPath != tc.acctPath || sel.info.MonitorOf != tc.monitorOf {
				t.Errorf("selectCgroup(%q) = path %q id %q unified %v cpu %q acct %q monitor %q\nwant path %q id %q unified %v cpu %q acct %q monitor %q",
					tc.lines, sel.processPath, sel.info.ContainerID, sel.unified, sel.cpuPath, sel.acctPath, sel.info.MonitorOf,
					tc.wantPath, tc.wantID, tc.unified, tc.cpuPath, tc.acctPath, tc.monitorOf)
			}
		})
	}
}

// parseCgroupLines reads /proc/PID/cgroup text through procfs, as Take does.
func parseCgroupLines(t *testing.T, text string) []procfs.Cgroup {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"1/cgroup": text})
	fs, err := procfs.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fs.Proc(1)
	if err != nil {
		t.Fatal(err)
	}
	cgs, err := p.Cgroups()
	if err != nil {
		t.Fatalf("procfs could not parse %q: %v", text, err)
	}
	return cgs
}

// writeTree creates files under root; a value starting with "-> " makes a
// symlink to the rest, a name ending in "/" a directory.
func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestCgroupLayouts(t *testing.T) {
	ctr := "docker/" + id1
	tests := []struct {
		name      string
		files     map[string]string
		lines     string
		wantRoots func(base string) cgroupRoots
		wantUsage float64
		wantLimit float64
	}{
		{
			name: "v1 hybrid, cpu and cpuacct apart",
			files: map[string]string{
				"cpu/cpu.cfs_period_us": "100000\n", "cpu/cpu.cfs_quota_us": "-1\n",
				"cpu/" + ctr + "/cpu.cfs_period_us": "100000\n", "cpu/" + ctr + "/cpu.cfs_quota_us": "250000\n",
				"cpuacct/cpuacct.usage": "1\n", "cpuacct/" + ctr + "/cpuacct.usage": "2500000000\n",
				"unified/cgroup.controllers": "\n",
			},
			lines: "5:cpuacct:/" + ctr + "\n4:cpu:/" + ctr + "\n0::/\n",
			wantRoots: func(b string) cgroupRoots {
				return cgroupRoots{unified: b + "/unified", cpu: b + "/cpu", cpuacct: b + "/cpuacct"}
			},
			wantUsage: 2.5, wantLimit: 2.5,
		},
		{
			name: "v1 combined cpu,cpuacct with symlinks",
			files: map[string]string{
				"cpu,cpuacct/cpu.cfs_period_us": "100000\n", "cpu,cpuacct/cpuacct.usage": "1\n",
				"cpu,cpuacct/" + ctr + "/cpu.cfs_period_us": "50000\n", "cpu,cpuacct/" + ctr + "/cpu.cfs_quota_us": "25000\n",
				"cpu,cpuacct/" + ctr + "/cpuacct.usage": "7000000000\n",
				"cpu":                                   "-> cpu,cpuacct", "cpuacct": "-> cpu,cpuacct",
			},
			lines: "4:cpu,cpuacct:/" + ctr + "\n",
			wantRoots: func(b string) cgroupRoots {
				return cgroupRoots{cpu: b + "/cpu,cpuacct", cpuacct: b + "/cpu,cpuacct"}
			},
			wantUsage: 7, wantLimit: 0.5,
		},
		{
			name: "v1 combined, other order, no symlinks, limit on the parent",
			files: map[string]string{
				"cpuacct,cpu/cpu.shares": "1024\n", "cpuacct,cpu/cpuacct.usage": "1\n",
				"cpuacct,cpu/docker/cpu.cfs_quota_us": "300000\n", "cpuacct,cpu/docker/cpu.cfs_period_us": "100000\n",
				"cpuacct,cpu/" + ctr + "/cpu.cfs_quota_us": "-1\n", "cpuacct,cpu/" + ctr + "/cpu.cfs_period_us": "100000\n",
				"cpuacct,cpu/" + ctr + "/cpuacct.usage": "500000000\n",
			},
			lines: "4:cpuacct,cpu:/" + ctr + "\n",
			wantRoots: func(b string) cgroupRoots {
				return cgroupRoots{cpu: b + "/cpuacct,cpu", cpuacct: b + "/cpuacct,cpu"}
			},
			wantUsage: 0.5, wantLimit: 3,
		},
		{
			name: "pure v2",
			files: map[string]string{
				"cgroup.controllers":                             "cpuset cpu io memory pids\n",
				"system.slice/cpu.max":                           "max 100000\n",
				"system.slice/docker-" + id1 + ".scope/cpu.max":  "150000 100000\n",
				"system.slice/docker-" + id1 + ".scope/cpu.stat": "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n",
			},
			lines: "0::/system.slice/docker-" + id1 + ".scope\n",
			wantRoots: func(b string) cgroupRoots {
				return cgroupRoots{pureV2: true, unified: b}
			},
			wantUsage: 3, wantLimit: 1.5,
		},
		{
			name: "pure v2 without the cpu controller: no limit",
			files: map[string]string{
				"cgroup.controllers":                             "memory pids\n",
				"system.slice/docker-" + id1 + ".scope/cpu.stat": "usage_usec 1000\n",
			},
			lines: "0::/system.slice/docker-" + id1 + ".scope\n",
			wantRoots: func(b string) cgroupRoots {
				return cgroupRoots{pureV2: true, unified: b}
			},
			wantUsage: 0.001, wantLimit: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sys := t.TempDir()
			base := filepath.Join(sys, "fs", "cgroup")
			writeTree(t, base, tc.files)
			roots := findCgroupRoots(sys)
			if want := tc.wantRoots(base); roots != want {
				t.Fatalf("findCgroupRoots = %+v, want %+v", roots, want)
			}
			sel := roots.selectCgroup(parseCgroupLines(t, tc.lines))
			if sel.info.ContainerID != id1 {
				t.Fatalf("container not found in %q: %+v", tc.lines, sel)
			}
			usage, ok := roots.usage(sel)
			if !ok || !near(usage, tc.wantUsage) {
				t.Errorf("usage = %v, %v; want %v", usage, ok, tc.wantUsage)
			}
			limit, bad := roots.limit(sel)
			if bad || !near(limit, tc.wantLimit) {
				t.Errorf("limit = %v (bad %v), want %v", limit, bad, tc.wantLimit)
			}
		})
	}
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in           string
		cores        float64
		limited, bad bool
	}{
		{"max 100000\n", 0, false, false},
		{"max\n", 0, false, false},
		{"50000 100000\n", 0.5, true, false},
		{"200000 100000", 2, true, false},
		{"100000", 1, true, false},
		{"", 0, false, true},
		{"x 100000", 0, false, true},
		{"1 0", 0, false, true},
		{"1 2 3", 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			c, l, b := parseCPUMax(tc.in)
			if !near(c, tc.cores) || l != tc.limited || b != tc.bad {
				t.Errorf("parseCPUMax(%q) = %v %v %v, want %v %v %v", tc.in, c, l, b, tc.cores, tc.limited, tc.bad)
			}
		})
	}
}
