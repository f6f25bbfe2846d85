//go:build unix

package image

import (
	"io/fs"
	"os"
	"syscall"
)

type fileKey struct{ dev, ino uint64 }

func fileKeyOf(info fs.FileInfo) (fileKey, uint64, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, 0, false
	}
	return fileKey{uint64(st.Dev), uint64(st.Ino)}, uint64(st.Nlink), true
}

// openRegular opens p only if it is still a regular file: O_NOFOLLOW so a
// path swapped for a symlink is not followed, O_NONBLOCK so one swapped
// for a fifo cannot hang the scan.
func openRegular(p string) (*os.File, error) {
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if err == syscall.ELOOP {
			return nil, errNotRegular
		}
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, errNotRegular
	}
	return f, nil
}

// Magic numbers of kernel pseudo filesystems (linux/magic.h).
var pseudoMagic = map[int64]bool{
	0x9fa0:     true, // proc
	0x62656572: true, // sysfs
	0x27e0eb:   true, // cgroup
	0x63677270: true, // cgroup2
	0x64626720: true, // debugfs
	0x74726163: true, // tracefs
	0x73636673: true, // securityfs
	0xcafe4a11: true, // bpf
	0x1cd1:     true, // devpts
}

// pseudoFS reports whether dir is the root of a kernel pseudo filesystem.
func pseudoFS(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return pseudoMagic[int64(st.Type)]
}
