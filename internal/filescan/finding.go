// Package filescan is the file-content engine shared by image, filesystem
// and host scans: it recognises executables, scripts, miner configs,
// crontabs and archives and reports what it finds as evidence.
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
