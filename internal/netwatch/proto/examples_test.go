package proto

import "strings"

// Wire examples, verbatim from /work/shared/reference/stratum-wire-examples.txt
// (sections A-D), one JSON object per line as on the wire. Where a source
// elides or pretty-prints, the line is the single-line form; lines not in
// the reference are marked "constructed".

func lines(l ...string) []byte { return []byte(strings.Join(l, "\n") + "\n") }

// A. Bitcoin stratum v1 (slush pool log; BIP-310).
var (
	v1Subscribe      = `{"id": 1, "method": "mining.subscribe", "params": []}`
	v1SubscribeAgent = `{"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.11.1"]}`
	v1SubscribeRes   = `{"id": 1, "result": [[["mining.set_difficulty", "b4b6693b72a50c7116db18d6497cac52"], ["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"]], "08000002", 4], "error": null}`
	v1Authorize      = `{"params": ["slush.miner1", "password"], "id": 2, "method": "mining.authorize"}`
	v1AuthorizeRes   = `{"error": null, "id": 2, "result": true}`
	v1SetDifficulty  = `{"id": null, "method": "mining.set_difficulty", "params": [16384]}`
	v1Notify         = `{"params": ["bf", "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000", "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008", "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000", [], "00000002", "1c2ac4af", "504e86b9", false], "id": null, "method": "mining.notify"}`
	v1Submit         = `{"params": ["slush.miner1", "bf", "00000001", "504e86ed", "b2957c02"], "id": 4, "method": "mining.submit"}`
	v1SubmitRes      = `{"error": null, "id": 4, "result": true}`
	v1Reject         = `{"id": 10, "result": null, "error": (21, "Job not found", null)}` // not JSON, as in the source
	v1Configure      = `{"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "1fffe000", "version-rolling.min-bit-count": 2}]}`
)

// B. CryptoNote as XMRig speaks it.
var (
	cnLogin      = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoD","pass":"x","agent":"XMRig/2.6.0-beta2 (Linux x86_64) libuv/1.8.0 gcc/5.4.0"}}`
	cnLoginRes   = `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"1be0b7b6-b15a-47be-a17d-46b2911cf7d0","job":{"blob":"070780e6b9d60586ba419a0c224e3c6c3e134cc45c4fa04d8ee2d91c2595463c57eef0a4f0796c000000002fcc4d62fa6c77e76c30017c768be5c61d83ec9d3a085d524ba8053ecc3224660d","job_id":"q7PLUPL25UV0z5Ij14IyMk8htXbj","target":"b88d0600"},"status":"OK"}}`
	cnLoginErr   = `{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"Invalid payment address provided"}}`
	cnJobNotify  = `{"jsonrpc":"2.0","method":"job","params":{"blob":"0707d5efb9d6057e95a35f868231780b3a8649c4e57f3c77eaf437329243eef0b9f4b6987d05b900000000cae7754cb85a0ad8eebf3e0bf55f3ec5e754a1d6b05d46e5c358f907dbcbb72b01","job_id":"4BiGm3/RgGQzgkTI/xV0smdA+EGZ","target":"b88d0600"}}`
	cnSubmit     = `{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"1be0b7b6-b15a-47be-a17d-46b2911cf7d0","job_id":"4BiGm3/RgGQzgkTI/xV0smdA+EGZ","nonce":"d0030040","result":"e1364b8782719d7683e2ccd3d8f724bc59dfa780a9e960e7c0e0046acdb40100"}}`
	cnSubmitRes  = `{"id":2,"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}`
	cnKeepalived = `{"id":3,"jsonrpc":"2.0","method":"keepalived","params":{"id":"1be0b7b6-b15a-47be-a17d-46b2911cf7d0"}}`
	cnKeepRes    = `{"id":3,"jsonrpc":"2.0","error":null,"result":{"status":"KEEPALIVED"}}`
	// The 6.x shape from the source, with the algo list; constructed from
	// the reference's description (agent versions filled in).
	cnLogin6 = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoD.rig1","pass":"x","agent":"XMRig/6.26.0 (Linux x86_64) libuv/1.48.0 gcc/13.2.0","algo":["rx/0","cn/2","cn/r","cn-lite/1","cn-heavy/0","cn-pico","rx/wow","argon2/chukwa","kawpow","ghostrider"]}}`
)

