package filescan

import "errors"

// Errors wrapped by the errors ScanFile returns; test with errors.Is.
var (
	// ErrCorrupt marks input that could not be parsed: a truncated gzip, a
	// broken tar header, an ELF whose headers contradict the file. Whatever
	// could still be read was scanned.
	ErrCorrupt = errors.New("corrupt input")
	// ErrLimit marks a scan cut short by an Options limit (file size,
	// nesting depth, archive members or bytes, base64 blobs): the file was
	// only partly scanned.
	ErrLimit = errors.New("limit reached, scan incomplete")
)

// FileError is a problem with one file of a scanned set. ScanFile returns
// one per failing file (archive members included), joined with errors.Join,
// so callers can list them with errors.As or by unwrapping.
type FileError struct {
	Path string // as in Finding.Path
	Err  error
}

func (e *FileError) Error() string { return "filescan: " + e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }
