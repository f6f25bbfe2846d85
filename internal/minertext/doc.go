// Package minertext reads miner facts out of text a workload carries: its
// command line (stratum URLs, pool endpoints, miner flags, config paths) and
// its config files (XMRig and xmr-stak JSON, Claymore pool lists, INI
// files). It judges nothing; detectors and file scanners weigh the facts.
// Every parser bounds what it reads and never fails on bad input.
package minertext