// C. EthereumStratum/1.0.0 (NiceHash).
var (
	es1Subscribe    = `{"id": 1, "method": "mining.subscribe", "params": ["EthereumMiner/1.0.0", "EthereumStratum/1.0.0"]}`
	es1SubscribeRes = `{"id": 1, "result": [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f", "EthereumStratum/1.0.0"], "a2eea0"], "error": null}`
	es1Authorize    = `{"id": 2, "method": "mining.authorize", "params": ["test", "password"]}`
	es1AuthorizeRes = `{"id": 2, "result": true, "error": null}`
	es1SetDiff      = `{"id": null, "method": "mining.set_difficulty", "params": [1.0]}`
	es1Notify       = `{"id": null, "method": "mining.notify", "params": ["bf0488aa", "abad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c", "fc12eb20c58158071c956316cdcd12a22dd8bf126ac4aee559f0ffe4df11f279", true]}`
	es1Submit       = `{"id": 3, "method": "mining.submit", "params": ["test", "bf0488aa", "cfae7df760"]}`
	es1SubmitErr    = `{"id": 244, "result": false, "error": [-1, "Job not found", NULL]}` // not JSON (NULL), as in the spec
	es1SetExtra     = `{"id": null, "method": "mining.set_extranonce", "params": ["af4c"]}`
	nhSubscribeHMAC = `{"id":1,"method":"mining.subscribe","params":["NiceHash/1.0.0","1662637786319","3e7478...afc"]}`
)

// Constructed: the eth_submitLogin proxy dialect, after ethminer's and
// open-ethereum-pool's stratum proxies.
var (
	ethSubmitLogin    = `{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],"worker":"rig1"}`
	ethSubmitLoginRes = `{"id":1,"jsonrpc":"2.0","result":true}`
	ethGetWork        = `{"id":2,"jsonrpc":"2.0","method":"eth_getWork","params":[]}`
	ethWork           = `{"id":2,"jsonrpc":"2.0","result":["0xfc12eb20c58158071c956316cdcd12a22dd8bf126ac4aee559f0ffe4df11f279","0xabad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c","0x00000000ffff0000000000000000000000000000000000000000000000000000"]}`
	ethSubmitWork     = `{"id":3,"jsonrpc":"2.0","method":"eth_submitWork","params":["0x00000000cfae7df7","0xfc12eb20c58158071c956316cdcd12a22dd8bf126ac4aee559f0ffe4df11f279","0xabad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c"]}`
)

// D. EthereumStratum/2.0.0 (EIP-1571).
var (
	es2Hello        = `{"id":0,"method":"mining.hello","params":{"agent":"ethminer-0.17","host":"somemininigpool.com","port":"4d2","proto":"EthereumStratum/2.0.0"}}`
	es2HelloRes     = `{"id":0,"result":{"proto":"EthereumStratum/2.0.0","encoding":"gzip","resume":"1","timeout":"b4","maxerrors":"5","node":"Geth/v1.8.18-unstable-f08f596a/linux-amd64/go1.10.4"}}`
	es2Subscribe    = `{"id":1,"method":"mining.subscribe"}`
	es2SubscribeRes = `{"id":1,"result":"s-12345"}`
	es2Authorize    = `{"id":2,"method":"mining.authorize","params":["<account>[.<MachineName>]","password"]}`
	es2AuthorizeRes = `{"id":2,"result":"w-123"}`
	es2Set          = `{"method":"mining.set","params":{"epoch":"dc","target":"0112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba","algo":"ethash","extranonce":"af4c"}}`
	es2Noop         = `{"id":50,"method":"mining.noop"}`
)

// E. Stratum V2: the constructed plaintext SetupConnection from the
// reference (host pool.example.com, port 34254, vendor ExampleVendor).
var sv2SetupExample = []byte{
	0x00, 0x00, 0x00, 0x39, 0x00, 0x00,
	0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x70, 0x6f, 0x6f, 0x6c, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0xce, 0x85, 0x0d, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x56, 0x65, 0x6e, 0x64, 0x6f, 0x72, 0x06, 0x68, 0x77, 0x2d, 0x31, 0x2e, 0x30, 0x06, 0x66, 0x77, 0x2d, 0x31, 0x2e, 0x30, 0x00,
}

// Constructed per the spec: SetupConnection.Success {used_version 2, flags 0}.
var sv2SetupSuccess = []byte{0x00, 0x00, 0x01, 0x06, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00}

