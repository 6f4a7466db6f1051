package guest

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/ecsnet/ecsnet/plan"
	"github.com/ecsnet/ecsnet/render"
	"github.com/ecsnet/ecsnet/schema"
)

// This file holds the rule that decides what may be pushed to a host
// given the lock: never more than the lock records as assigned to it or
// attached to it, since the cloud routes nothing else to the host. A host
// configured with an address the cloud has not given it answers ARP for
// an address the VPC sends elsewhere.
//
//   - apply --hosts renders each host step from the lock as it stands
//     when the step starts (LockedPayloads; plan's executor takes out what
//     the cloud steps waiting for a remove step are about to take away);
//   - push renders from the desired state, and refuses a host whose
//     render holds more than its locked render (Pushable): its cloud side
//     is not done yet.

// Pushable returns the render push delivers to each host, by name, and
// why each other host is refused: the lock lacks what its render needs,
// or the desired state has addresses or ENIs the lock does not record as
// on the instance yet.
func Pushable(f *schema.Fleet, lock *schema.Lock) (hosts map[string]*render.Host, refused map[string]string) {
	hosts, refused = targets(f, lock, func(m render.Missing) string {
		who := "its primary ENI"
		if m.ENI != "" {
			who = "ENI " + m.ENI
		}
		return fmt.Sprintf("the lock lacks %s of %s; run ecsnet apply first", m.What, who)
	})
	for name, h := range hosts {
		locked, err := render.LockedHost(f, lock, name)
		switch {
		case err != nil:
			refused[name] = err.Error()
			delete(hosts, name)
		case !reflect.DeepEqual(locked, h):
			refused[name] = "the desired state has addresses or ENIs the lock does not record as on this instance yet; run ecsnet apply --hosts (the cloud first)"
			delete(hosts, name)
		}
	}
	return hosts, refused
}

// targets renders every host of f from the lock, by name, and says why
// each other host has no render: lacks words what the lock lacks for it
// (the last of its ENIs that lacks something, when several do).
func targets(f *schema.Fleet, lock *schema.Lock, lacks func(render.Missing) string) (map[string]*render.Host, map[string]string) {
	problems := map[string]string{}
	hosts, err := render.Hosts(f, lock)
	var missing render.MissingError
	if err != nil && !errors.As(err, &missing) {
		for _, in := range f.Instances {
			problems[in.Name] = err.Error()
		}
		return map[string]*render.Host{}, problems
	}
	for _, m := range missing {
		problems[m.Instance] = lacks(m)
	}
	out := map[string]*render.Host{}
	for _, h := range hosts {
		out[h.Name] = h
	}
	return out, problems
}

// HostPayload packs a host's bundle into the scripts RunCommand takes,
// each at most maxEncoded bytes once Base64-encoded (ecs.MaxCommandContent).
func HostPayload(h *render.Host, opts PayloadOptions, maxEncoded int) (plan.HostPayload, error) {
	files, err := render.ForHost(h)
	if err != nil {
		return plan.HostPayload{}, err
	}
	p, err := Payload(h, files, PayloadApply, opts)
	if err != nil {
		return plan.HostPayload{}, err
	}
	windows := h.Stack == schema.StackWindows
	scripts, err := Invocations(p, windows, maxEncoded)
	if err != nil {
		return plan.HostPayload{}, err
	}
	return plan.HostPayload{Scripts: scripts, Windows: windows}, nil
}

// LockedPayloads is plan.HostOptions.Payload for apply --hosts: it
// renders a host step from the lock it is given (the executor's, minus
// pending removals for a remove step), which is what the cloud routes to
// the host at that moment, never more.
func LockedPayloads(f *schema.Fleet, opts PayloadOptions, maxEncoded int) func(*plan.Step, *schema.Lock) (plan.HostPayload, error) {
	return func(s *plan.Step, lock *schema.Lock) (plan.HostPayload, error) {
		h, err := render.LockedHost(f, lock, s.Instance)
		if err != nil {
			return plan.HostPayload{}, err
		}
		return HostPayload(h, opts, maxEncoded)
	}
}
