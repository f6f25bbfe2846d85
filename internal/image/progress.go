package image

import "sync"

// EventKind says what an Event reports.
type EventKind int

const (
	// EventResolve: Open is resolving a reference or an input path.
	EventResolve EventKind = iota + 1
	// EventLayerStart: a layer starts streaming; Total is its size as read
	// (compressed), 0 if unknown.
	EventLayerStart
	// EventLayerProgress: Bytes of the layer have been read so far.
	EventLayerProgress
	// EventLayerDone: a layer has been read; Err is set if it failed.
	EventLayerDone
	// EventLayerCached: a layer's result came from the cache, nothing read.
	EventLayerCached
	// EventCacheError: the cache could not be written; the scan is unaffected.
	EventCacheError
)

func (k EventKind) String() string {
	switch k {
	case EventResolve:
		return "resolve"
	case EventLayerStart:
		return "layer-start"
	case EventLayerProgress:
		return "layer-progress"
	case EventLayerDone:
		return "layer-done"
	case EventLayerCached:
		return "layer-cached"
	case EventCacheError:
		return "cache-error"
	}
	return "unknown"
}

// Event is one progress report, for a progress bar. Callbacks are never
// called concurrently with each other, so they need no locking.
type Event struct {
	Kind       EventKind
	Ref        string
	Layer      string
	LayerIndex int
	Layers     int   // layers in the image
	Bytes      int64 // bytes of this layer read so far (as stored: compressed)
	Total      int64 // the layer's stored size, 0 if unknown
	Err        error
}

// progressEvery is how many bytes pass between two EventLayerProgress events.
const progressEvery = 1 << 20

// emitter serialises callbacks so a CLI can draw without locks.
type emitter struct {
	mu sync.Mutex
	fn func(Event)
}

func newEmitter(fn func(Event)) *emitter { return &emitter{fn: fn} }

func (e *emitter) emit(ev Event) {
	if e == nil || e.fn == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fn(ev)
}
