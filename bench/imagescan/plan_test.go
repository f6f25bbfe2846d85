package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestMakePlanRepeatsDistinctAndDeterministic(t *testing.T) {
	pool := []srcFile{
		{path: "/usr/bin/a", size: 100, kind: kindELF}, {path: "/usr/lib/b.so", size: 300, kind: kindELF},
		{path: "/usr/share/doc/c", size: 50, kind: kindText}, {path: "/etc/d.conf", size: 20, kind: kindText},
		{path: "/usr/share/e.gz", size: 40, kind: kindOther},
	}
	large := []srcFile{{path: "/usr/bin/big", size: 400, kind: kindELF}}
	planted := make([][]entry, len(layerShares)+2)
	planted[2] = []entry{{name: plantedMiner, data: []byte("x"), planted: true}}
	const total = 4000

	p1, err := makePlan(pool, large, total, 7, planted)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := makePlan(pool, large, total, 7, planted)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p1, p2) {
		t.Fatal("same seed gave two plans")
	}
	if len(p1.layers) != len(layerShares)+2 {
		t.Fatalf("%d layers, want %d", len(p1.layers), len(layerShares)+2)
	}
	names := map[string]bool{}
	var sum int64
	repeats := 0
	for li, l := range p1.layers {
		for _, e := range l {
			if names[e.name] {
				t.Errorf("%s twice", e.name)
			}
			names[e.name] = true
			sum += e.size()
			if strings.HasPrefix(e.name, "opt/app") {
				repeats++
				if e.pad == 0 {
					t.Errorf("repeated copy %s has no padding", e.name)
				}
			}
			if e.planted && li != 2 {
				t.Errorf("planted %s in layer %d, want 2", e.name, li)
			}
		}
	}
	if repeats == 0 {
		t.Error("a small pool was not repeated to reach the size")
	}
	if sum < total*9/10 {
		t.Errorf("plan holds %d bytes, want about %d", sum, total)
	}
	if !names["srv/assets/usr/bin/big"] {
		t.Error("large file missing")
	}
}

func TestPadding(t *testing.T) {
	a, b := padding(kindText, 100, 3), padding(kindText, 100, 3)
	if !bytes.Equal(a, b) {
		t.Fatal("padding is not deterministic")
	}
	if k := classifyBytes(a); k != kindText {
		t.Errorf("text padding classified %v", k)
	}
	if bytes.Equal(padding(kindELF, 100, 3), padding(kindELF, 100, 4)) {
		t.Error("different seeds gave the same padding")
	}
}
