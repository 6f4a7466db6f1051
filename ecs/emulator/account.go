package emulator

import (
	"fmt"
	"slices"
	"strings"
	"time"
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
// DefaultPreviewFields is what a world that does not say gets: false, what
// most accounts see. ecsnet reads none of these fields (its slots are its
// own: plan/slot.go), and TestE2EPreviewFields holds it to working the
// same either way.
const DefaultPreviewFields = false

// account is the Server's state for the account-level behaviour above:
// everything here is read and changed under Server.mu.
type account struct {
	preview bool
	// previewSaid is what the world or the options said, nil if neither
	// did: State reports it, the same pointer every time, so that two
	// States of one server print alike (fmt.Sprint prints a pointer's
	// address).
	previewSaid *bool
	// agents holds the Cloud Assistant agent state of the instances whose
	// agent is not simply running (World Instance.EcsnetAgent).
	agents map[string]string
	// power holds the pending instance power transitions (power.go).
	power powerLog
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
	for _, said := range []*bool{w.PreviewFields, opts.PreviewFields} {
		if said != nil {
			s.acct.preview = *said
			s.acct.previewSaid = new(bool)
			*s.acct.previewSaid = *said
		}
	}
	s.acct.agents = map[string]string{}
	now := s.now()
	for _, in := range w.Instances {
		if in.EcsnetAgent != "" && in.EcsnetAgent != agentRunning {
			s.acct.agents[in.InstanceId] = in.EcsnetAgent
		}
		// A world's transitional power states complete like fresh ones.
		next := map[string]string{"Stopping": "Stopped", "Starting": "Running"}[in.Status]
		if next != "" {
			s.startPower(s.cloud.instances[in.InstanceId], in.Status, next, now)
		}
	}
	return nil
}

// fillWorld adds the account's fields to a world that State wrote.
func (s *Server) fillWorld(w *World) {
	w.PreviewFields = s.acct.previewSaid
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

// DescribeCloudAssistantStatus
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describecloudassistantstatus):
// CloudAssistantStatus is "true" when the agent sent a heartbeat in the
// last two minutes, so it is "false" for an instance that is not Running
// and for an agent that is not installed or not running, and "true" for a
// hung agent, whose heartbeat goes on while commands time out: the state
// a client cannot see coming. CloudAssistantVersion is empty when the
// agent is not installed or not running.

type agentStatusItem struct {
	InstanceId            string `json:"InstanceId"`
	CloudAssistantStatus  string `json:"CloudAssistantStatus"`
	CloudAssistantVersion string `json:"CloudAssistantVersion"`
	OSType                string `json:"OSType"`
	LastHeartbeatTime     string `json:"LastHeartbeatTime"`
	LastInvokedTime       string `json:"LastInvokedTime"`
	ActiveTaskCount       int    `json:"ActiveTaskCount"`
	InvocationCount       int    `json:"InvocationCount"`
	SupportSessionManager bool   `json:"SupportSessionManager"`
}

type describeAgentStatusResponse struct {
	RequestId                       string `json:"RequestId"`
	TotalCount                      *int   `json:"TotalCount,omitempty"`
	PageNumber                      int    `json:"PageNumber,omitempty"`
	PageSize                        int    `json:"PageSize,omitempty"`
	NextToken                       string `json:"NextToken"`
	InstanceCloudAssistantStatusSet struct {
		InstanceCloudAssistantStatus []agentStatusItem `json:"InstanceCloudAssistantStatus"`
	} `json:"InstanceCloudAssistantStatusSet"`
}

// agentVersions are the versions a running agent reports, by OS.
var agentVersions = map[string]string{"linux": "2.2.3.889", "windows": "2.1.3.889"}

func describeCloudAssistantStatus(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("ResourceGroupId"); err != nil {
		return nil, err
	}
	pg, err := readPaging(p, 10, 50, 10, 50)
	if err != nil {
		return nil, err
	}
	ids, err := p.list("InstanceId", 50)
	if err != nil {
		return nil, err
	}
	osType := p.get("OSType")
	if osType != "" && !slices.Contains([]string{"Windows", "Linux", "FreeBSD"}, osType) {
		return nil, errInvalid("OSType", "not Windows, Linux or FreeBSD")
	}
	cands := c.instList
	if len(ids) > 0 {
		cands = existing(ids, c.instances)
	}
	osName := func(in *instance) string {
		if in.osType == "windows" {
			return "Windows"
		}
		return "Linux"
	}
	match := func(in *instance) bool { return osType == "" || osName(in) == osType }
	page, total, next := paginate(cands, keyOf, match, pg, 0)
	resp := describeAgentStatusResponse{RequestId: q.requestID, TotalCount: totalCount(pg, total), NextToken: next}
	if !pg.token {
		resp.PageNumber, resp.PageSize = pg.pageNumber, pg.pageSize
	}
	items := make([]agentStatusItem, len(page))
	for i, in := range page {
		it := agentStatusItem{InstanceId: in.id, CloudAssistantStatus: "false", OSType: osName(in)}
		agent := s.agent(in.id)
		if in.status == "Running" && (agent == agentRunning || agent == agentHung) {
			it.CloudAssistantStatus, it.CloudAssistantVersion = "true", agentVersions[in.osType]
			it.LastHeartbeatTime = epoch.Add(time.Duration(c.tick) * time.Second).Format(timeLayout)
			it.SupportSessionManager = true
		}
		for _, inv := range s.commands.byID {
			for _, r := range inv.results {
				if r.instanceID != in.id {
					continue
				}
				if r.finished == "" {
					it.ActiveTaskCount++
				} else {
					it.InvocationCount++
				}
				it.LastInvokedTime = max(it.LastInvokedTime, r.start)
			}
		}
		items[i] = it
	}
	resp.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus = items
	return resp, nil
}
