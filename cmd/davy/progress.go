package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/davyproject/davy/internal/image"
)

// progressBar draws one status line on a terminal for pulls and long
// scans; off a terminal it draws nothing, so logs and pipes stay clean.
type progressBar struct {
	w        io.Writer
	layers   map[string]layerProgress
	done     int
	total    int
	ref      string
	lastDraw time.Time
	width    int
}

type layerProgress struct{ bytes, total int64 }

// newProgress returns nil (no progress) unless stderr is a terminal.
func newProgress(stderr io.Writer) *progressBar {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progressBar{w: stderr, layers: map[string]layerProgress{}}
}

// event is an image.Options.Progress callback; calls are serialised.
func (p *progressBar) event(ev image.Event) {
	if p == nil {
		return
	}
	switch ev.Kind {
	case image.EventResolve:
		p.ref, p.done, p.total = ev.Ref, 0, 0
		clear(p.layers)
	case image.EventLayerStart, image.EventLayerProgress:
		p.total = max(p.total, ev.Layers)
		p.layers[ev.Layer] = layerProgress{ev.Bytes, ev.Total}
	case image.EventLayerDone, image.EventLayerCached:
		p.total = max(p.total, ev.Layers)
		delete(p.layers, ev.Layer)
		p.done++
	default:
		return
	}
	// Redraw at most ten times a second, and always when a layer ends.
	if ev.Kind == image.EventLayerProgress && time.Since(p.lastDraw) < 100*time.Millisecond {
		return
	}
	p.lastDraw = time.Now()
	var read, size int64
	for _, l := range p.layers {
		read, size = read+l.bytes, size+l.total
	}
	line := fmt.Sprintf("%s: layers %d/%d", p.ref, p.done, p.total)
	if size > 0 {
		line += fmt.Sprintf(", %s of %s in flight", mib(read), mib(size))
	}
	p.draw(line)
}

func (p *progressBar) draw(line string) {
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len(line)
}

// finish clears the status line before the report is printed.
func (p *progressBar) finish() {
	if p == nil || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.width = 0
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
