package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDescribe20k observes a 20,000-ENI VPC on 7,000 instances the way
// ecsnet does: DescribeNetworkInterfaces by VpcId at MaxResults 500, then
// DescribeInstances at MaxResults 100, over loopback HTTP with signed
// requests. One op is one full observation.
func BenchmarkDescribe20k(b *testing.B) {
	w := bigWorld(20000, 7000)
	clock := newClock()
	srv, err := New(w, Options{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	var server atomic.Int64 // nanoseconds spent inside the handler
	timed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		srv.ServeHTTP(w, r)
		server.Add(int64(time.Since(start)))
	})
	hs := httptest.NewServer(timed)
	defer hs.Close()
	cl := &client{base: hs.URL, id: "testid", secret: "testsecret", now: clock.Now, hc: hs.Client()}
	pages := func(action, size string, extra ...string) int {
		n, token := 0, ""
		for {
			kv := append([]string{"MaxResults", size, "NextToken", orDelete(token)}, extra...)
			r := cl.ecs(b, action, kv...)
			if r.status != http.StatusOK {
				b.Fatalf("%s: %d %s", action, r.status, r.body)
			}
			n++
			if token = nextTokenOf(b, r); token == "" {
				return n
			}
		}
	}
	b.ResetTimer()
	var calls int
	for b.Loop() {
		calls = pages("DescribeNetworkInterfaces", "500", "VpcId", "vpc-big") +
			pages("DescribeInstances", "100", "VpcId", "vpc-big")
	}
	b.ReportMetric(float64(calls), "calls/op")
	b.ReportMetric(float64(server.Load())/float64(b.N), "server-ns/op")
	// 27,000 ENIs (20,000 secondary + 7,000 primary): 54 pages, plus 70
	// instance pages.
	if calls != 54+70 {
		b.Errorf("%d calls, want %d", calls, 54+70)
	}
}

// BenchmarkDescribePage is the server time of one 500-ENI page without
// the network, for profiling the handler.
func BenchmarkDescribePage(b *testing.B) {
	w := bigWorld(20000, 7000)
	clock := newClock()
	srv, err := New(w, Options{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	cl := &client{id: "testid", secret: "testsecret", now: clock.Now}
	for b.Loop() {
		v := cl.signed("2014-05-26", "DescribeNetworkInterfaces", []string{"VpcId", "vpc-big", "MaxResults", "500"})
		req := httptest.NewRequest(http.MethodPost, "/?"+v.Encode(), nil)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

func nextTokenOf(tb testing.TB, r response) string {
	tb.Helper()
	var page struct{ NextToken string }
	if err := json.Unmarshal(r.body, &page); err != nil {
		tb.Fatal(err)
	}
	return page.NextToken
}
