package miner

// UsageText is the help, laid out like XMRig's so help-text signatures
// match this binary as they would a real build.
const UsageText = `Usage: xmrig [OPTIONS]

Network:
  -o, --url=URL                 URL of mining server
  -a, --algo=ALGO               mining algorithm https://xmrig.com/docs/algorithms
      --coin=COIN               specify coin instead of algorithm
  -u, --user=USERNAME           username for mining server
  -p, --pass=PASSWORD           password for mining server
      --rig-id=ID               rig identifier for pool-side statistics (needs pool support)
  -k, --keepalive               send keepalived packet for prevent timeout (needs pool support)
      --tls                     enable SSL/TLS support (needs pool support)
      --dialect=NAME            pool protocol: xmrig (login/job/submit) or stratum (mining.subscribe,
                                mining.authorize, mining.notify, mining.submit)
  -R, --retry-pause=N           time to pause between retries (default: 5)
      --user-agent              set custom user-agent string for pool
      --donate-level=N          donate level, default 1% (1 minute in 100 minutes)

CPU backend:
  -t, --threads=N               number of CPU threads (default: 1)
      --cpu-affinity=N          set process affinity to CPU core(s), mask 0x3 for cores 0 and 1
      --cpu-priority=N          set process priority (0 idle, 2 normal to 5 highest)
      --cpu-no-yield            prefer maximum hashrate rather than system response/stability
      --duty=F                  hash only this fraction of the time, with jitter (0 < F < 1)
      --duty-period=DURATION    length of one hash+sleep cycle (default: 500ms)
      --randomx-mode=MODE       RandomX mode: auto, fast, light
      --dataset-mib=N           size of the RandomX-like dataset in MiB (default: 64)

Miscellaneous:
  -c, --config=FILE             load a JSON-format configuration file
      --memfd                   copy the executable into a memfd and run from there
      --print-time=N            print hashrate report every N seconds (default: 60)
      --no-color                disable colored output
  -h, --help                    display this help and exit
  -V, --version                 output version information and exit
`
