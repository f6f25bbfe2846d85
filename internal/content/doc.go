// Package content looks inside files for miner content. It is shared by the
// host's executable detector and the image scanner: a streaming multi-pattern
// matcher (Aho-Corasick over bytes), a Scanner that reads a bounded prefix of
// a file once and reports which indicators occur in it, a classification of
// that result, and a small cache keyed by file identity.
//
// The package holds no indicator data: callers pass indicators in (see
// internal/intel), so the binary that embeds this package does not itself
// carry the bytes it looks for.
package content
