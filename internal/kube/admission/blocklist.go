package admission

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Blocklist limits: the file is read into memory and every pattern is
// tried against every image of every pod.
const (
	MaxBlocklistBytes   = 1 << 20
	MaxBlocklistEntries = 10_000
	maxPatternLen       = 512
)

// Blocklist names images no pod may run, whatever their scan says. Each
// line of its file is one pattern; '#' starts a comment:
//
//	sha256:<64 hex>                   a digest, matched against the pod's
//	                                  reference and the digest the scan resolved
//	registry.example/team/app:1.2     an exact reference (Docker Hub names may
//	nginx:1.25                        be short, as in a pod spec; no tag means
//	                                  every tag)
//	registry.example/crypto/*         a repository glob (path.Match syntax:
//	*/*/proxy*                        '*' stays within one path element);
//	docker.io/evil/*:latest           with ":glob" the tag must match too
type Blocklist struct {
	digests map[string]int // digest -> line
	exact   map[string]int // canonical repo:tag -> line
	repos   map[string]int // canonical repo (every tag) -> line
	globs   []globPattern
}

type globPattern struct {
	repo, tag string // tag empty: any
	text      string
	line      int
}

// LoadBlocklist reads and parses a blocklist file.
func LoadBlocklist(file string) (*Blocklist, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("blocklist: %w", err)
	}
	defer f.Close()
	b, err := readLimited(f, MaxBlocklistBytes)
	if err != nil {
		return nil, fmt.Errorf("blocklist %s: %w", file, err)
	}
	bl, err := ParseBlocklist(b)
	if err != nil {
		return nil, fmt.Errorf("blocklist %s: %w", file, err)
	}
	return bl, nil
}

// ParseBlocklist parses blocklist text; errors name the line.
func ParseBlocklist(b []byte) (*Blocklist, error) {
	if len(b) > MaxBlocklistBytes {
		return nil, fmt.Errorf("larger than %d KiB", MaxBlocklistBytes>>10)
	}
	bl := &Blocklist{digests: map[string]int{}, exact: map[string]int{}, repos: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), MaxBlocklistBytes)
	var errs []error
	n, line := 0, 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if n++; n > MaxBlocklistEntries {
			return nil, fmt.Errorf("line %d: more than %d patterns", line, MaxBlocklistEntries)
		}
		if err := bl.add(text, line); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			if len(errs) == 10 {
				errs = append(errs, errors.New("(further errors not shown)"))
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return bl, nil
}

func (bl *Blocklist) add(p string, line int) error {
	if len(p) > maxPatternLen {
		return fmt.Errorf("pattern longer than %d characters", maxPatternLen)
	}
	if strings.ContainsAny(p, " \t") {
		return fmt.Errorf("pattern %q contains a space: one pattern per line", p)
	}
	if strings.HasPrefix(p, "sha256:") {
		if !isDigest(p) {
			return fmt.Errorf("digest %q: want sha256: and 64 lowercase hex digits", p)
		}
		bl.digests[p] = line
		return nil
	}
	if strings.ContainsAny(p, "*?[") {
		g, err := parseGlob(p)
		if err != nil {
			return err
		}
		g.line = line
		bl.globs = append(bl.globs, g)
		return nil
	}
	r, err := parseImageRef(p)
	if err != nil {
		return err
	}
	switch {
	case r.Digest != "":
		bl.digests[r.Digest] = line
	case hasTag(p):
		bl.exact[r.Repo+":"+r.Tag] = line
	default:
		bl.repos[r.Repo] = line
	}
	return nil
}

// hasTag reports whether a reference names a tag (a ':' after the last '/',
// so a registry port does not count).
func hasTag(s string) bool {
	return strings.Contains(s[strings.LastIndexByte(s, '/')+1:], ":")
}

func parseGlob(p string) (globPattern, error) {
	if strings.Contains(p, "@") {
		return globPattern{}, fmt.Errorf("glob %q: digests cannot be globbed", p)
	}
	repo, tag := p, ""
	if hasTag(p) {
		i := strings.LastIndexByte(p, ':')
		repo, tag = p[:i], p[i+1:]
		if tag == "" {
			return globPattern{}, fmt.Errorf("glob %q: empty tag", p)
		}
	}
	if repo == "" || strings.HasPrefix(repo, "/") || strings.HasSuffix(repo, "/") || strings.Contains(repo, "//") {
		return globPattern{}, fmt.Errorf("glob %q: empty path element", p)
	}
	// Short Docker Hub names, as docker spells them: "evil/*" is
	// docker.io/evil/*, "tool*" is docker.io/library/tool*. A first element
	// that is a host (has '.' or ':', or is localhost) or a glob stays.
	parts := strings.Split(repo, "/")
	switch first := parts[0]; {
	case len(parts) == 1:
		repo = hubRegistry + "/library/" + repo
	case strings.ContainsAny(first, ".:*?[") || first == "localhost":
	default:
		repo = hubRegistry + "/" + repo
	}
	if _, err := path.Match(repo, ""); err != nil {
		return globPattern{}, fmt.Errorf("glob %q: %w", p, err)
	}
	if _, err := path.Match(tag, ""); err != nil {
		return globPattern{}, fmt.Errorf("glob %q: %w", p, err)
	}
	return globPattern{repo: repo, tag: tag, text: p}, nil
}

// Match returns the pattern that blocks an image, or "". digest is the
// digest a scan resolved the reference to, when known.
func (bl *Blocklist) Match(r imageRef, digest string) (pattern string, line int) {
	if bl == nil {
		return "", 0
	}
	for _, d := range []string{r.Digest, digest} {
		if l, ok := bl.digests[d]; ok && d != "" {
			return d, l
		}
	}
	if l, ok := bl.repos[r.Repo]; ok {
		return r.Repo, l
	}
	if r.Tag != "" {
		if l, ok := bl.exact[r.Repo+":"+r.Tag]; ok {
			return r.Repo + ":" + r.Tag, l
		}
	}
	for _, g := range bl.globs {
		if ok, _ := path.Match(g.repo, r.Repo); !ok {
			continue
		}
		if g.tag != "" {
			if ok, _ := path.Match(g.tag, r.Tag); !ok || r.Tag == "" {
				continue
			}
		}
		return g.text, g.line
	}
	return "", 0
}

// Len is the number of patterns.
func (bl *Blocklist) Len() int {
	if bl == nil {
		return 0
	}
	return len(bl.digests) + len(bl.exact) + len(bl.repos) + len(bl.globs)
}

func isDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// readLimited reads all of r, failing past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d KiB", limit>>10)
	}
	return b, nil
}
