package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClientToken: same token and parameters → the first answer again and
// nothing new; same token, other parameters → IdempotentParameterMismatch
// (ecs-api.md §5.4).
func TestClientToken(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{})
	create := func(kv ...string) response {
		return e.cl.ecs(t, "CreateNetworkInterface", append([]string{"VSwitchId", "vsw-a", "SecurityGroupId", "sg-a",
			"SecondaryPrivateIpAddressCount", "2"}, kv...)...)
	}
	first := ok(t, create("ClientToken", "tok-a"))
	n := len(e.srv.State().NetworkInterfaces)
	again := ok(t, create("ClientToken", "tok-a"))
	delete(first, "RequestId")
	requestID := again["RequestId"]
	delete(again, "RequestId")
	if mustJSON(first) != mustJSON(again) {
		t.Errorf("replay differs:\n%v\n%v", first, again)
	}
	if requestID == "" {
		t.Error("replay has no RequestId")
	}
	if got := len(e.srv.State().NetworkInterfaces); got != n {
		t.Errorf("replay created an ENI: %d → %d", n, got)
	}
	wantErr(t, create("ClientToken", "tok-a", "Description", "other"), 400, "IdempotentParameterMismatch")
	// A token is per action, and a different token creates anew.
	ok(t, create("ClientToken", "tok-b"))
	if got := len(e.srv.State().NetworkInterfaces); got != n+1 {
		t.Errorf("a new token did not create: %d ENIs", got)
	}
	// A failed call is not remembered: the retry runs again.
	wantErr(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.10",
		"ClientToken", "tok-c"), 400, "InvalidPrivateIpAddress.Duplicated")
	ok(t, e.cl.ecs(t, "UnassignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "PrivateIpAddress.1", "10.0.1.11"))

	assign := func(tok string) response {
		return e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "2",
			"ClientToken", tok)
	}
	a1 := ok(t, assign("tok-c"))
	a2 := ok(t, assign("tok-c"))
	if mustJSON(a1["AssignedPrivateIpAddressesSet"]) != mustJSON(a2["AssignedPrivateIpAddressesSet"]) {
		t.Errorf("assign replay differs: %v vs %v", a1, a2)
	}
	if got := eniState(e.srv, "eni-free").SecondaryPrivateIpAddresses; len(got) != 3 {
		t.Errorf("eni-free has %v after a replayed assign of 2", got)
	}
	// Actions without ClientToken ignore it.
	ok(t, e.cl.ecs(t, "ModifyNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-free", "Description", "first", "ClientToken", "tok-d"))
	ok(t, e.cl.ecs(t, "ModifyNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-free", "Description", "second", "ClientToken", "tok-d"))
	if d := eniState(e.srv, "eni-free").Description; d != "second" {
		t.Errorf("ClientToken on Modify was honoured: description %q", d)
	}

	r1 := ok(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true", "InstanceId.1", "i-run", "ClientToken", "tok-e"))
	r2 := ok(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true", "InstanceId.1", "i-run", "ClientToken", "tok-e"))
	if str(r1, "InvokeId") != str(r2, "InvokeId") {
		t.Errorf("RunCommand replay made a new invocation: %v vs %v", r1, r2)
	}
	wantErr(t, e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "false", "InstanceId.1", "i-run",
		"ClientToken", "tok-e"), 400, "IdempotentParameterMismatch")
}

// script is a fixed call sequence exercising every mutating action.
func script(t *testing.T, e *env) [][]byte {
	var bodies [][]byte
	do := func(r response) map[string]any {
		bodies = append(bodies, r.body)
		return r.json(t)
	}
	m := do(e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "SecondaryPrivateIpAddressCount", "3"))
	id := str(m, "NetworkInterfaceId")
	do(e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-b", "SecurityGroupIds.1", "sg-a", "SecurityGroupIds.2", "sg-b"))
	do(e.cl.ecs(t, "AttachNetworkInterface", "NetworkInterfaceId", id, "InstanceId", "i-stop"))
	do(e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-prim-run", "SecondaryPrivateIpAddressCount", "2"))
	e.clock.Advance(time.Minute)
	do(e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", id, "SecondaryPrivateIpAddressCount", "1"))
	do(e.cl.ecs(t, "TagResources", "ResourceType", "eni", "ResourceId.1", id, "Tag.1.Key", "k", "Tag.1.Value", "v"))
	do(e.cl.ecs(t, "DeleteNetworkInterface", "NetworkInterfaceId", "eni-free"))
	do(e.cl.ecs(t, "RunCommand", "Type", "RunShellScript", "CommandContent", "true", "InstanceId.1", "i-run"))
	e.clock.Advance(time.Minute)
	do(e.cl.ecs(t, "DescribeNetworkInterfaces", "VpcId", "vpc-test", "MaxResults", "500"))
	do(e.cl.ecs(t, "DescribeInstances", "PageSize", "100", "AdditionalAttributes.1", "NETWORK_PRIMARY_ENI_IP"))
	do(e.cl.vpc(t, "DescribeVSwitches"))
	do(e.cl.ecs(t, "DescribeInvocationResults"))
	return bodies
}

// TestDeterminism: two servers on the same world and seed, given the same
// calls, answer the same bytes and end in the same state; another seed
// gives other IDs.
func TestDeterminism(t *testing.T) {
	run := func(seed int64) ([][]byte, *World) {
		e := newEnv(t, testWorld(t), Options{Seed: seed, AsyncDelay: time.Second})
		return script(t, e), e.srv.State()
	}
	b1, s1 := run(0)
	b2, s2 := run(0)
	for i := range b1 {
		if !bytes.Equal(b1[i], b2[i]) {
			t.Errorf("call %d differs:\n%s\n%s", i, b1[i], b2[i])
		}
	}
	if d := stateDiff(s1, s2); d != "" {
		t.Errorf("states differ: %s", d)
	}
	b3, s3 := run(99)
	if bytes.Equal(b1[0], b3[0]) || stateDiff(s1, s3) == "" {
		t.Error("a different seed produced the same cloud")
	}
	if s1.Seed != 7 || s3.Seed != 99 {
		t.Errorf("State().Seed = %d, %d; want the world's 7 and the option's 99", s1.Seed, s3.Seed)
	}
}

// TestStateRoundTrip: State() is a valid world that starts the same cloud.
func TestStateRoundTrip(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{AsyncDelay: time.Second})
	script(t, e)
	s := e.srv.State()
	s.AccessKeys = []AccessKey{{AccessKeyId: "testid", AccessKeySecret: "testsecret"}}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(s); err != nil {
		t.Fatal(err)
	}
	w, err := ReadWorld(&buf)
	if err != nil {
		t.Fatalf("State() does not read back: %v", err)
	}
	srv, err := New(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := stateDiff(e.srv.State(), srv.State()); d != "" {
		t.Errorf("round trip changed the cloud: %s", d)
	}
	// State is a copy.
	s.Instances[0].InstanceName = "changed"
	if e.srv.State().Instances[0].InstanceName == "changed" {
		t.Error("State() shares memory with the server")
	}
}

// TestFaults: fault injection at fixed seeds. The rolls are a function of
// the seed and the request number, so these counts are exact.
func TestFaults(t *testing.T) {
	t.Run("throttling", func(t *testing.T) {
		e := newEnv(t, testWorld(t), Options{ThrottleRate: 0.5})
		var throttled int
		for range 40 {
			r := e.cl.ecs(t, "DescribeInstances")
			if r.status != 200 {
				wantErr(t, r, 400, "Throttling")
				throttled++
			}
		}
		if throttled < 10 || throttled > 30 {
			t.Errorf("%d of 40 throttled at rate 0.5", throttled)
		}
		if e.srv.Calls()["DescribeInstances"] != 40 {
			t.Errorf("faulted calls not counted: %v", e.srv.Calls())
		}
	})
	t.Run("server errors", func(t *testing.T) {
		e := newEnv(t, testWorld(t), Options{ServerErrorRate: 1})
		codes := map[string]int{}
		for range 20 {
			r := e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a")
			codes[fmt.Sprint(r.status, " ", r.code(t))]++
		}
		if codes["500 InternalError"] == 0 || codes["503 ServiceUnavailable"] == 0 || len(codes) != 2 {
			t.Errorf("codes: %v", codes)
		}
		if n := len(e.srv.State().NetworkInterfaces); n != 2 {
			t.Errorf("a 5xx before the action created ENIs: %d", n)
		}
	})
	t.Run("commit then fail", func(t *testing.T) {
		e := newEnv(t, testWorld(t), Options{CommitThenFailRate: 1})
		r := e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "ClientToken", "retry-me")
		if r.status < 500 {
			t.Fatalf("status %d, want 5xx: %s", r.status, r.body)
		}
		if n := len(e.srv.State().NetworkInterfaces); n != 3 {
			t.Fatalf("the change was not committed: %d ENIs", n)
		}
		// The client retries with the same token after the failure: the
		// cloud answers the committed ENI and creates nothing.
		e.srv.SetFaults(Faults{})
		m := ok(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "ClientToken", "retry-me"))
		if n := len(e.srv.State().NetworkInterfaces); n != 3 {
			t.Errorf("the retry created another ENI: %d", n)
		}
		if eniState(e.srv, str(m, "NetworkInterfaceId")) == nil {
			t.Errorf("the retry answered an ENI that does not exist: %v", m)
		}
		// Reads never commit anything, so they never fail this way.
		e.srv.SetFaults(Faults{CommitThenFailRate: 1})
		ok(t, e.cl.ecs(t, "DescribeInstances"))
	})
	t.Run("commit then drop", func(t *testing.T) {
		e := newEnv(t, testWorld(t), Options{CommitThenDropRate: 1})
		v := e.cl.signed("2014-05-26", "AssignPrivateIpAddresses",
			[]string{"NetworkInterfaceId", "eni-free", "PrivateIpAddress.1", "10.0.1.150"})
		req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/?"+v.Encode(), nil)
		resp, err := e.http.Client().Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Fatalf("got an answer (%d %s); want a dropped connection", resp.StatusCode, body)
		}
		if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
			t.Logf("transport error: %v", err)
		}
		got := eniState(e.srv, "eni-free").SecondaryPrivateIpAddresses
		if len(got) != 2 || got[1] != "10.0.1.150" {
			t.Errorf("the dropped assign was not committed: %v", got)
		}
	})
	t.Run("action QPS", func(t *testing.T) {
		e := newEnv(t, testWorld(t), Options{ActionQPS: map[string]float64{"DescribeInstances": 2}})
		var codes []string
		for range 4 {
			r := e.cl.ecs(t, "DescribeInstances")
			codes = append(codes, r.code(t))
		}
		if strings.Join(codes, ",") != ",,Throttling.User,Throttling.User" {
			t.Errorf("burst of 2 then throttled: got %q", codes)
		}
		ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces")) // other actions are not limited
		e.clock.Advance(500 * time.Millisecond)         // one token back at 2 QPS
		ok(t, e.cl.ecs(t, "DescribeInstances"))
		wantErr(t, e.cl.ecs(t, "DescribeInstances"), 400, "Throttling.User")
	})
	t.Run("latency", func(t *testing.T) {
		e := newEnv(t, testWorld(t), Options{Latency: 100 * time.Millisecond})
		start := time.Now()
		ok(t, e.cl.ecs(t, "DescribeInstances"))
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("request took %v with 100ms latency", d)
		}
		start = time.Now()
		resp, err := e.http.Client().Get(e.http.URL + "/_emulator/calls")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if d := time.Since(start); d >= 100*time.Millisecond {
			t.Errorf("admin endpoint took %v: faults must not apply to it", d)
		}
	})
	t.Run("fixed seed", func(t *testing.T) {
		pattern := func() string {
			e := newEnv(t, testWorld(t), Options{ThrottleRate: 0.3, ServerErrorRate: 0.2})
			var b strings.Builder
			for range 30 {
				fmt.Fprint(&b, e.cl.ecs(t, "DescribeInstances").status, " ")
			}
			return b.String()
		}
		if a, b := pattern(), pattern(); a != b {
			t.Errorf("faults differ between runs with one seed:\n%s\n%s", a, b)
		}
	})
}

