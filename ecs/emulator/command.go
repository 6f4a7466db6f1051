package emulator

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Command is one Cloud Assistant invocation on one instance, as a Runner
// receives it.
type Command struct {
	InvokeId, CommandId, InstanceId string
	Type                            string // RunShellScript, RunPowerShellScript or RunBatScript
	Content                         string // the script, decoded
	WorkingDir, Username            string
	Timeout                         time.Duration
}

// CommandResult is what a host answered.
type CommandResult struct {
	ExitCode int
	Output   []byte
	// Dropped counts output bytes the host already cut before Output;
	// DescribeInvocationResults adds what it cuts itself (it keeps the
	// last 24 KB).
	Dropped int
}

// Runner executes commands for RunCommand. The server calls it once per
// instance, on its own goroutine, with a context that ends at the
// command's Timeout. An error means the agent never answered.
type Runner func(ctx context.Context, c Command) (CommandResult, error)

// maxOutput: Cloud Assistant keeps the last 24 KB of output and reports
// the bytes it cut in Dropped (ecs-api.md §2.12).
const maxOutput = 24 << 10

type invocation struct {
	invokeID, commandID string
	typ, name, content  string // CommandType, CommandName, the script (decoded)
	workingDir          string
	timeout             int // seconds
	created             string
	results             []*invocationResult
}

type invocationResult struct {
	instanceID, username string
	start, finished      string // logical timestamps
	due                  time.Time
	done                 bool // the runner returned (or never will run)
	res                  CommandResult
	runErr               error
	timedOut             bool
	status, record       string // InvocationStatus, InvokeRecordStatus
	errorCode, errorInfo string
	// preset is the runOutcome decided without the runner (an agent that
	// is not running or does not answer, an instance that stopped): it
	// is what the invocation ends with when due.
	preset *runOutcome
}

// runOutcome is how an invocation on one instance ended: InvocationStatus,
// InvokeRecordStatus, ErrorCode and ErrorInfo.
type runOutcome struct{ status, record, code, info string }

// Outcomes the emulator reports. InvokeRecordStatus of a one-time task is
// Finished when it ran to exit code 0 and Failed otherwise; ErrorCode and
// ErrorInfo are the documented values
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describeinvocationresults).
var (
	outClientNotRunning = runOutcome{"Aborted", "Failed", "ClientNotRunning", "The aliyun service is not running on the instance."}
	outClientNoResponse = runOutcome{"Timeout", "Failed", "ClientNotResponse", "The aliyun service in the instance does not response."}
	outNotRunning       = runOutcome{"Failed", "Failed", "InstanceNotRunning", "The specified instance was not running during task execution."}
)

type commandLog struct {
	byID    map[string]*invocation
	keys    []string // invokeID + "\x00" + instanceID, sorted
	ids     []string // invoke IDs, sorted
	running []*invocationResult
}

// advanceCommands finishes the invocations whose runner returned and whose
// AsyncDelay has passed on the emulator clock, and completes the instance
// power transitions that are due (power.go).
func (s *Server) advanceCommands(now time.Time) {
	s.advancePower(now)
	log := &s.commands
	log.running = slices.DeleteFunc(log.running, func(r *invocationResult) bool {
		if !r.done || now.Before(r.due) {
			return false
		}
		r.finished = s.cloud.stamp()
		o := runOutcome{"Success", "Finished", "", ""}
		switch {
		case r.preset != nil:
			o = *r.preset
		case r.timedOut:
			o = runOutcome{"Timeout", "Failed", "ExecutionTimeout", "The command execution has been timeout."}
		case r.runErr != nil:
			o = runOutcome{"Error", "Failed", "ClientNotResponse", r.runErr.Error()}
		case r.res.ExitCode != 0:
			o = runOutcome{"Failed", "Failed", "ExitCodeNonzero", "The command execution exit code is not zero."}
		}
		r.status, r.record, r.errorCode, r.errorInfo = o.status, o.record, o.code, o.info
		return true
	})
}

// interruptCommands ends the unfinished invocations on an instance that
// stops: they fail with InstanceNotRunning, whatever their runner still
// answers.
func (s *Server) interruptCommands(instanceID string, now time.Time) {
	for _, r := range s.commands.running {
		if r.instanceID == instanceID && r.preset == nil {
			o := outNotRunning
			r.preset, r.done, r.due = &o, true, now
		}
	}
}

type runCommandResponse struct {
	RequestId string `json:"RequestId"`
	CommandId string `json:"CommandId"`
	InvokeId  string `json:"InvokeId"`
}

