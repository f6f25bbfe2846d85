package proto

import (
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/davyproject/davy/internal/intel"
)

// Davy scans executables, its own included, for miner strings, so this
// package's vocabulary is hex-encoded. This test guards the sources: no
// string literal in a non-test file may hold a content indicator or a plain
// mining word. cmd/davy TestBinaryDoesNotMatchItself checks the binary.
func TestSourcesHoldNoMiningWords(t *testing.T) {
	in, err := intel.Load("")
	if err != nil {
		t.Fatal(err)
	}
	words := []string{"stratum", "mining.", "xmrig", "keepalived", "nicehash", "cryptonight", "eth_submit", "eth_getwork"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		var sc scanner.Scanner
		sc.Init(fset.AddFile(f, fset.Base(), len(src)), src, nil, 0)
		for {
			pos, tok, lit := sc.Scan()
			if tok == token.EOF {
				break
			}
			if tok != token.STRING && tok != token.CHAR {
				continue
			}
			v, err := strconv.Unquote(lit)
			if err != nil {
				t.Fatalf("%s: %v", fset.Position(pos), err)
			}
			for _, ind := range in.ContentIndicators() {
				if strings.Contains(v, string(ind.Pattern)) {
					t.Errorf("%s: string literal holds indicator %s", fset.Position(pos), ind.Name)
				}
			}
			for _, w := range words {
				if strings.Contains(strings.ToLower(v), w) {
					t.Errorf("%s: string literal holds %q", fset.Position(pos), w)
				}
			}
		}
	}
}

// The decoded vocabulary is what the hex says.
func TestVocabulary(t *testing.T) {
	want := map[string]string{
		mSubscribe: "mining.subscribe", mAuthorize: "mining.authorize", mConfigure: "mining.configure",
		mExtranonceSub: "mining.extranonce.subscribe", mSubmit: "mining.submit", mHello: "mining.hello",
		mNotify: "mining.notify", mSetDifficulty: "mining.set_difficulty", mSetTarget: "mining.set_target",
		mSetExtranonce: "mining.set_extranonce", mSet: "mining.set", mEthSubmitLogin: "eth_submitLogin",
		mEthGetWork: "eth_getWork", mEthSubmitWork: "eth_submitWork", mCryptonoteKeep: "keepalived",
		methodPrefix: "mining.", es1ProtoPrefix: "EthereumStratum/1.", es2ProtoPrefix: "EthereumStratum/2.",
	}
	for got, w := range want {
		if got != w {
			t.Errorf("%q, want %q", got, w)
		}
	}
	if len(want) != 18 {
		t.Errorf("vocabulary entries collide: %d", len(want))
	}
}