// TestPagination pages through 1, 99, 100, 101, 500 and 501 ENIs with both
// modes and several page sizes: every ENI exactly once, in ID order.
func TestPagination(t *testing.T) {
	for _, n := range []int{1, 99, 100, 101, 500, 501} {
		w := bigWorld(n, max(1, n/3))
		e := newEnv(t, w, Options{})
		want := make([]string, 0, n)
		for _, x := range w.NetworkInterfaces {
			want = append(want, x.NetworkInterfaceId)
		}
		for _, size := range []int{1, 10, 100, 500} {
			if size == 1 && n > 101 {
				continue
			}
			var got []string
			token := ""
			for calls := 0; ; calls++ {
				if calls > n+2 {
					t.Fatalf("n=%d size=%d: paging does not end", n, size)
				}
				m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "VpcId", "vpc-big", "Type", "Secondary",
					"MaxResults", fmt.Sprint(size), "NextToken", orDelete(token)))
				for _, x := range list(m, "NetworkInterfaceSets", "NetworkInterfaceSet") {
					got = append(got, str(x, "NetworkInterfaceId"))
				}
				if tc, ok := m["TotalCount"]; ok {
					t.Fatalf("n=%d: TotalCount %v in token mode, where the API documents it as invalid", n, tc)
				}
				if token = str(m, "NextToken"); token == "" {
					break
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("n=%d MaxResults=%d: got %d ENIs, want %d in ID order", n, size, len(got), len(want))
			}
			if size > 100 {
				continue
			}
			got = got[:0]
			for page := 1; ; page++ {
				m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "VpcId", "vpc-big", "Type", "Secondary",
					"PageSize", fmt.Sprint(size), "PageNumber", fmt.Sprint(page)))
				set := list(m, "NetworkInterfaceSets", "NetworkInterfaceSet")
				for _, x := range set {
					got = append(got, str(x, "NetworkInterfaceId"))
				}
				if len(set) < size {
					break
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("n=%d PageSize=%d: got %d ENIs, want %d", n, size, len(got), len(want))
			}
		}
		// Unfiltered but for the VPC (the index-only fast path), both modes.
		for _, mode := range []string{"MaxResults", "PageSize"} {
			seen := map[string]bool{}
			token := ""
			for page := 1; ; page++ {
				kv := []string{"VpcId", "vpc-big", mode, "100"}
				if mode == "MaxResults" {
					kv = append(kv, "NextToken", orDelete(token))
				} else {
					kv = append(kv, "PageNumber", fmt.Sprint(page))
				}
				m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", kv...))
				set := list(m, "NetworkInterfaceSets", "NetworkInterfaceSet")
				for _, x := range set {
					seen[str(x, "NetworkInterfaceId")] = true
				}
				if tc, ok := m["TotalCount"].(float64); mode == "PageSize" && int(tc) != n+len(w.Instances) || mode == "MaxResults" && ok {
					t.Fatalf("n=%d %s: TotalCount %v", n, mode, m["TotalCount"])
				}
				token = str(m, "NextToken")
				if (mode == "MaxResults" && token == "") || (mode == "PageSize" && len(set) < 100) {
					break
				}
			}
			if len(seen) != n+len(w.Instances) {
				t.Errorf("n=%d %s: %d distinct ENIs, want %d", n, mode, len(seen), n+len(w.Instances))
			}
		}
		// Instances page too: at most 100.
		var insts []string
		token := ""
		for {
			m := ok(t, e.cl.ecs(t, "DescribeInstances", "VpcId", "vpc-big", "MaxResults", "100", "NextToken", orDelete(token)))
			for _, x := range list(m, "Instances", "Instance") {
				insts = append(insts, str(x, "InstanceId"))
			}
			if token = str(m, "NextToken"); token == "" {
				break
			}
		}
		if len(insts) != len(w.Instances) {
			t.Errorf("n=%d: paged %d instances, want %d", n, len(insts), len(w.Instances))
		}
	}
}

