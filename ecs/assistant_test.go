package ecs

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestAgentStatus: DescribeCloudAssistantStatus through the SDK against
// the emulator: true for a Running instance whose agent is up, false for
// a stopped agent and a Stopped instance, nothing for an unknown ID; more
// than 50 IDs take one call per 50.
func TestAgentStatus(t *testing.T) {
	w := smallWorld()
	base := w.Instances[0]
	var many []string
	for i := range 70 {
		in := base
		in.InstanceId, in.InstanceName = fmt.Sprintf("i-bp1many%03d", i), fmt.Sprintf("many-%d", i)
		in.PrivateIpAddress, in.MacAddress, in.NetworkInterfaceId, in.SecondaryPrivateIpAddresses = "", "", "", nil
		w.Instances = append(w.Instances, in)
		many = append(many, in.InstanceId)
	}
	e := startEmu(t, w, emulator.Options{})
	if err := e.SetAgent("i-bp1web2", "Stopped"); err != nil {
		t.Fatal(err)
	}
	if err := e.SetAgent("i-bp1many069", "NotInstalled"); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, fastConfig(e.URL))
	got, err := c.AgentStatus(context.Background(), []string{"i-bp1web1", "i-bp1web2", "i-bp1win1", "i-nope"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"i-bp1web1": true, "i-bp1web2": false, "i-bp1win1": false}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got, err = c.AgentStatus(context.Background(), many)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 70 || !got["i-bp1many000"] || got["i-bp1many069"] {
		t.Errorf("%d answers: %v", len(got), got)
	}
}
