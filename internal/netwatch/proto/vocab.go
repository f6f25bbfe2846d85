package proto

import "encoding/hex"

// The mining vocabulary below is stored hex-encoded: davy reads executables
// (its own binary included) for miner strings, so it must not carry them in
// plain form. Comments, which never reach the binary, give the plain values.

// Stratum v1 and EthereumStratum method names.
var (
	mSubscribe      = unhex("6d696e696e672e737562736372696265")                       // mining.subscribe
	mAuthorize      = unhex("6d696e696e672e617574686f72697a65")                       // mining.authorize
	mConfigure      = unhex("6d696e696e672e636f6e666967757265")                       // mining.configure
	mExtranonceSub  = unhex("6d696e696e672e65787472616e6f6e63652e737562736372696265") // mining.extranonce.subscribe
	mSubmit         = unhex("6d696e696e672e7375626d6974")                             // mining.submit
	mHello          = unhex("6d696e696e672e68656c6c6f")                               // mining.hello
	mNotify         = unhex("6d696e696e672e6e6f74696679")                             // mining.notify
	mSetDifficulty  = unhex("6d696e696e672e7365745f646966666963756c7479")             // mining.set_difficulty
	mSetTarget      = unhex("6d696e696e672e7365745f746172676574")                     // mining.set_target
	mSetExtranonce  = unhex("6d696e696e672e7365745f65787472616e6f6e6365")             // mining.set_extranonce
	mSet            = unhex("6d696e696e672e736574")                                   // mining.set
	mEthSubmitLogin = unhex("6574685f7375626d69744c6f67696e")                         // eth_submitLogin
	mEthGetWork     = unhex("6574685f676574576f726b")                                 // eth_getWork
	mEthSubmitWork  = unhex("6574685f7375626d6974576f726b")                           // eth_submitWork
	mCryptonoteKeep = unhex("6b656570616c69766564")                                   // keepalived
	methodPrefix    = unhex("6d696e696e672e")                                         // mining.
	es1ProtoPrefix  = unhex("457468657265756d5374726174756d2f312e")                   // EthereumStratum/1.
	es2ProtoPrefix  = unhex("457468657265756d5374726174756d2f322e")                   // EthereumStratum/2.
)

// CryptoNote (XMRig) method names that are ordinary English words; kept
// beside the others so every method name lives in one place.
const (
	mLogin       = "login"
	mSubmitCN    = "submit"
	mJob         = "job"
	quotedPrefix = `"`
)

// Protocol names (see Protocol.String).
var protocolNames = [...]string{
	ProtoNone:               "",
	ProtoStratumV1:          unhex("7374726174756d2d7631"),                     // stratum-v1
	ProtoCryptoNote:         unhex("63727970746f6e6f7465"),                     // cryptonote
	ProtoEthereumStratum1:   unhex("657468657265756d2d7374726174756d2d31"),     // ethereum-stratum-1
	ProtoEthereumStratum2:   unhex("657468657265756d2d7374726174756d2d32"),     // ethereum-stratum-2
	ProtoTLS:                "tls",                                             // tls
	ProtoStratumV2:          unhex("7374726174756d2d7632"),                     // stratum-v2
	ProtoStratumV2Candidate: unhex("7374726174756d2d76322d63616e646964617465"), // stratum-v2-candidate
}

// clientWords and serverWords are the quoted forms a JSON line must contain
// before it is decoded: most JSON-RPC lines (another protocol's) are then
// only validated, never decoded.
var (
	clientWords = quoteAll(mSubscribe, mAuthorize, mConfigure, mExtranonceSub, mSubmit, mHello,
		mEthSubmitLogin, mEthGetWork, mEthSubmitWork, mCryptonoteKeep, mLogin, mSubmitCN)
	serverWords = [][]byte{
		[]byte(quotedPrefix + methodPrefix),        // a method or subscription name
		[]byte(quotedPrefix + mJob + quotedPrefix), // a CryptoNote job
		[]byte(quotedPrefix + es2ProtoPrefix),      // an EthereumStratum/2 hello result
	}
	// workWord starts an eth_getWork work package's hashes; it is worth a
	// decode only in a line with an array (see serverLine).
	workWord = []byte(`"0x`)
)

func quoteAll(words ...string) [][]byte {
	out := make([][]byte, len(words))
	for i, w := range words {
		out[i] = []byte(quotedPrefix + w + quotedPrefix)
	}
	return out
}

func unhex(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic("proto: bad hex in vocabulary: " + h)
	}
	return string(b)
}
