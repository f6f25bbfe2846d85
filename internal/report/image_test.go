package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/davyproject/davy/internal/finding"
)

func sampleImages() *ImageReport {
	return &ImageReport{Schema: ImageSchema, Images: []Image{{
		Ref: "127.0.0.1:5000/app:1", Digest: "sha256:3f2a9c1e07b4aa00", Platform: "linux/amd64",
		Verdict: finding.VerdictMiner, Score: 99, Complete: false, Layers: 3, Files: 120, Bytes: 1 << 20,
		Errors: []ScanError{{Layer: "sha256:bbbbbbbbbbbbbbbbbbbb", Error: "gzip: unexpected EOF"}},
		Findings: []ImageFinding{
			{ID: "DAVY-I001", Severity: finding.SeverityOf("DAVY-I001"), Path: "usr/bin/kworker", Layer: "sha256:aaaaaaaaaaaaaaaaaaaa", Message: "executable matches miner content", Deleted: true},
			{ID: "DAVY-S004", Severity: finding.SeverityOf("DAVY-S004"), Path: "etc/init.sh", Layer: "sha256:aaaaaaaaaaaaaaaaaaaa", Message: "kills rival miners"},
		},
	}}}
}

func TestImageWritersGolden(t *testing.T) {
	for _, c := range []struct{ format, file string }{
		{"table", "image.table"}, {"json", "image.json"}, {"sarif", "image.sarif"},
	} {
		t.Run(c.file, func(t *testing.T) {
			w, err := NewImage(c.format, Options{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := w.WriteImages(&b, sampleImages()); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.file, b.Bytes())
		})
	}
}

// TestSARIFShape checks what GitHub code scanning requires of an upload.
func TestSARIFShape(t *testing.T) {
	var b bytes.Buffer
	if err := (sarifWriter{version: "1"}).WriteImages(&b, sampleImages()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID         string `json:"id"`
						Properties struct {
							SecuritySeverity string `json:"security-severity"`
						} `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					Physical struct {
						Artifact struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 || doc.Runs[0].Tool.Driver.Name != "davy" {
		t.Fatalf("bad envelope: %+v", doc)
	}
	rules := map[string]bool{}
	for _, r := range doc.Runs[0].Tool.Driver.Rules {
		if r.Properties.SecuritySeverity == "" {
			t.Errorf("rule %s has no security-severity", r.ID)
		}
		rules[r.ID] = true
	}
	for _, res := range doc.Runs[0].Results {
		if !rules[res.RuleID] {
			t.Errorf("result for undeclared rule %s", res.RuleID)
		}
		if len(res.Locations) != 1 || res.Locations[0].Physical.Artifact.URI == "" || res.Locations[0].Physical.Region.StartLine < 1 {
			t.Errorf("result %s lacks a location GitHub accepts: %+v", res.RuleID, res.Locations)
		}
	}
}
