package scan

import (
	"bytes"
	"io"
)

type ioReadCloser = io.ReadCloser

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
