// Package image opens container images and walks their layers for
// `davy scan image` (and trees for `davy scan fs`).
//
// Open turns a registry reference or a local input (a `docker save` /
// `podman save` archive, an OCI layout directory, an OCI archive, or an
// unpacked root filesystem) into Targets, one per platform. Walk streams
// every layer of a Target once, verifies it against its digest, hands each
// regular file (and, with an empty reader, each link) to a Visitor, and
// works out which findings the final filesystem still shows (whiteouts,
// opaque directories, overwrites, a parent replaced by a file).
//
// Nothing is extracted to disk and no layer is held in memory: bytes flow
// from the source through the decompressor and the tar reader into the
// visitor. Every input is untrusted, so every stage has a limit
// (WalkOptions: MaxLayerBytes 8 GiB, MaxFileBytes 512 MiB, MaxEntries
// 2,000,000, MaxPathLen 4096 by default) and a bad layer or file becomes
// an entry in Result.Errors while the rest of the image is still scanned.
//
// Verification: a layer is checked against the digest that names it, as
// it streams: the compressed digest from the manifest (OCI layout, OCI
// archive; a registry's reader checks it itself), or the diff_id from the
// config for docker archives, which state no compressed digests. A layer
// that fails is refused: it is not cached, the scan is incomplete, and
// its findings are kept but flagged Unverified.
//
// Cache: with WalkOptions.CacheDir, each verified layer's record is a JSON
// file CacheDir/layers/<alg>-<hex>-<settings>.json, where <settings> hashes
// the ScannerVersion, the limits and the schema. A record holds the
// layer's findings (with the file path each came from, its hard links and
// whether a later entry of the same layer replaced it), its per-file
// errors, counts, its whiteouts and opaque directories, and two sorted sets
// of 64-bit FNV-1a path hashes (non-directories, directories): everything
// visibility needs, so a cached layer is never read again, whichever image
// it appears in.
//
// The package neither logs nor exits; progress goes to an optional callback.
package image
