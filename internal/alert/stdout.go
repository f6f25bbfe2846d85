package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Writer writes alerts as JSON lines, Falco's json_output format, to any
// io.Writer; stdout is davy agent's default output.
type Writer struct {
	name string
	w    io.Writer
}

// NewWriter returns a sink named name that writes to w.
func NewWriter(name string, w io.Writer) *Writer { return &Writer{name: name, w: w} }

// Stdout returns the sink for standard output.
func Stdout() *Writer { return NewWriter("stdout", os.Stdout) }

// Name is the name given to NewWriter.
func (w *Writer) Name() string { return w.name }

// Send writes the batch in one Write, so lines from one batch are not
// interleaved with other writers' output more than the writer itself
// allows. A short write reports the complete lines as sent.
func (w *Writer) Send(ctx context.Context, alerts []Alert) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var buf bytes.Buffer
	ends := make([]int, 0, len(alerts))
	var encErr error
	for _, a := range alerts {
		if encErr = appendLine(&buf, a); encErr != nil {
			// It never will encode: write the lines before it, and let
			// the Dispatcher give up the rest of the batch.
			encErr = Permanent(encErr)
			break
		}
		ends = append(ends, buf.Len())
	}
	if buf.Len() == 0 {
		return encErr
	}
	n, err := w.w.Write(buf.Bytes())
	if err == nil && n < buf.Len() {
		err = io.ErrShortWrite
	}
	if err != nil {
		done := 0
		for done < len(ends) && ends[done] <= n {
			done++
		}
		return partial(done, fmt.Errorf("writing alerts to %s: %w", w.name, err))
	}
	return partial(len(ends), encErr)
}

// partial wraps err in a PartialError when some alerts went out.
func partial(sent int, err error) error {
	if sent == 0 || err == nil {
		return err
	}
	var pe *PartialError
	if errors.As(err, &pe) {
		return err
	}
	return &PartialError{Sent: sent, Err: err}
}
