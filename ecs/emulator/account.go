package emulator

import (
	"fmt"
	"slices"
	"strings"
)

// The account: what a real account sees and does beyond the resources of
// the world. Its world-file fields are PreviewFields and, per instance,
// EcsnetAgent; its Go option is Options.PreviewFields.

// Preview fields. The API reference marks some response fields as an
// invitational preview, "unavailable for general users": Attachment in
// DescribeNetworkInterfaces (with DeviceIndex, InstanceId and
// NetworkCardIndex) and DeviceIndex in DescribeNetworkInterfaceAttribute
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describenetworkinterfaces,
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describenetworkinterfaceattribute).
// An account that was not invited gets responses without them, so a client
// that needs them works against an emulator that always sends them and
// fails in the cloud. World.PreviewFields (or Options.PreviewFields, which
// wins) shows them, to rehearse an account that has them.
//
// DefaultPreviewFields is what a world that does not say gets. It is true
// only until ecsnet stops reading DeviceIndex (issue 14): the emulator's
// default must then become false, what most accounts see.
const DefaultPreviewFields = true

// account is the Server's state for the account-level behaviour above:
// everything here is read and changed under Server.mu.
type account struct {
	preview bool
	// agents holds the Cloud Assistant agent state of the instances whose
	// agent is not simply running (World Instance.EcsnetAgent).
	agents map[string]string
}

// Cloud Assistant agent states a world can give an instance
// (Instance.EcsnetAgent). Running is the default.
const (
	agentRunning      = "Running"
	agentNotInstalled = "NotInstalled" // DescribeCloudAssistantStatus "false"; commands fail ClientNotRunning
	agentStopped      = "Stopped"      // installed but not running: commands fail ClientNotRunning
	agentHung         = "Hung"         // running but never answers: commands time out
)

var agentStates = []string{agentRunning, agentNotInstalled, agentStopped, agentHung}

// checkAccount validates the world's account fields, naming the entry.
func (w *World) checkAccount() error {
	var errs worldErrors
	for i, in := range w.Instances {
		if in.EcsnetAgent != "" && !slices.Contains(agentStates, in.EcsnetAgent) {
			errs.add("Instances[%d] (%s): EcsnetAgent %q is not one of %s", i, in.InstanceId, in.EcsnetAgent,
				strings.Join(agentStates, ", "))
		}
	}
	return errs.err()
}

// initAccount sets the account up from the world and the options. The
// world has passed build, so its instances exist.
func (s *Server) initAccount(w *World, opts Options) error {
	if err := w.checkAccount(); err != nil {
		return err
	}
	s.acct.preview = DefaultPreviewFields
	if w.PreviewFields != nil {
		s.acct.preview = *w.PreviewFields
	}
	if opts.PreviewFields != nil {
		s.acct.preview = *opts.PreviewFields
	}
	s.acct.agents = map[string]string{}
	for _, in := range w.Instances {
		if in.EcsnetAgent != "" && in.EcsnetAgent != agentRunning {
			s.acct.agents[in.InstanceId] = in.EcsnetAgent
		}
	}
	return nil
}

// fillWorld adds the account's fields to a world that State wrote.
func (s *Server) fillWorld(w *World) {
	preview := s.acct.preview
	w.PreviewFields = &preview
	for i := range w.Instances {
		w.Instances[i].EcsnetAgent = s.acct.agents[w.Instances[i].InstanceId]
	}
}

// agent returns the Cloud Assistant agent state of an instance.
func (s *Server) agent(instanceID string) string {
	if a, ok := s.acct.agents[instanceID]; ok {
		return a
	}
	return agentRunning
}

// SetAgent sets the Cloud Assistant agent state of an instance (Running,
// NotInstalled, Stopped or Hung), as a test that makes a host unreachable
// mid-run would.
func (s *Server) SetAgent(instanceID, state string) error {
	if !slices.Contains(agentStates, state) {
		return fmt.Errorf("emulator: agent state %q is not one of %s", state, strings.Join(agentStates, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cloud.instances[instanceID] == nil {
		return fmt.Errorf("emulator: no instance %s", instanceID)
	}
	if state == agentRunning {
		delete(s.acct.agents, instanceID)
	} else {
		s.acct.agents[instanceID] = state
	}
	return nil
}