func (r runCommandResponse) replay(id string) any { r.RequestId = id; return r }

var commandTypes = map[string]string{"RunShellScript": "linux", "RunPowerShellScript": "windows", "RunBatScript": "windows"}

// RunCommand records an invocation per instance and runs it through
// Options.Runner (ecs-api.md §2.12). The call itself fails with the
// documented codes
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-runcommand):
// 403 InvalidCmdType.NotFound for an unknown Type, 403
// InstanceIds.ExceedLimit for more than 50 instances, 404
// InvalidInstance.NotFound, and 403 InvalidInstance.NotMatch when the
// Type does not suit an instance's OS or the instance is not Running
// (the code's documented advice is to check that the instance's status
// meets the command's conditions). The agent's state decides the rest,
// per instance: an agent that is not installed or not running ends the
// invocation Aborted with ClientNotRunning; one that hangs leaves it
// Running until its Timeout, then Timeout with ClientNotResponse.
func runCommand(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("Frequency", "Parameters", "ContainerId", "ContainerName", "Launcher",
		"WindowsPasswordName", "TerminationMode", "ResourceTag.", "Tag.", "ResourceGroupId"); err != nil {
		return nil, err
	}
	for _, b := range []string{"Timed", "EnableParameter"} {
		if on, err := p.boolean(b); err != nil || on {
			return nil, errUnsupported(b, "the emulator runs one-off commands only")
		}
	}
	if m := p.get("RepeatMode"); m != "" && m != "Once" {
		return nil, errUnsupported("RepeatMode", "the emulator runs one-off commands only (RepeatMode Once)")
	}
	if r, err := s.replayed(q); r != nil || err != nil {
		return r, err
	}
	typ, err := p.required("Type")
	if err != nil {
		return nil, err
	}
	osType, ok := commandTypes[typ]
	if !ok {
		return nil, newErr(http.StatusForbidden, "InvalidCmdType.NotFound",
			"The specified command type does not exist: %q is not RunShellScript, RunPowerShellScript or RunBatScript.", typ)
	}
	content, err := p.required("CommandContent")
	if err != nil {
		return nil, err
	}
	encoded := content
	if p.get("ContentEncoding") == "Base64" {
		b, derr := base64.StdEncoding.DecodeString(content)
		if derr != nil {
			return nil, errInvalid("CommandContent", "not valid Base64")
		}
		content = string(b)
	} else {
		// Unknown encodings are treated as PlainText, as the API does.
		encoded = base64.StdEncoding.EncodeToString([]byte(content))
	}
	if len(encoded) > 16<<10 {
		return nil, errInvalid("CommandContent", "longer than 16 KB once Base64-encoded")
	}
	timeout, err := p.integer("Timeout", 60, 10, 86400)
	if err != nil {
		return nil, err
	}
	ids, err := p.list("InstanceId", 1<<20)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errMissing("InstanceId.1")
	}
	if len(ids) > maxCommandInstances {
		return nil, newErr(http.StatusForbidden, "InstanceIds.ExceedLimit",
			"The number of instance IDs exceeds the upper limit: %d given, at most %d.", len(ids), maxCommandInstances)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return nil, errInvalid("InstanceId.N", "instance "+id+" is listed twice")
		}
		seen[id] = true
		in := c.instances[id]
		if in == nil {
			return nil, newErr(http.StatusNotFound, "InvalidInstance.NotFound", "The specified instance %q does not exist.", id)
		}
		if in.osType != osType {
			return nil, newErr(http.StatusForbidden, "InvalidInstance.NotMatch",
				"The specified instance type does not match the command: %s does not run on %s instance %s.", typ, in.osType, id)
		}
		if in.status != "Running" {
			return nil, newErr(http.StatusForbidden, "InvalidInstance.NotMatch",
				"The specified instance type does not match the command: instance %s is %s, and commands run only on Running instances.", id, in.status)
		}
	}

	inv := &invocation{
		commandID: c.gen.id("c-", "", func(id string) bool { return false }),
		invokeID:  c.gen.id("t-", "", func(id string) bool { return s.commands.byID[id] != nil }),
		typ:       typ, name: p.get("Name"), content: content, workingDir: p.get("WorkingDir"), timeout: timeout,
	}
	if s.commands.byID == nil {
		s.commands.byID = map[string]*invocation{}
	}
	s.commands.byID[inv.invokeID] = inv
	s.commands.ids = insertSorted(s.commands.ids, inv.invokeID)
	start := c.stamp()
	inv.created = start
	for _, id := range ids {
		in := c.instances[id]
		user := p.get("Username")
		if user == "" {
			user = "root"
			if in.osType == "windows" {
				user = "System"
			}
		}
		r := &invocationResult{instanceID: id, username: user, start: start, due: q.now.Add(s.delay),
			status: "Running", record: "Running"}
		inv.results = append(inv.results, r)
		s.commands.keys = insertSorted(s.commands.keys, inv.invokeID+"\x00"+id)
		s.commands.running = append(s.commands.running, r)
		switch s.agent(id) {
		case agentNotInstalled, agentStopped:
			o := outClientNotRunning
			r.preset, r.done = &o, true
		case agentHung:
			// Nothing comes back until the command's own Timeout.
			o := outClientNoResponse
			r.preset, r.done = &o, true
			r.due = q.now.Add(time.Duration(timeout) * time.Second)
		default:
			if s.runner == nil {
				r.res.Output, r.done = []byte(plainNotExecuted), true
				continue
			}
			cmd := Command{InvokeId: inv.invokeID, CommandId: inv.commandID, InstanceId: id, Type: typ,
				Content: content, WorkingDir: inv.workingDir, Username: user,
				Timeout: time.Duration(timeout) * time.Second}
			go s.run(r, cmd)
		}
	}
	q.changed = true
	resp := runCommandResponse{RequestId: q.requestID, CommandId: inv.commandID, InvokeId: inv.invokeID}
	s.remember(q, resp)
	return resp, nil
}

