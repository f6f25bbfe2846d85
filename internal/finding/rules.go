package finding

// Rules is the catalogue of evidence IDs. IDs are never reused or renumbered;
// docs/detectors.md has one entry per ID.
var Rules = map[string]Rule{}

func rule(r Rule) { Rules[r.ID] = r }

func init() {
	// Identity: the executable's content.
	rule(Rule{ID: "DAVY-I001", Group: GroupIdentity, Weight: 90, Summary: "executable content matches a miner (algorithm constants, stratum methods, miner banner)"})
	rule(Rule{ID: "DAVY-I002", Group: GroupIdentity, Weight: 100, Summary: "executable hash matches a known miner release"})
	rule(Rule{ID: "DAVY-I003", Group: GroupIdentity, Weight: 40, Summary: "executable contains some miner indicators, not enough for a content match"})
	rule(Rule{ID: "DAVY-I004", Group: GroupIdentity, Weight: 15, Weak: true, Summary: "executable is UPX-packed"})
	rule(Rule{ID: "DAVY-I005", Group: GroupIdentity, Weight: 15, Weak: true, Summary: "executable is packed or encrypted (high entropy)"})

	// Command line.
	rule(Rule{ID: "DAVY-C001", Group: GroupCmdline, Weight: 80, Summary: "stratum URL on the command line"})
	rule(Rule{ID: "DAVY-C002", Group: GroupCmdline, Weight: 55, Summary: "cryptocurrency wallet address with a valid checksum on the command line"})
	rule(Rule{ID: "DAVY-C003", Group: GroupCmdline, Weight: 45, Summary: "miner command-line flags"})
	rule(Rule{ID: "DAVY-C004", Group: GroupCmdline, Weight: 20, Weak: true, Summary: "process or executable named like a known miner"})

	// Config files.
	rule(Rule{ID: "DAVY-F001", Group: GroupConfig, Weight: 80, Summary: "XMRig-style JSON miner config with pools"})
	rule(Rule{ID: "DAVY-F002", Group: GroupConfig, Weight: 70, Summary: "pool list or INI miner config with pool and wallet keys"})

	// Scripts (dropper traits), found in images and filesystems.
	rule(Rule{ID: "DAVY-S001", Group: GroupConfig, Weight: 60, Summary: "script downloads a file from a raw IP address and runs it"})
	rule(Rule{ID: "DAVY-S002", Group: GroupConfig, Weight: 20, Weak: true, Summary: "script pipes a download into a shell"})
	rule(Rule{ID: "DAVY-S003", Group: GroupConfig, Weight: 45, Summary: "cron entry that downloads and runs code"})
	rule(Rule{ID: "DAVY-S004", Group: GroupConfig, Weight: 60, Summary: "script kills rival miners"})
	rule(Rule{ID: "DAVY-S005", Group: GroupConfig, Weight: 45, Summary: "script tunes huge pages or MSRs for mining"})
	rule(Rule{ID: "DAVY-S006", Group: GroupConfig, Weight: 50, Summary: "script writes /etc/ld.so.preload"})
	rule(Rule{ID: "DAVY-S007", Group: GroupConfig, Weight: 20, Weak: true, Summary: "script changes immutable attributes with chattr"})
	rule(Rule{ID: "DAVY-S008", Group: GroupConfig, Weight: 45, Summary: "script decodes base64 into a shell"})
	rule(Rule{ID: "DAVY-S009", Group: GroupConfig, Weight: 25, Weak: true, Summary: "script turns off security controls (SELinux, AppArmor, firewall, watchdog)"})

	// Logs.
	rule(Rule{ID: "DAVY-L001", Group: GroupLogs, Weight: 85, Summary: "container log shows miner output"})

	// Network.
	rule(Rule{ID: "DAVY-N001", Group: GroupNetwork, Weight: 60, Summary: "known mining pool domain in the command line or config"})
	rule(Rule{ID: "DAVY-N002", Group: GroupNetwork, Weight: 10, Weak: true, Summary: "connection to a remote port typical of mining pools"})
	rule(Rule{ID: "DAVY-N003", Group: GroupNetwork, Weight: 75, Summary: "connection to a known mining pool by a name the workload itself resolved or sent (DNS answer, TLS SNI)"})
	rule(Rule{ID: "DAVY-N004", Group: GroupNetwork, Weight: 85, Summary: "mining protocol on the wire (stratum, CryptoNote login, EthereumStratum), on any port"})
	rule(Rule{ID: "DAVY-N005", Group: GroupNetwork, Weight: 15, Weak: true, Summary: "opening shaped like an encrypted Stratum V2 handshake"})
	rule(Rule{ID: "DAVY-N006", Group: GroupNetwork, Weight: 20, Weak: true, Summary: "long-lived low-volume flow with a pool's cadence: unasked pushes and irregular, acknowledged client messages"})

	// Behaviour.
	rule(Rule{ID: "DAVY-B001", Group: GroupBehaviour, Weight: 20, Weak: true, Summary: "sustained CPU near the limit (or near all cores without one)"})
	rule(Rule{ID: "DAVY-B002", Group: GroupBehaviour, Weight: 15, Weak: true, Summary: "every thread busy and flat over the window"})
	rule(Rule{ID: "DAVY-B003", Group: GroupBehaviour, Weight: 75, Summary: "busy threads caught in a floating-point rounding mode other than nearest (RandomX's rounding-mode churn)"})
	rule(Rule{ID: "DAVY-B004", Group: GroupBehaviour, Weight: 0, Weak: true, Summary: "the FP state of busy threads could not be sampled (ptrace refused); nothing is concluded"})

	// Cluster metrics, read by davy controller from Prometheus: what a CPU
	// alert says, so alone never more than suspicious.
	rule(Rule{ID: "DAVY-K001", Group: GroupBehaviour, Weight: 40, Weak: true, Summary: "container above its CPU-limit threshold for the whole Prometheus window (cAdvisor usage over the limit)"})
	rule(Rule{ID: "DAVY-K002", Group: GroupBehaviour, Weight: 20, Weak: true, Summary: "container with no CPU limit kept busy for the whole Prometheus window"})

	// Location.
	rule(Rule{ID: "DAVY-P001", Group: GroupLocation, Weight: 25, Weak: true, Summary: "executable runs from a world-writable temporary directory"})
	rule(Rule{ID: "DAVY-P002", Group: GroupLocation, Weight: 30, Weak: true, Summary: "executable was deleted from disk after it started"})
	rule(Rule{ID: "DAVY-P003", Group: GroupLocation, Weight: 10, Weak: true, Summary: "process name differs from its executable's name"})
	rule(Rule{ID: "DAVY-P004", Group: GroupLocation, Weight: 40, Weak: true, Summary: "executable runs from an anonymous memory file (memfd)"})
	rule(Rule{ID: "DAVY-D001", Group: GroupLocation, Weight: 35, Weak: true, Summary: "executable is not part of the container's image (written or changed after the container started)"})
}
