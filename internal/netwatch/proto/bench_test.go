package proto

import "testing"

func BenchmarkRecognize(b *testing.B) {
	flows := []struct {
		name           string
		client, server []byte
	}{
		{"http", []byte("GET /api/v1/items?page=2 HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"),
			[]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")},
		{"json-rpc-other", []byte(`{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}` + "\n"), []byte(`{"jsonrpc":"2.0","id":1,"result":"0x10d4f"}` + "\n")},
		{"tls", ja4SpecHello(), []byte{0x16, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3}},
		{"stratum-v1", lines(v1Subscribe, v1Authorize), lines(v1SubscribeRes, v1AuthorizeRes, v1SetDifficulty, v1Notify)},
		{"cryptonote", lines(cnLogin6), lines(cnLoginRes, cnJobNotify)},
	}
	for _, f := range flows {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(f.client) + len(f.server)))
			for b.Loop() {
				_ = Recognize(f.client, f.server)
			}
		})
	}
}