// maxCommandInstances is RunCommand's limit on InstanceId.N (the
// InstanceIds.ExceedLimit row of the page above: more than 50).
const maxCommandInstances = 50

// run executes one command outside the lock and records what came back.
func (s *Server) run(r *invocationResult, cmd Command) {
	ctx, cancel := context.WithTimeout(context.Background(), cmd.Timeout)
	defer cancel()
	res, err := s.runner(ctx, cmd)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.preset != nil {
		return // the instance stopped under it
	}
	r.done, r.res, r.runErr = true, res, err
	r.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// failed reports whether a finished invocation on one instance failed (it
// did not run to exit code 0).
func (r *invocationResult) failed() bool { return r.finished != "" && r.status != "Success" }

// recordStatus is InvokeRecordStatus: the state of the whole one-time
// task, which DescribeInvocationResults repeats on every instance's row:
// Running while one instance runs, then Finished when every instance ran
// to exit code 0, Failed when every one failed, PartialFailed between.
func (inv *invocation) recordStatus() string {
	failed := 0
	for _, r := range inv.results {
		if r.finished == "" {
			return "Running"
		}
		if r.failed() {
			failed++
		}
	}
	switch failed {
	case 0:
		return "Finished"
	case len(inv.results):
		return "Failed"
	}
	return "PartialFailed"
}

// overallStatus is DescribeInvocations' InvocationStatus of the whole
// task: Running, Success, Failed or PartialFailed by the same rule.
func (inv *invocation) overallStatus() string {
	switch st := inv.recordStatus(); st {
	case "Finished":
		return "Success"
	default:
		return st
	}
}

// resultOutput is the output of a finished invocation as the API shows
// it: the last 24 KB, in Base64 unless plain, and the bytes dropped.
func (r *invocationResult) output(plain bool) (string, int) {
	o, dropped := r.res.Output, r.res.Dropped
	if len(o) > maxOutput {
		dropped += len(o) - maxOutput
		o = o[len(o)-maxOutput:]
	}
	if plain {
		return string(o), dropped
	}
	return base64.StdEncoding.EncodeToString(o), dropped
}

// exitCode is the ExitCode of a finished invocation, absent when the
// command never ran (the agent did not take it), so that no client reads
// a 0 that no script returned.
func (r *invocationResult) exitCode() *int64 {
	if r.finished == "" || r.preset != nil {
		return nil
	}
	code := int64(r.res.ExitCode)
	return &code
}

type invocationResultItem struct {
	InvokeId           string `json:"InvokeId"`
	CommandId          string `json:"CommandId"`
	InstanceId         string `json:"InstanceId"`
	InvocationStatus   string `json:"InvocationStatus"`
	InvokeRecordStatus string `json:"InvokeRecordStatus"`
	ExitCode           *int64 `json:"ExitCode,omitempty"`
	Output             string `json:"Output"`
	Dropped            int    `json:"Dropped"`
	ErrorCode          string `json:"ErrorCode"`
	ErrorInfo          string `json:"ErrorInfo"`
	StartTime          string `json:"StartTime"`
	FinishedTime       string `json:"FinishedTime"`
	Repeats            int    `json:"Repeats"`
	Username           string `json:"Username"`
}

type describeInvocationResultsResponse struct {
	RequestId  string `json:"RequestId"`
	Invocation struct {
		PageNumber        int    `json:"PageNumber,omitempty"`
		PageSize          int    `json:"PageSize,omitempty"`
		TotalCount        *int   `json:"TotalCount,omitempty"`
		NextToken         string `json:"NextToken"`
		InvocationResults struct {
			InvocationResult []invocationResultItem `json:"InvocationResult"`
		} `json:"InvocationResults"`
	} `json:"Invocation"`
}

var recordStatuses = []string{"Running", "Finished", "Failed", "PartialFailed", "Stopped", "Stopping"}

// DescribeInvocationResults answers Output in Base64 unless
// ContentEncoding is PlainText (ecs-api.md §2.12).
func describeInvocationResults(s *Server, q *call) (any, *apiError) {
	p := q.p
	if err := p.rejectUnsupported("Tag.", "ResourceGroupId"); err != nil {
		return nil, err
	}
	pg, err := readPaging(p, 10, 50, 10, 50)
	if err != nil {
		return nil, err
	}
	plain := p.get("ContentEncoding") == "PlainText"
	invokeID, instID, cmdID, record := p.get("InvokeId"), p.get("InstanceId"), p.get("CommandId"), p.get("InvokeRecordStatus")
	if record != "" && !slices.Contains(recordStatuses, record) {
		return nil, errInvalid("InvokeRecordStatus", "not one of "+strings.Join(recordStatuses, ", "))
	}
	find := func(key string) (*invocation, *invocationResult) {
		id, inst, _ := strings.Cut(key, "\x00")
		inv := s.commands.byID[id]
		for _, r := range inv.results {
			if r.instanceID == inst {
				return inv, r
			}
		}
		return inv, nil
	}
	match := func(key string) bool {
		inv, r := find(key)
		return (invokeID == "" || inv.invokeID == invokeID) && (cmdID == "" || inv.commandID == cmdID) &&
			(instID == "" || r.instanceID == instID) && (record == "" || inv.recordStatus() == record)
	}
	page, total, next := paginate(s.commands.keys, self, match, pg, 0)
	resp := describeInvocationResultsResponse{RequestId: q.requestID}
	out := &resp.Invocation
	out.TotalCount, out.NextToken = totalCount(pg, total), next
	if !pg.token {
		out.PageNumber, out.PageSize = pg.pageNumber, pg.pageSize
	}
	out.InvocationResults.InvocationResult = make([]invocationResultItem, len(page))
	for i, key := range page {
		inv, r := find(key)
		it := invocationResultItem{InvokeId: inv.invokeID, CommandId: inv.commandID, InstanceId: r.instanceID,
			InvocationStatus: r.status, InvokeRecordStatus: inv.recordStatus(), ErrorCode: r.errorCode, ErrorInfo: r.errorInfo,
			StartTime: r.start, FinishedTime: r.finished, Repeats: 1, Username: r.username, ExitCode: r.exitCode()}
		if r.finished != "" {
			it.Output, it.Dropped = r.output(plain)
		}
		out.InvocationResults.InvocationResult[i] = it
	}
	return resp, nil
}

// DescribeInvocations lists whole command tasks with each instance's part
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describeinvocations):
// the task's InvocationStatus and InvokeStatus, and per instance its
// InvocationStatus, InstanceInvokeStatus, exit code, error and, with
// IncludeOutput, the output.

