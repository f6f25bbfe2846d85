package image

// layerView is what a layer does to the layers below it.
type layerView struct {
	nondirs, dirs, whiteouts, opaque hashSet
}

func viewOf(r *layerRecord) layerView {
	v := layerView{nondirs: r.NonDirs, dirs: r.Dirs}
	v.whiteouts = hashStrings(r.Whiteouts)
	v.opaque = hashStrings(r.Opaque)
	return v
}

func hashStrings(ss []string) hashSet {
	if len(ss) == 0 {
		return nil
	}
	hs := make([]uint64, len(ss))
	for i, s := range ss {
		hs[i] = hashPath(s)
	}
	return newHashSet(hs)
}

// removes reports whether this layer hides a lower layer's file at p, the
// way overlayfs (and docker's layer apply) would.
func (v layerView) removes(p string) bool {
	h := hashPath(p)
	if v.nondirs.has(h) || v.dirs.has(h) || v.whiteouts.has(h) {
		return true // overwritten or deleted
	}
	for a := p; a != ""; {
		a = parentDir(a)
		ha := hashPath(a)
		if v.opaque.has(ha) {
			return true // a parent made opaque: lower content hidden
		}
		if a != "" && (v.nondirs.has(ha) || v.whiteouts.has(ha)) {
			return true // a parent deleted, or replaced by a file or symlink
		}
	}
	return false
}

// visibleAbove reports whether no layer above i hides p.
func visibleAbove(p string, i int, views []layerView) bool {
	for j := i + 1; j < len(views); j++ {
		if views[j].removes(p) {
			return false
		}
	}
	return true
}

// assemble builds the Result from the layer records, in layer order.
func assemble(recs []*layerRecord) Result {
	var res Result
	views := make([]layerView, len(recs))
	for i, r := range recs {
		if r != nil {
			views[i] = viewOf(r)
		}
	}
	complete := true
	for i, r := range recs {
		if r == nil { // never started: the walk was cancelled
			complete = false
			continue
		}
		res.Files += r.Files
		res.Bytes += r.Bytes
		if r.cached {
			res.CachedLayers++
		}
		for _, e := range r.Errors {
			res.Errors = append(res.Errors, LayerError{Layer: r.Layer, LayerIndex: i, Path: e.Path, Err: e.Err})
		}
		for _, f := range r.Findings {
			visible := !f.Shadowed && visibleAbove(f.File, i, views)
			for _, l := range f.Links {
				visible = visible || visibleAbove(l, i, views)
			}
			res.Findings = append(res.Findings, LayerFinding{
				Finding:    f.Finding,
				Layer:      r.Layer,
				LayerIndex: i,
				Deleted:    !visible,
				Links:      f.Links,
				Unverified: r.err != nil,
			})
		}
	}
	res.Complete = complete && len(res.Errors) == 0
	return res
}
