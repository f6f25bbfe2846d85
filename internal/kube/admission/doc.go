// Package admission is `davy webhook`: a validating admission webhook for
// Pods. It refuses (mode enforce) or warns about (mode warn) pods whose
// images a scan judged miner or a blocklist names, whose command, args or
// environment carry stratum URLs or wallet addresses, and optionally pods
// without CPU limits. Image verdicts come from a bounded in-memory cache or
// an on-demand scan under a time budget; a scan that overruns the budget
// keeps going in the background so the next request finds its verdict.
package admission
