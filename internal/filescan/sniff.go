package filescan

import (
	"bytes"
	"path"
	"strings"
)

type fileType int

const (
	typeOther fileType = iota
	typeELF
	typeGzip
	typeZstd
	typeBzip2
	typeXZ
	typeZip
	typeTar
	typeText
)

var (
	magicELF  = []byte{0x7f, 'E', 'L', 'F'}
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicZip  = []byte("PK\x03\x04")
	magicZipE = []byte("PK\x05\x06") // empty zip: only the end record
	magicTar  = []byte("ustar")      // at offset 257, POSIX and GNU
)

// textSniff is how much of the head decides text or binary.
const textSniff = 8 << 10

func sniff(head []byte) fileType {
	switch {
	case bytes.HasPrefix(head, magicELF):
		return typeELF
	case bytes.HasPrefix(head, magicGzip):
		return typeGzip
	case bytes.HasPrefix(head, magicZstd):
		return typeZstd
	case bytes.HasPrefix(head, magicXZ):
		return typeXZ
	case isBzip2(head):
		return typeBzip2
	case bytes.HasPrefix(head, magicZip), bytes.HasPrefix(head, magicZipE):
		return typeZip
	case len(head) >= 262 && bytes.Equal(head[257:262], magicTar):
		return typeTar
	case isText(head[:min(len(head), textSniff)]):
		return typeText
	}
	return typeOther
}

// isText accepts bytes with no NUL and few control characters: ASCII or
// UTF-8 text, scripts, JSON. UTF-16 has NULs and counts as binary.
func isText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	ctrl := 0
	for _, c := range b {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v', c == 0x7f:
			ctrl++
		}
	}
	return ctrl*100 <= len(b)
}

// textKind decides which rules read a text file.
type textKind int

const (
	kindText   textKind = iota // documents and source code: only base64 blobs
	kindScript                 // shell and other scripts: every script rule
	kindCron                   // a crontab: script rules, and a download in any entry is persistence
	kindConfig                 // a possible miner config: config parse plus the script rules
)

func (k textKind) noun() string {
	switch k {
	case kindScript:
		return "script"
	case kindCron:
		return "crontab"
	case kindConfig:
		return "file"
	}
	return "file"
}

var (
	scriptExts = map[string]bool{".sh": true, ".bash": true, ".ksh": true, ".zsh": true, ".dash": true,
		".py": true, ".pl": true, ".rb": true, ".service": true, ".timer": true}
	scriptNames = map[string]bool{"Dockerfile": true, "Containerfile": true, "rc.local": true, "profile": true,
		".profile": true, ".bashrc": true, "bashrc": true, ".bash_profile": true, ".bash_login": true, "environment": true}
	configExts = map[string]bool{".json": true, ".txt": true, ".ini": true, ".conf": true, ".cfg": true,
		".yaml": true, ".yml": true, ".toml": true}
	// Documents and source code: only their base64 blobs are read, since
	// they quote commands rather than run them.
	docExts = map[string]bool{".md": true, ".rst": true, ".adoc": true, ".html": true, ".htm": true, ".xml": true,
		".csv": true, ".tsv": true, ".tex": true, ".po": true, ".pot": true, ".svg": true, ".css": true,
		".c": true, ".h": true, ".cc": true, ".cpp": true, ".hpp": true, ".go": true, ".java": true, ".js": true,
		".ts": true, ".rs": true, ".vim": true, ".el": true, ".lua": true, ".tcl": true,
		".1": true, ".2": true, ".3": true, ".4": true, ".5": true, ".6": true, ".7": true, ".8": true, ".9": true}
	docNames = map[string]bool{"README": true, "NEWS": true, "CHANGELOG": true, "CHANGES": true, "COPYING": true,
		"LICENSE": true, "AUTHORS": true, "THANKS": true, "TODO": true, "HISTORY": true, "INSTALL": true, "COPYRIGHT": true}
	docDirs = []string{"/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/", "/usr/include/",
		"/usr/share/help/", "/usr/share/i18n/"}
	// scriptDirs hold files that run: their text is read as a script even
	// without a shebang or an extension.
	scriptDirs = []string{"/bin/", "/sbin/", "/etc/", "/init.d/", "/profile.d/", "/cron"}
)

// memberName is the innermost name of a path such as "a.tar.gz!etc/x",
// as an absolute, cleaned path ("/etc/x").
func memberName(p string) string {
	if i := strings.LastIndexByte(p, '!'); i >= 0 {
		p = p[i+1:]
	}
	return path.Clean("/" + p)
}

func textKindOf(p string, head []byte, from origin) textKind {
	if from == originDecoded {
		return kindScript // someone hid this text on purpose
	}
	name := memberName(p)
	base, ext := path.Base(name), strings.ToLower(path.Ext(name))
	switch {
	case name == "/etc/crontab" || name == "/etc/anacrontab" ||
		strings.HasPrefix(name, "/etc/cron.d/") || strings.HasPrefix(name, "/var/spool/cron/"):
		return kindCron
	case bytes.HasPrefix(head, []byte("#!")), scriptExts[ext], scriptNames[base]:
		return kindScript
	case configExts[ext], bytes.HasPrefix(bytes.TrimSpace(head[:min(len(head), 256)]), []byte("{")):
		return kindConfig
	}
	for _, d := range docDirs {
		if strings.Contains(name, d) {
			return kindText
		}
	}
	for _, d := range scriptDirs {
		if strings.Contains(name, d) {
			return kindScript
		}
	}
	if docExts[ext] || docNames[strings.ToUpper(strings.TrimSuffix(base, ext))] {
		return kindText
	}
	// Other text, without an extension that says what it is, is read as a
	// script: droppers arrive as /tmp/x or /opt/app/run and are started by
	// sh from a command line.
	return kindScript
}

// isBzip2 checks the stream header ("BZh" and a level) and the magic of
// what must follow it, a block or the end of an empty stream, so a text
// that starts with "BZh1" stays text.
func isBzip2(head []byte) bool {
	if len(head) < 10 || head[0] != 'B' || head[1] != 'Z' || head[2] != 'h' || head[3] < '1' || head[3] > '9' {
		return false
	}
	return bytes.Equal(head[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}) || bytes.Equal(head[4:10], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90})
}