// TestTagFilterLimit: a tag-filtered DescribeNetworkInterfaces sees at most
// 1,000 ENIs; ListTagResources sees them all.
func TestTagFilterLimit(t *testing.T) {
	w := bigWorld(1100, 400)
	e := newEnv(t, w, Options{})
	seen := 0
	token := ""
	for {
		m := ok(t, e.cl.ecs(t, "DescribeNetworkInterfaces", "Tag.1.Key", "fleet", "MaxResults", "500", "NextToken", orDelete(token)))
		seen += len(list(m, "NetworkInterfaceSets", "NetworkInterfaceSet"))
		if token = str(m, "NextToken"); token == "" {
			break
		}
	}
	if seen != 1000 {
		t.Errorf("tag filter returned %d ENIs, want 1000", seen)
	}
	tags := 0
	token = ""
	for {
		m := ok(t, e.cl.ecs(t, "ListTagResources", "ResourceType", "eni", "Tag.1.Key", "fleet", "NextToken", orDelete(token)))
		page := list(m, "TagResources", "TagResource")
		if len(page) > 50 {
			t.Fatalf("ListTagResources page of %d", len(page))
		}
		tags += len(page)
		if token = str(m, "NextToken"); token == "" {
			break
		}
	}
	if tags != 1100 {
		t.Errorf("ListTagResources listed %d tags, want 1100", tags)
	}
}

