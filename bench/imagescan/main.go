// Command imagescan measures `davy scan image` on a generated image of more
// than 1 GiB against the floor of only decompressing its layers, against
// ClamAV and YARA on the unpacked rootfs with signatures equivalent to
// Davy's byte patterns, and against itself with a warm cache, and prints the
// times, ratios, peak RSS and what each contender found, side by side.
//
// Run from the module root, as root, after scripts/install-bench-deps.sh:
//
//	go run ./bench/imagescan [-dir DIR] [-rounds 3] [-size-mib 1200]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

type options struct {
	dir      string
	rounds   int
	sizeMiB  int64
	seed     uint64
	parallel int
	tarball  bool
	genOnly  bool
	only     string

	loadStart string
}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "davy-imagescan-bench"), "where the generated image, rootfs, rules and caches are kept between runs")
	flag.IntVar(&o.rounds, "rounds", 3, "timed rounds per contender (the median is reported)")
	flag.Int64Var(&o.sizeMiB, "size-mib", 1200, "uncompressed size of the generated image")
	flag.Uint64Var(&o.seed, "seed", 1, "generator seed (same seed and machine, same image)")
	flag.IntVar(&o.parallel, "parallel", 2, "layers decompressed at a time by the floor; threads for yara")
	flag.BoolVar(&o.tarball, "tarball", true, "also time davy on the docker-save tarball of the same image")
	flag.BoolVar(&o.genOnly, "generate-only", false, "generate (or check) the cached image and stop")
	flag.StringVar(&o.only, "only", "", "comma-separated contender keys to run (floor,floor-std,davy-cold,davy-warm,davy-tar,davy-fs,clamscan,yara); default all")
	flag.Parse()
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench: ")
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.rounds < 1 || o.parallel < 1 || o.sizeMiB < 1 {
		return fmt.Errorf("-rounds, -parallel and -size-mib must be positive")
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return fmt.Errorf("bench dir: %w", err)
	}
	p := pathsIn(o.dir)
	m, err := ensureImage(p, o.sizeMiB, o.seed)
	if err != nil {
		return err
	}
	if o.genOnly {
		printImage(os.Stdout, m)
		return nil
	}

	inds, err := indicators()
	if err != nil {
		return err
	}
	ndb, yar := filepath.Join(o.dir, "rules", "davy.ndb"), filepath.Join(o.dir, "rules", "davy.yar")
	if err := writeNDB(ndb, inds); err != nil {
		return err
	}
	if err := writeYARA(yar, inds); err != nil {
		return err
	}

	tmp, err := os.MkdirTemp(o.dir, "run-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(tmp)

	cs := []*contender{
		{key: "floor", label: fmt.Sprintf("(a) floor: gunzip layers, %d at a time (klauspost)", o.parallel),
			run: func() (sample, error) { return floor(p.layout, o.parallel, klauspostGunzip) }},
		{key: "floor-std", label: "(a') the same with Go's compress/gzip",
			run: func() (sample, error) { return floor(p.layout, o.parallel, stdlibGunzip) }},
	}
	cs = append(cs, davyContenders(o, p, tmp)...)
	cs = append(cs,
		&contender{key: "clamscan", label: fmt.Sprintf("(d) clamscan -r on rootfs, %d sigs", len(inds)),
			need: "clamscan", run: func() (sample, error) { return runClamscan(ndb, p.rootfs) }},
		&contender{key: "yara", label: fmt.Sprintf("(e) yara -r -p %d on rootfs, %d rules", o.parallel, len(inds)),
			need: "yara", run: func() (sample, error) { return runYARA(yar, p.rootfs, o.parallel) }},
	)
	if o.only != "" {
		keep := strings.Split(o.only, ",")
		cs = slices.DeleteFunc(cs, func(c *contender) bool { return !slices.Contains(keep, c.key) })
	}
	for _, c := range cs {
		if c.need != "" {
			if _, err := exec.LookPath(c.need); err != nil {
				c.skipped = c.need + " not installed: run scripts/install-bench-deps.sh"
			}
		}
	}

	// The page cache cannot be dropped on a shared machine, so no contender
	// gets a cold disk: each runs once untimed first, then the rounds go
	// round-robin so load from others on the machine spreads over all.
	o.loadStart = loadAvg()
	log.Printf("warm-up: every contender once, untimed")
	for _, c := range cs {
		c.warmUp()
	}
	for r := 1; r <= o.rounds; r++ {
		log.Printf("round %d of %d", r, o.rounds)
		for _, c := range cs {
			c.timed()
		}
	}
	printReport(os.Stdout, o, m, cs, weakNames(inds))
	return writeFound(filepath.Join(o.dir, "results"), cs)
}

// davyContenders builds davy and returns its cold, warm, tarball and
// rootfs runs, each skipped with the reason when davy cannot run them yet.
func davyContenders(o options, p paths, tmp string) []*contender {
	reason, fsReason := "not selected (-only)", "not selected (-only)"
	bin := ""
	if o.only == "" || strings.Contains(o.only, "davy") {
		var err error
		if bin, err = buildDavy(tmp); err != nil {
			reason, fsReason = err.Error(), err.Error()
		} else {
			reason = davyReady(bin, "image", "--input")
			fsReason = davyReady(bin, "fs", "--cache-dir")
		}
	}
	par := strconv.Itoa(o.parallel)
	cacheRoot := filepath.Join(tmp, "cache")
	n := 0
	// withFreshCache runs one scan with a new, empty cache directory.
	withFreshCache := func(scan func(dir string) (sample, error)) func() (sample, error) {
		return func() (sample, error) {
			n++
			dir := filepath.Join(cacheRoot, fmt.Sprintf("cold-%d", n))
			defer os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return sample{}, fmt.Errorf("cache dir: %w", err)
			}
			return scan(dir)
		}
	}
	image := func(input string) func(dir string) (sample, error) {
		return func(dir string) (sample, error) { return runDavy(bin, input, dir, o.parallel) }
	}
	warmDir := filepath.Join(cacheRoot, "warm")
	cs := []*contender{
		{key: "davy-cold", label: fmt.Sprintf("(b) davy scan image --parallel %d, OCI layout, cold", o.parallel),
			davy: true, run: withFreshCache(image(p.layout))},
		{key: "davy-warm", label: "(c) the same, --cache-dir of an earlier scan", davy: true,
			run: func() (sample, error) { return image(p.layout)(warmDir) },
			// Fills the cache, so that the warm-up run is already warm.
			prepare: func() error {
				if err := os.MkdirAll(warmDir, 0o755); err != nil {
					return fmt.Errorf("cache dir: %w", err)
				}
				_, err := image(p.layout)(warmDir)
				return err
			}},
	}
	if o.tarball {
		cs = append(cs, &contender{key: "davy-tar", label: "(b') the same on the docker-save tarball, cold",
			davy: true, run: withFreshCache(image(p.tarball))})
	}
	for _, c := range cs {
		if reason != "" {
			c.skipped = "davy: " + reason
		}
	}
	// The same file scanners on the same rootfs as ClamAV and YARA: no gzip
	// and no tar, so against them this compares the scanners alone.
	fsScan := &contender{key: "davy-fs", label: "(f) davy scan fs on the rootfs, cold", davy: true,
		run: withFreshCache(func(dir string) (sample, error) {
			return runDavyArgs(bin, p.rootfs, "scan", "fs", p.rootfs, "-o", "json", "--cache-dir", dir, "--parallel", par, "--log-level", "info")
		})}
	if fsReason != "" {
		fsScan.skipped = "davy: " + fsReason
	}
	return append(cs, fsScan)
}