type invokeInstanceItem struct {
	InstanceId           string `json:"InstanceId"`
	InvocationStatus     string `json:"InvocationStatus"`
	InstanceInvokeStatus string `json:"InstanceInvokeStatus"`
	ExitCode             *int64 `json:"ExitCode,omitempty"`
	Output               string `json:"Output"`
	Dropped              int    `json:"Dropped"`
	ErrorCode            string `json:"ErrorCode"`
	ErrorInfo            string `json:"ErrorInfo"`
	CreationTime         string `json:"CreationTime"`
	StartTime            string `json:"StartTime"`
	FinishTime           string `json:"FinishTime"`
	UpdateTime           string `json:"UpdateTime"`
	Repeats              int    `json:"Repeats"`
	Timed                bool   `json:"Timed"`
}

type invocationItem struct {
	InvokeId         string `json:"InvokeId"`
	CommandId        string `json:"CommandId"`
	CommandName      string `json:"CommandName"`
	CommandType      string `json:"CommandType"`
	CommandContent   string `json:"CommandContent"`
	InvocationStatus string `json:"InvocationStatus"`
	InvokeStatus     string `json:"InvokeStatus"`
	RepeatMode       string `json:"RepeatMode"`
	Timed            bool   `json:"Timed"`
	Timeout          int    `json:"Timeout"`
	Username         string `json:"Username"`
	WorkingDir       string `json:"WorkingDir"`
	CreationTime     string `json:"CreationTime"`
	InvokeInstances  struct {
		InvokeInstance []invokeInstanceItem `json:"InvokeInstance"`
	} `json:"InvokeInstances"`
}

