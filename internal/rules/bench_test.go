package rules

import "testing"

// BenchmarkMatchDefault evaluates the default rules on realistic events:
// an ordinary process start (what nearly every event is), and a miner's.
func BenchmarkMatchDefault(b *testing.B) {
	rs := loadDefaults(b)
	miner := benignExec()
	miner.Proc.ExePath = "/tmp/.x/kx"
	miner.Davy.Evidence = []string{"DAVY-I001", "DAVY-C001", "DAVY-P001"}
	for _, c := range []struct {
		name string
		ev   *Event
	}{{"exec", benignExec()}, {"miner-exec", miner}} {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]*Rule, 0, 16)
			b.ReportAllocs()
			for b.Loop() {
				dst = rs.AppendMatches(dst[:0], c.ev)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkLoadDefault measures loading and compiling the default rules.
func BenchmarkLoadDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(Options{}, DefaultSource()); err != nil {
			b.Fatal(err)
		}
	}
}
