package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/davyproject/davy/internal/finding"
)

// SARIF 2.1.0 as GitHub code scanning reads it: stable rule IDs (the
// evidence IDs), a security-severity per rule, and the in-image path as
// the location.
type sarifWriter struct{ version string }

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifDocsURI = "https://github.com/davyproject/davy/blob/main/docs/detectors.md#"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	HelpURI          string         `json:"helpUri"`
	Help             sarifText      `json:"help"`
	DefaultConfig    sarifLevel     `json:"defaultConfiguration"`
	Properties       sarifRuleProps `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifLevel struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	SecuritySeverity string   `json:"security-severity"`
	Tags             []string `json:"tags"`
}

type sarifResult struct {
	RuleID    string            `json:"ruleId"`
	Level     string            `json:"level"`
	Message   sarifText         `json:"message"`
	Locations []sarifLocation   `json:"locations"`
	Props     map[string]string `json:"properties,omitempty"`
}

type sarifLocation struct {
	Physical sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

func (s sarifWriter) WriteImages(w io.Writer, r *ImageReport) error {
	used := map[string]bool{}
	run := sarifRun{Results: []sarifResult{}}
	for _, img := range r.Images {
		for _, f := range img.Findings {
			used[f.ID] = true
			msg := f.Message
			if f.Deleted {
				msg += " (the file is deleted by a later layer but still ships in the image)"
			}
			props := map[string]string{"image": img.Ref}
			if f.Layer != "" {
				props["layer"] = f.Layer
			}
			if img.Digest != "" {
				props["imageDigest"] = img.Digest
			}
			run.Results = append(run.Results, sarifResult{
				RuleID: f.ID, Level: sarifLevelOf(f.Severity),
				Message: sarifText{img.Ref + ": " + msg},
				// GitHub needs a relative URI and a region to show a result.
				Locations: []sarifLocation{{Physical: sarifPhysical{Artifact: sarifArtifact{URI: strings.TrimPrefix(f.Path, "/")}, Region: sarifRegion{StartLine: 1}}}},
				Props:     props,
			})
		}
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	run.Tool.Driver = sarifDriver{Name: "davy", InformationURI: "https://github.com/davyproject/davy", Version: s.version, Rules: []sarifRule{}}
	for _, id := range ids {
		rule := finding.Rules[id]
		sev := rule.Severity()
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: id, Name: strings.ReplaceAll(id, "-", ""), ShortDescription: sarifText{rule.Summary},
			HelpURI: sarifDocsURI + strings.ToLower(id), Help: sarifText{rule.Summary + ". See docs/detectors.md#" + strings.ToLower(id) + "."},
			DefaultConfig: sarifLevel{sarifLevelOf(sev)},
			Properties:    sarifRuleProps{SecuritySeverity: securitySeverity(sev), Tags: []string{"security", "cryptominer", string(rule.Group)}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("writing SARIF: %w", err)
	}
	return nil
}

func sarifLevelOf(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "error"
	case finding.SeverityMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity maps to GitHub's bands: >= 9.0 critical, >= 7.0 high,
// >= 4.0 medium, else low.
func securitySeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "9.5"
	case finding.SeverityHigh:
		return "8.0"
	case finding.SeverityMedium:
		return "5.5"
	}
	return "2.0"
}