type describeInvocationsResponse struct {
	RequestId   string `json:"RequestId"`
	TotalCount  *int   `json:"TotalCount,omitempty"`
	PageNumber  int    `json:"PageNumber,omitempty"`
	PageSize    int    `json:"PageSize,omitempty"`
	NextToken   string `json:"NextToken"`
	Invocations struct {
		Invocation []invocationItem `json:"Invocation"`
	} `json:"Invocations"`
}

func describeInvocations(s *Server, q *call) (any, *apiError) {
	p := q.p
	if err := p.rejectUnsupported("Tag.", "ResourceGroupId"); err != nil {
		return nil, err
	}
	if timed, err := p.boolean("Timed"); err != nil || timed {
		return nil, errUnsupported("Timed", "the emulator runs one-off commands only")
	}
	pg, err := readPaging(p, 10, 50, 10, 50)
	if err != nil {
		return nil, err
	}
	withOutput, err := p.boolean("IncludeOutput")
	if err != nil {
		return nil, err
	}
	plain := p.get("ContentEncoding") == "PlainText"
	invokeID, instID, cmdID := p.get("InvokeId"), p.get("InstanceId"), p.get("CommandId")
	typ, name, status := p.get("CommandType"), p.get("CommandName"), p.get("InvokeStatus")
	if m := p.get("RepeatMode"); m != "" && m != "Once" {
		return nil, errUnsupported("RepeatMode", "the emulator runs one-off commands only (RepeatMode Once)")
	}
	match := func(id string) bool {
		inv := s.commands.byID[id]
		return (invokeID == "" || inv.invokeID == invokeID) && (cmdID == "" || inv.commandID == cmdID) &&
			(typ == "" || inv.typ == typ) && (name == "" || inv.name == name) &&
			(status == "" || inv.recordStatus() == status) &&
			(instID == "" || slices.ContainsFunc(inv.results, func(r *invocationResult) bool { return r.instanceID == instID }))
	}
	page, total, next := paginate(s.commands.ids, self, match, pg, 0)
	resp := describeInvocationsResponse{RequestId: q.requestID, TotalCount: totalCount(pg, total), NextToken: next}
	if !pg.token {
		resp.PageNumber, resp.PageSize = pg.pageNumber, pg.pageSize
	}
	resp.Invocations.Invocation = make([]invocationItem, len(page))
	for i, id := range page {
		inv := s.commands.byID[id]
		content := inv.content
		if !plain {
			content = base64.StdEncoding.EncodeToString([]byte(content))
		}
		it := invocationItem{InvokeId: inv.invokeID, CommandId: inv.commandID, CommandName: inv.name, CommandType: inv.typ,
			CommandContent: content, InvocationStatus: inv.overallStatus(), InvokeStatus: inv.recordStatus(),
			RepeatMode: "Once", Timeout: inv.timeout, WorkingDir: inv.workingDir, CreationTime: inv.created}
		it.InvokeInstances.InvokeInstance = make([]invokeInstanceItem, len(inv.results))
		for j, r := range inv.results {
			it.Username = r.username
			ii := invokeInstanceItem{InstanceId: r.instanceID, InvocationStatus: r.status,
				InstanceInvokeStatus: instanceInvokeStatus(r), ExitCode: r.exitCode(), ErrorCode: r.errorCode,
				ErrorInfo: r.errorInfo, CreationTime: inv.created, StartTime: r.start, FinishTime: r.finished,
				UpdateTime: cmp.Or(r.finished, r.start), Repeats: 1}
			if withOutput && r.finished != "" {
				ii.Output, ii.Dropped = r.output(plain)
			}
			it.InvokeInstances.InvokeInstance[j] = ii
		}
		resp.Invocations.Invocation[i] = it
	}
	return resp, nil
}

// instanceInvokeStatus is the older per-instance status of
// DescribeInvocations: Running, Finished or Failed.
func instanceInvokeStatus(r *invocationResult) string {
	switch {
	case r.finished == "":
		return "Running"
	case r.failed():
		return "Failed"
	}
	return "Finished"
}
