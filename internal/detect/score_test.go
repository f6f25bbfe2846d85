package detect

import (
	"testing"

	"github.com/davyproject/davy/internal/finding"
)

func ev(ids ...string) []finding.Evidence {
	var out []finding.Evidence
	for _, id := range ids {
		out = append(out, finding.New(id, "test", 1, id, nil))
	}
	return out
}

func TestScore(t *testing.T) {
	cases := []struct {
		name    string
		ev      []finding.Evidence
		verdict finding.Verdict
	}{
		{"nothing", nil, finding.VerdictClean},
		{"busy honest job", ev("DAVY-B001", "DAVY-B002"), finding.VerdictClean},
		{"name alone", ev("DAVY-C004"), finding.VerdictClean},
		// Every weak signal at once is still only suspicious.
		{"all weak signals", ev("DAVY-C004", "DAVY-P001", "DAVY-P004", "DAVY-P003", "DAVY-B001", "DAVY-B002", "DAVY-N002", "DAVY-I004"), finding.VerdictSuspicious},
		{"memfd", ev("DAVY-P004"), finding.VerdictSuspicious},
		{"content match", ev("DAVY-I001"), finding.VerdictMiner},
		{"stratum url", ev("DAVY-C001"), finding.VerdictMiner},
		{"wallet and flags", ev("DAVY-C002", "DAVY-C003"), finding.VerdictMiner},
		{"wallet alone", ev("DAVY-C002"), finding.VerdictSuspicious},
		{"partial content", ev("DAVY-I003"), finding.VerdictSuspicious},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			score, v := Score(c.ev, DefaultThresholds)
			if v != c.verdict {
				t.Fatalf("verdict %s (score %d), want %s", v, score, c.verdict)
			}
			if score < 0 || score > 100 {
				t.Fatalf("score %d out of range", score)
			}
		})
	}
}

func TestScoreCountsEachIDOnce(t *testing.T) {
	one, _ := Score(ev("DAVY-P001"), DefaultThresholds)
	many, _ := Score(ev("DAVY-P001", "DAVY-P001", "DAVY-P001", "DAVY-P001"), DefaultThresholds)
	if one != many {
		t.Fatalf("repeated evidence changed the score: %d vs %d", one, many)
	}
}
