package image

import (
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestVisibility checks, one rule at a time, which findings the final
// filesystem still shows.
func TestVisibility(t *testing.T) {
	m := func(name string) ent { return reg(name, mark) }
	cases := []struct {
		name   string
		layers [][]ent
		want   []wantFinding
	}{
		{"untouched", [][]ent{{m("a/f")}, {m("b/g")}},
			[]wantFinding{{"a/f", 0, false}, {"b/g", 1, false}}},
		{"whiteout of the file", [][]ent{{m("a/f"), m("a/keep")}, {reg("a/.wh.f", "")}},
			[]wantFinding{{"a/f", 0, true}, {"a/keep", 0, false}}},
		{"whiteout of a parent", [][]ent{{m("a/b/f")}, {reg(".wh.a", "")}},
			[]wantFinding{{"a/b/f", 0, true}}},
		{"whiteout of a sibling with a common prefix", [][]ent{{m("a/file")}, {reg("a/.wh.fil", "")}},
			[]wantFinding{{"a/file", 0, false}}},
		{"opaque directory", [][]ent{{m("a/f"), m("ab/g")}, {dir("a/"), reg("a/.wh..wh..opq", ""), m("a/new")}},
			[]wantFinding{{"a/f", 0, true}, {"ab/g", 0, false}, {"a/new", 1, false}}},
		{"opaque root", [][]ent{{m("a/f")}, {reg(".wh..wh..opq", "")}},
			[]wantFinding{{"a/f", 0, true}}},
		{"overwritten by a file", [][]ent{{m("f")}, {reg("f", "clean")}},
			[]wantFinding{{"f", 0, true}}},
		{"overwritten by a directory", [][]ent{{m("f")}, {dir("f/")}},
			[]wantFinding{{"f", 0, true}}},
		{"overwritten by a symlink", [][]ent{{m("f")}, {sym("f", "g")}},
			[]wantFinding{{"f", 0, true}}},
		{"parent replaced by a file", [][]ent{{m("a/b/f")}, {reg("a", "now a file")}},
			[]wantFinding{{"a/b/f", 0, true}}},
		{"parent directory re-declared", [][]ent{{m("a/f")}, {dir("a/"), reg("a/g", "x")}},
			[]wantFinding{{"a/f", 0, false}}},
		{"deleted then re-added clean", [][]ent{{m("f")}, {reg(".wh.f", "")}, {reg("f", "clean")}},
			[]wantFinding{{"f", 0, true}}},
		{"deleted then re-added marked", [][]ent{{m("f")}, {reg(".wh.f", "")}, {m("f")}},
			[]wantFinding{{"f", 0, true}, {"f", 2, false}}},
		{"same path twice in one layer", [][]ent{{m("f"), reg("f", "clean"), reg("g", "clean"), m("g")}},
			[]wantFinding{{"f", 0, true}, {"g", 0, false}}},
		{"hard link keeps a deleted file", [][]ent{{m("f"), hard("l", "f")}, {reg(".wh.f", "")}},
			[]wantFinding{{"f", 0, false}}},
		{"hard link and file both deleted", [][]ent{{m("f"), hard("l", "f")}, {reg(".wh.f", ""), reg(".wh.l", "")}},
			[]wantFinding{{"f", 0, true}}},
		{"a whiteout hides only lower layers", [][]ent{{m("a/f")}, {reg("a/.wh.g", ""), m("a/g")}},
			[]wantFinding{{"a/f", 0, false}, {"a/g", 1, false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var layers []v1.Layer
			for _, ents := range c.layers {
				layers = append(layers, layerOf(t, ents...))
			}
			res, _ := walkImage(t, imageOf(t, "linux/amd64", layers...), WalkOptions{})
			if !res.Complete {
				t.Errorf("incomplete: %s", errorsText(res))
			}
			if got := gotFindings(res); !reflect.DeepEqual(got, c.want) {
				t.Errorf("findings:\n got %v\nwant %v", got, c.want)
			}
		})
	}
}
