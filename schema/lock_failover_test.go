package schema

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestLockFailover: a failover record is written and read back; a lock
// without one is written without the field (as before the field
// existed); a damaged record or one in a version 1 lock is refused.
func TestLockFailover(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	l := &Lock{Fleet: "x", ENIs: []*LockedENI{{Name: "vip", ID: "eni-1", AttachedTo: "lb-2", DeviceIndex: 1, Failover: &LockedFailover{To: "lb-2", At: at}}}}
	out := MarshalLock(l)
	if !bytes.Contains(out, []byte(`"failover": {
        "to": "lb-2",
        "at": "2026-12-07T01:02:03Z"
      }`)) {
		t.Fatalf("the record is not in the lock:\n%s", out)
	}
	back, err := ReadLock(bytes.NewReader(out), "l.json")
	if err != nil {
		t.Fatal(err)
	}
	if fo := back.Secondary("vip").Failover; fo == nil || fo.To != "lb-2" || !fo.At.Equal(at) {
		t.Errorf("read back %+v", fo)
	}
	c := back.Clone()
	c.Secondary("vip").Failover.To = "changed"
	if back.Secondary("vip").Failover.To != "lb-2" {
		t.Error("Clone shares the failover record")
	}
	back.Secondary("vip").Failover = nil
	if out := MarshalLock(back); bytes.Contains(out, []byte("failover")) {
		t.Errorf("a lock without a record mentions failover:\n%s", out)
	}

	for name, src := range map[string]string{
		"no time":   `{"format_version":2,"fleet":"x","enis":[{"name":"vip","id":"eni-1","device_index":1,"secondary_ips":[],"generation":0,"failover":{"to":"lb-2","at":""}}]}`,
		"no target": `{"format_version":2,"fleet":"x","enis":[{"name":"vip","id":"eni-1","device_index":1,"secondary_ips":[],"generation":0,"failover":{"to":"","at":"2026-12-07T01:02:03Z"}}]}`,
		"primary":   `{"format_version":2,"fleet":"x","enis":[{"instance":"a","id":"eni-1","device_index":0,"secondary_ips":[],"generation":0,"failover":{"to":"lb-2","at":"2026-12-07T01:02:03Z"}}]}`,
		"version 1": `{"format_version":1,"fleet":"x","enis":[{"name":"vip","id":"eni-1","device_index":1,"secondary_ips":[],"generation":0,"failover":{"to":"lb-2","at":"2026-12-07T01:02:03Z"}}]}`,
		"unknown":   `{"format_version":2,"fleet":"x","enis":[{"name":"vip","id":"eni-1","device_index":1,"secondary_ips":[],"generation":0,"failover":{"to":"lb-2","at":"2026-12-07T01:02:03Z","by":"x"}}]}`,
	} {
		if _, err := ReadLock(strings.NewReader(src), "l.json"); err == nil {
			t.Errorf("%s: ReadLock accepted it", name)
		}
	}
}
