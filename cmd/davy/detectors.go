package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
)

// detectorFlags choose the detectors of scan host and agent.
type detectorFlags struct {
	groups, ignore  []string
	enable, disable map[string]*bool
}

func (f *detectorFlags) register(fl *pflag.FlagSet) {
	f.enable, f.disable = map[string]*bool{}, map[string]*bool{}
	fl.StringSliceVar(&f.groups, "groups", nil, "run only detectors of these groups: "+groupNames())
	fl.StringSliceVar(&f.ignore, "ignore", nil, "evidence IDs to leave out of every verdict (e.g. DAVY-P003)")
	for _, d := range detect.All() {
		f.enable[d.Name()] = fl.Bool("detector."+d.Name(), false, fmt.Sprintf("enable the %s detector (group %s) even when --groups leaves it out", d.Name(), d.Group()))
		f.disable[d.Name()] = fl.Bool("no-detector."+d.Name(), false, fmt.Sprintf("disable the %s detector", d.Name()))
	}
}

func (f *detectorFlags) selection() (detect.Selection, error) {
	sel := detect.Selection{Ignore: f.ignore}
	for _, s := range f.groups {
		gr, err := finding.ParseGroup(strings.TrimSpace(s))
		if err != nil {
			return sel, fmt.Errorf("--groups: %w", err)
		}
		sel.Groups = append(sel.Groups, gr)
	}
	for name, on := range f.enable {
		if *on {
			sel.Enable = append(sel.Enable, name)
		}
	}
	for name, off := range f.disable {
		if *off {
			sel.Disable = append(sel.Disable, name)
		}
	}
	return sel, nil
}

// hostPathFlags say where the host's filesystems are mounted.
type hostPathFlags struct {
	procfs, sysfs, rootfs string
}

func (f *hostPathFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.procfs, "path.procfs", "/proc", "procfs mount point")
	fl.StringVar(&f.sysfs, "path.sysfs", "/sys", "sysfs mount point")
	fl.StringVar(&f.rootfs, "path.rootfs", "/", "host root filesystem (for container logs and /etc/passwd)")
}

func groupNames() string {
	var s []string
	for _, g := range finding.Groups {
		s = append(s, string(g))
	}
	return strings.Join(s, ",")
}
