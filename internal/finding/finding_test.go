package finding

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	cases := map[string]string{
		"plain":                  `"plain"`,
		"new\nline\t":            `"new\nline\t"`,
		"bad\xffutf8":            `"bad\xffutf8"`,
		strings.Repeat("é", 150): "", // checked below: cut on a rune boundary
	}
	for in, want := range cases {
		got := Quote(in)
		if want != "" && got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
		if len(got) > maxQuoted+10 || strings.ContainsAny(got, "\n\t") {
			t.Errorf("Quote(%q) = %s: too long or unescaped", in, got)
		}
	}
	if c := Cut(strings.Repeat("é", 150), 201); !utf8.ValidString(c) || !strings.HasSuffix(c, "…") {
		t.Errorf("Cut split a rune: %q", c)
	}
	if ShortWallet("short") != "short" || len([]rune(ShortWallet(strings.Repeat("4", 95)))) != 21 {
		t.Error("ShortWallet")
	}
}

func TestRulesCatalogue(t *testing.T) {
	for id, r := range Rules {
		// Weight 0 is a note (a detector that could not look), never strong.
		if r.ID != id || r.Summary == "" || r.Weight < 0 || r.Weight > 100 || r.Weight == 0 && !r.Weak {
			t.Errorf("rule %s malformed: %+v", id, r)
		}
		if _, err := ParseGroup(string(r.Group)); err != nil {
			t.Errorf("rule %s: %v", id, err)
		}
	}
}

// TestEveryIDIsDocumented keeps docs/detectors.md in step with the catalogue.
func TestEveryIDIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/detectors.md")
	if err != nil {
		t.Fatal(err)
	}
	for id := range Rules {
		if !strings.Contains(string(doc), "### "+id+" ") {
			t.Errorf("docs/detectors.md has no section for %s", id)
		}
	}
}
