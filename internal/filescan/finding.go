// Package filescan is the file-content engine shared by image, filesystem
// and host scans: it recognises executables, scripts, miner configs,
// crontabs and archives and reports what it finds as evidence.
//
// Engine.ScanFile reads a file once. The first 64 KiB decide the handler:
// ELF (content indicators, release hash, UPX and entropy, header checks),
// gzip, tar and zip (members scanned by the same dispatch, one level
// deeper, as "archive!member"), text (script, crontab, config or document,
// by name and shebang: keyword automaton, line rules, config parser, base64
// blobs decoded and scanned as "file!base64@OFFSET"), or other binary data
// (content indicators). Engine.ScanImageConfig reads an image's config and
// Engine.ScanExecutable serves the host's executable detector.
//
// Every limit is in Options; a file that hits one, or is corrupt, gets a
// *FileError wrapping ErrLimit or ErrCorrupt and the rest of the set goes on.
// Miner words in this package are hex-encoded (vocab.go) so that davy's own
// binary never matches its indicators.
package filescan

// Finding is one signal found in one file.
type Finding struct {
	// ID is an evidence ID from finding.Rules (e.g. DAVY-I001, DAVY-S001).
	ID string `json:"id"`
	// Path is the file's path in the scanned tree; members of archives and
	// decoded blobs are written "outer.tar.gz!inner/path" and
	// "script.sh!base64@120".
	Path    string            `json:"path"`
	Message string            `json:"message"`
	Values  map[string]string `json:"values,omitempty"`
}
