// Package testbed builds the real test workloads (a stratum pool, a miner
// simulator, benign CPU burners) and holds fixed test wallets. The
// workloads themselves live in the pool, miner and burn subpackages; the
// testbedtest package has the helpers tests use to run them.
package testbed

// Test wallets: well-known public addresses with valid checksums, so
// detectors that verify checksums accept them. Never mine to them for real.
const (
	// MoneroWallet is the Monero general fund address (standard, net byte 0x12).
	MoneroWallet = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
	// BitcoinWallet is a P2PKH (base58check) address: the genesis block's.
	BitcoinWallet = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
	// BitcoinBech32Wallet is the BIP-173 P2WPKH example address.
	BitcoinBech32Wallet = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	// EthereumWallet is an EIP-55 mixed-case checksummed address (from the EIP).
	EthereumWallet = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
)
