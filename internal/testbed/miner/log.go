package miner

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// logger writes XMRig-like lines: "[time]  tag      message".
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(tag, format string, args ...any) {
	line := fmt.Sprintf("[%s]  %-8s %s\n", time.Now().Format("2006-01-02 15:04:05.000"), tag, fmt.Sprintf(format, args...))
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, line) // stdout may be gone; mining goes on
}

// raw writes a banner line as is.
func (l *logger) raw(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = fmt.Fprintf(l.w, format+"\n", args...)
}