// dialect is one complete example flow and what it must give.
type dialect struct {
	name           string
	client, server []byte
	want           Protocol
	conf           Confidence
	agent, login   string
	coin           string // wallet coin, "" for none
	host           string
	jobID          string
	evidence       []string // must all be present
}

func dialects() []dialect {
	return []dialect{
		{
			name:   "stratum v1 slush log",
			client: lines(v1Subscribe, v1Authorize, v1Submit),
			server: lines(v1SubscribeRes, v1AuthorizeRes, v1SetDifficulty, v1Notify, v1SubmitRes, v1Reject),
			want:   ProtoStratumV1, conf: ConfidenceHigh,
			login: "slush.miner1", jobID: "bf",
			evidence: []string{EvMethodSubscribe, EvMethodAuthorize, EvLogin, EvMethodSubmit, EvServerSubscribeResult, EvServerDifficulty, EvServerJob},
		},
		{
			name:   "stratum v1 BIP-310 with agent",
			client: lines(v1Configure, v1SubscribeAgent, v1Authorize),
			server: lines(v1SubscribeRes),
			want:   ProtoStratumV1, conf: ConfidenceHigh,
			agent: "cgminer/4.11.1", login: "slush.miner1",
			evidence: []string{EvMethodConfigure, EvMethodSubscribe, EvAgent, EvServerSubscribeResult},
		},
		{
			name:   "cryptonote xmrig",
			client: lines(cnLogin, cnSubmit, cnKeepalived),
			server: lines(cnLoginRes, cnJobNotify, cnSubmitRes, cnKeepRes),
			want:   ProtoCryptoNote, conf: ConfidenceHigh,
			agent: "XMRig/2.6.0-beta2 (Linux x86_64) libuv/1.8.0 gcc/5.4.0",
			login: "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoD",
			coin:  "monero", jobID: "q7PLUPL25UV0z5Ij14IyMk8htXbj",
			evidence: []string{EvMethodLogin, EvAgent, EvLogin, EvLoginWallet, EvServerJob, EvMethodSubmit, EvMethodKeepalive},
		},
		{
			name:   "cryptonote xmrig 6 login error",
			client: lines(cnLogin6),
			server: lines(cnLoginErr),
			want:   ProtoCryptoNote, conf: ConfidenceHigh, // the wallet makes it high
			agent:    "XMRig/6.26.0 (Linux x86_64) libuv/1.48.0 gcc/13.2.0",
			login:    "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoD.rig1",
			coin:     "monero",
			evidence: []string{EvMethodLogin, EvLoginWallet},
		},
		{
			name:   "ethereum stratum 1 nicehash",
			client: lines(es1Subscribe, es1Authorize, es1Submit),
			server: lines(es1SubscribeRes, es1AuthorizeRes, es1SetDiff, es1Notify, es1SubmitErr, es1SetExtra),
			want:   ProtoEthereumStratum1, conf: ConfidenceHigh,
			agent: "EthereumMiner/1.0.0", login: "test", jobID: "bf0488aa",
			evidence: []string{EvMethodSubscribe, EvEthProto1, EvServerSubscribeResult, EvServerDifficulty, EvServerJob},
		},
		{
			name:   "eth proxy submitLogin",
			client: lines(ethSubmitLogin, ethGetWork, ethSubmitWork),
			server: lines(ethSubmitLoginRes, ethWork),
			want:   ProtoEthereumStratum1, conf: ConfidenceHigh,
			login: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed.rig1", coin: "ethereum",
			evidence: []string{EvMethodSubmitLogin, EvMethodGetWork, EvMethodSubmitWork, EvLoginWallet, EvServerWork},
		},
		{
			name:   "ethereum stratum 2",
			client: lines(es2Hello, es2Subscribe, es2Authorize, es2Noop),
			server: lines(es2HelloRes, es2SubscribeRes, es2AuthorizeRes, es2Set),
			want:   ProtoEthereumStratum2, conf: ConfidenceHigh,
			agent: "ethminer-0.17", login: "<account>[.<MachineName>]", host: "somemininigpool.com",
			evidence: []string{EvMethodHello, EvEthProto2, EvServerHelloResult, EvServerDifficulty},
		},
		{
			name:   "stratum v2 plaintext",
			client: sv2SetupExample,
			server: sv2SetupSuccess,
			want:   ProtoStratumV2, conf: ConfidenceHigh,
			agent: "ExampleVendor hw-1.0 fw-1.0", host: "pool.example.com",
			evidence: []string{EvSV2SetupConnection, EvSV2SetupReply},
		},
	}
}
