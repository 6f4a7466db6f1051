package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecsnet/ecsnet/internal/plural"
)

// A host step runs through Cloud Assistant, which reaches only a Running
// instance whose agent is up. The plan says beforehand which host steps
// cannot run, and what apply --hosts does instead: a floating ENI exists
// to move when its host dies, so a dead source must not block the move.

// Unreachable returns, by instance ID, why Cloud Assistant cannot run
// a script on the hosts of p's host steps: the instance is not Running
// (obs), or its agent is not up (agents, instance ID -> up, from
// DescribeCloudAssistantStatus; nil when it was not asked, an instance
// it does not list is taken as up). A hung agent reads as up: only a
// command's timeout reveals it. It is HostOptions.Unreachable.
func Unreachable(p *Plan, obs *Observed, agents map[string]bool) map[string]string {
	out := map[string]string{}
	for _, s := range p.Steps {
		if !s.Action.Host() || s.InstanceID == "" || out[s.InstanceID] != "" {
			continue
		}
		switch oi := obs.Instance(s.InstanceID); {
		case oi == nil:
			out[s.InstanceID] = fmt.Sprintf("%s (%s) is not in the cloud", s.Instance, s.InstanceID)
		case oi.Status != InstanceRunning:
			out[s.InstanceID] = fmt.Sprintf("%s (%s) is %s", s.Instance, s.InstanceID, oi.Status)
		default:
			if up, ok := agents[s.InstanceID]; ok && !up {
				out[s.InstanceID] = fmt.Sprintf("the Cloud Assistant agent of %s (%s) is not running (DescribeCloudAssistantStatus: no heartbeat)", s.Instance, s.InstanceID)
			}
		}
	}
	return out
}

// ReachNotes returns the plan's notes for the host steps that cannot run
// (unreachable, from Unreachable): what apply --hosts does instead, and,
// for a host-remove, what the host still holds when it comes back and
// how to clean it.
func ReachNotes(p *Plan, unreachable map[string]string) []string {
	var notes []string
	for _, s := range p.Steps {
		why := unreachable[s.InstanceID]
		if !s.Action.Host() || why == "" {
			continue
		}
		switch s.Action {
		case HostRemove:
			var takes []string
			for _, c := range p.Steps {
				if c.Action.Host() || !dependsOn(c, s.ID) {
					continue
				}
				switch c.Action {
				case DetachENI:
					takes = append(takes, "detaches ENI "+c.ENI)
				case UnassignIPs, UnassignIPv6:
					takes = append(takes, "unassigns "+addrList(c.IPs))
				case UnassignPrefixes:
					takes = append(takes, "unassigns prefixes "+prefixesString(c.Prefixes))
				}
			}
			notes = append(notes, fmt.Sprintf("%s cannot run: %s. apply --hosts skips it (outcome: not reachable, not done) and goes on: "+
				"the cloud %s anyway, which takes the %s off the host, and the hosts that gain them are configured. "+
				"When %s is back it still holds the configuration for %s: run ecsnet push --instance %s with the same desired state to remove it.",
				s.ID, why, strings.Join(takes, " and "), plural.Word(len(s.IPs), "address", "addresses"), s.Instance, addrList(s.IPs), s.Instance))
		case HostApply:
			notes = append(notes, fmt.Sprintf("%s cannot run: %s. apply --hosts makes its cloud changes and skips it (outcome: not reachable, not done); "+
				"when %s is back, run ecsnet push --instance %s with the same desired state to configure it.", s.ID, why, s.Instance, s.Instance))
		}
	}
	return notes
}

func dependsOn(s *Step, id string) bool { return slices.Contains(s.DependsOn, id) }
