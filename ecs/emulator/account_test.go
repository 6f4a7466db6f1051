package emulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

func ptr[T any](v T) *T { return &v }

// TestPreviewFields: Attachment (the invitational preview) is in
// DescribeNetworkInterfaces only for an account that has it: the world's
// PreviewFields, overridden by Options.PreviewFields, DefaultPreviewFields
// when neither says. The State round-trips the setting.
func TestPreviewFields(t *testing.T) {
	for _, tc := range []struct {
		name       string
		world, opt *bool
		want       bool
	}{
		{"default", nil, nil, DefaultPreviewFields},
		{"world off", ptr(false), nil, false},
		{"world on", ptr(true), nil, true},
		{"option wins over world", ptr(true), ptr(false), false},
		{"option on", ptr(false), ptr(true), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := testWorld(t)
			w.PreviewFields = tc.world
			e := newEnv(t, w, Options{PreviewFields: tc.opt})
			r := e.cl.ecs(t, "DescribeNetworkInterfaces", "NetworkInterfaceId.1", "eni-used", "NetworkInterfaceId.2", "eni-free")
			ok(t, r)
			if got := bytes.Contains(r.body, []byte(`"Attachment"`)); got != tc.want {
				t.Errorf("Attachment in the response = %v, want %v:\n%s", got, tc.want, r.body)
			}
			if got := bytes.Contains(r.body, []byte(`"DeviceIndex"`)); got != tc.want {
				t.Errorf("DeviceIndex in the response = %v, want %v", got, tc.want)
			}
			a := e.cl.ecs(t, "DescribeNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-used")
			if m := ok(t, a); str(m, "MacAddress") != "00:16:3e:00:01:02" || str(m, "InstanceId") != "i-run" {
				t.Errorf("DescribeNetworkInterfaceAttribute: %s", a.body)
			}
			if got := bytes.Contains(a.body, []byte(`"DeviceIndex"`)); got != tc.want {
				t.Errorf("DeviceIndex in DescribeNetworkInterfaceAttribute = %v, want %v", got, tc.want)
			}
			// The GA fields a client needs instead are there either way.
			m := ok(t, r)
			for _, it := range list(m, "NetworkInterfaceSets", "NetworkInterfaceSet") {
				if str(it, "MacAddress") == "" {
					t.Errorf("%s: no MacAddress", str(it, "NetworkInterfaceId"))
				}
				if str(it, "NetworkInterfaceId") == "eni-used" && str(it, "InstanceId") != "i-run" {
					t.Errorf("eni-used: InstanceId %q, want i-run", str(it, "InstanceId"))
				}
			}
			// State says what was said, and means the same.
			st := e.srv.State()
			if said := cmp.Or(tc.opt, tc.world); said == nil && st.PreviewFields != nil ||
				said != nil && (st.PreviewFields == nil || *st.PreviewFields != tc.want) {
				t.Errorf("State().PreviewFields = %v, want %v", st.PreviewFields, said)
			}
			if a, b := fmt.Sprint(st), fmt.Sprint(e.srv.State()); a != b {
				t.Errorf("two States of one server print differently:\n%s\n%s", a, b)
			}
		})
	}
	e := newEnv(t, testWorld(t), Options{})
	wantErr(t, e.cl.ecs(t, "DescribeNetworkInterfaceAttribute", "NetworkInterfaceId", "eni-nope"), 404, "InvalidEniId.NotFound")
	wantErr(t, e.cl.ecs(t, "DescribeNetworkInterfaceAttribute"), 400, "MissingParameter")
}

// TestWorldAccountFields: the world file reads PreviewFields and
// EcsnetAgent, and refuses an unknown agent state naming the instance.
func TestWorldAccountFields(t *testing.T) {
	js := strings.Replace(testWorldJSON, `"Seed": 7,`, `"Seed": 7, "PreviewFields": false,`, 1)
	js = strings.Replace(js, `"InstanceName": "web-1",`, `"InstanceName": "web-1", "EcsnetAgent": "Hung",`, 1)
	w, err := ReadWorld(strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	if w.PreviewFields == nil || *w.PreviewFields {
		t.Errorf("PreviewFields = %v, want false", w.PreviewFields)
	}
	srv, err := New(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := srv.State()
	b, _ := json.Marshal(st)
	if !bytes.Contains(b, []byte(`"EcsnetAgent":"Hung"`)) {
		t.Errorf("State lost EcsnetAgent: %s", b)
	}
	bad := strings.Replace(testWorldJSON, `"InstanceName": "web-1",`, `"InstanceName": "web-1", "EcsnetAgent": "Asleep",`, 1)
	_, err = ReadWorld(strings.NewReader(bad))
	if err == nil || !strings.Contains(err.Error(), `Instances[0] (i-run): EcsnetAgent "Asleep" is not one of Running, NotInstalled, Stopped, Hung`) {
		t.Errorf("ReadWorld with a bad agent state: %v", err)
	}
}

// TestUnboundCapDefault: an Available ENI carries 49 secondary addresses
// by default, the current API reference's figure and the validator's; a
// world's Quotas bring back the 2021 cap of 10.
func TestUnboundCapDefault(t *testing.T) {
	if DefaultUnboundEniMaxSecondaryIps != schema.DefaultUnboundENIMaxSecondaryIPs {
		t.Errorf("emulator default %d, validator default %d", DefaultUnboundEniMaxSecondaryIps, schema.DefaultUnboundENIMaxSecondaryIPs)
	}
	e := newEnv(t, testWorld(t), Options{})
	ok(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "SecondaryPrivateIpAddressCount", "49"))
	w := testWorld(t)
	w.Quotas.UnboundEniMaxSecondaryIps, w.Quotas.CreateMaxSecondaryIps = 10, 10
	e = newEnv(t, w, Options{})
	wantErr(t, e.cl.ecs(t, "CreateNetworkInterface", "VSwitchId", "vsw-a", "SecurityGroupId", "sg-a", "SecondaryPrivateIpAddressCount", "11"),
		400, "InvalidParameter")
	ok(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "9"))
	wantErr(t, e.cl.ecs(t, "AssignPrivateIpAddresses", "NetworkInterfaceId", "eni-free", "SecondaryPrivateIpAddressCount", "1"),
		403, "MaxEniPrivateIpsCountExceeded")
}