func orDelete(s string) string {
	if s == "" {
		return "\x00"
	}
	return s
}

// bigWorld is a VPC with instances and n secondary ENIs spread over them,
// every ENI tagged fleet=big, in enough /20 vSwitches and groups.
func bigWorld(enis, instances int) *World {
	w := &World{RegionId: "cn-hangzhou", Seed: 3,
		AccessKeys: []AccessKey{{AccessKeyId: "testid", AccessKeySecret: "testsecret"}},
		Quotas:     Quotas{MaxNetworkInterfaces: 100000},
		Vpcs:       []Vpc{{VpcId: "vpc-big", CidrBlock: "10.0.0.0/8"}},
	}
	total := enis + instances
	vsws := total/4000 + 1
	for i := range vsws {
		w.VSwitches = append(w.VSwitches, VSwitch{VSwitchId: fmt.Sprintf("vsw-big%03d", i), VpcId: "vpc-big",
			ZoneId: "cn-hangzhou-h", CidrBlock: fmt.Sprintf("10.%d.%d.0/20", i/16, (i%16)*16)})
	}
	groups := total/1900 + 1
	for i := range groups {
		w.SecurityGroups = append(w.SecurityGroups, SecurityGroup{SecurityGroupId: fmt.Sprintf("sg-big%04d", i), VpcId: "vpc-big"})
	}
	k := 0
	place := func() (string, string) {
		k++
		return w.VSwitches[k/4000].VSwitchId, w.SecurityGroups[k/1900].SecurityGroupId
	}
	for i := range instances {
		vsw, sg := place()
		w.Instances = append(w.Instances, Instance{InstanceId: fmt.Sprintf("i-big%06d", i), InstanceType: "ecs.g7.32xlarge",
			VSwitchId: vsw, SecurityGroupIds: []string{sg}})
	}
	for i := range enis {
		vsw, sg := place()
		w.NetworkInterfaces = append(w.NetworkInterfaces, NetworkInterface{NetworkInterfaceId: fmt.Sprintf("eni-big%07d", i),
			VSwitchId: vsw, SecurityGroupIds: []string{sg}, InstanceId: fmt.Sprintf("i-big%06d", i%instances),
			Tags: []Tag{{TagKey: "fleet", TagValue: "big"}}})
	}
	return w
}

// TestAdminEndpoints: counters and state over HTTP, GET only, no
// signature.
func TestAdminEndpoints(t *testing.T) {
	e := newEnv(t, testWorld(t), Options{ThrottleRate: 1})
	get := func(path string) (int, []byte) {
		resp, err := e.http.Client().Get(e.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	e.cl.ecs(t, "DescribeInstances")
	e.cl.ecs(t, "AttachNetworkInterface")
	status, body := get("/_emulator/calls")
	if status != 200 || string(body) != `{"Calls":{"AttachNetworkInterface":1,"DescribeInstances":1},"MutatingCalls":1}` {
		t.Errorf("calls: %d %s", status, body)
	}
	status, body = get("/_emulator/state")
	if status != 200 {
		t.Fatalf("state: %d", status)
	}
	w, err := ReadWorld(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("state is not a world: %v", err)
	}
	if len(w.AccessKeys) != 0 || strings.Contains(string(body), "testsecret") {
		t.Error("state leaks access keys")
	}
	status, body = get("/_emulator/reset-counters")
	if status != 200 || !strings.Contains(string(body), `"DescribeInstances":1`) {
		t.Errorf("reset: %d %s", status, body)
	}
	if _, body = get("/_emulator/calls"); string(body) != `{"Calls":{},"MutatingCalls":0}` {
		t.Errorf("after reset: %s", body)
	}
	if status, _ = get("/_emulator/nope"); status != 404 {
		t.Errorf("unknown admin path: %d", status)
	}
	resp, err := e.http.Client().Post(e.http.URL+"/_emulator/calls", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to admin: %d", resp.StatusCode)
	}
	e.srv.ResetCounters()
	if len(e.srv.Calls()) != 0 {
		t.Error("ResetCounters left counters")
	}
}

// TestConcurrentClients hammers one server from many goroutines; run with
// -race. Every create succeeds once and addresses stay unique.
func TestConcurrentClients(t *testing.T) {
	w := testWorld(t)
	w.Quotas.MaxNetworkInterfaces = 1000
	w.Quotas.SecurityGroupMaxIps = 10000
	e := newEnv(t, w, Options{AsyncDelay: time.Millisecond})
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				r := e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-b", "SecurityGroupId", "sg-b",
					"SecondaryPrivateIpAddressCount", "2", "ClientToken", fmt.Sprint("g", g, "-", i))
				if r.status != 200 {
					errs <- string(r.body)
				}
				e.cl.ecs(t, "DescribeNetworkInterfaces", "VSwitchId", "vsw-b", "MaxResults", "50")
				e.clock.Advance(time.Millisecond)
				_ = e.srv.State()
				_ = e.srv.Calls()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	seen := map[string]bool{}
	n := 0
	for _, x := range e.srv.State().NetworkInterfaces {
		if x.VSwitchId != "vsw-b" {
			continue
		}
		n++
		for _, a := range append([]string{x.PrivateIpAddress}, x.SecondaryPrivateIpAddresses...) {
			if seen[a] {
				t.Errorf("%s held twice", a)
			}
			seen[a] = true
		}
	}
	if n != 80 {
		t.Errorf("%d ENIs created, want 80", n)
	}
}
