package emulator

import (
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
	results             []*invocationResult
}

type invocationResult struct {
	instanceID, username string
	start, finished      string // logical timestamps
	due                  time.Time
	done                 bool // the runner returned
	res                  CommandResult
	runErr               error
	timedOut             bool
	status, record       string // InvocationStatus, InvokeRecordStatus
	errorCode, errorInfo string
}

type commandLog struct {
	byID    map[string]*invocation
	keys    []string // invokeID + "\x00" + instanceID, sorted
	running []*invocationResult
}

// advanceCommands finishes the invocations whose runner returned and whose
// AsyncDelay has passed on the emulator clock.
func (s *Server) advanceCommands(now time.Time) {
	log := &s.commands
	log.running = slices.DeleteFunc(log.running, func(r *invocationResult) bool {
		if !r.done || now.Before(r.due) {
			return false
		}
		r.finished = s.cloud.stamp()
		switch {
		case r.errorCode != "":
			// Decided at RunCommand time (InstanceNotRunning).
		case r.timedOut:
			r.status, r.record, r.errorCode = "Timeout", "Failed", "ExecutionTimeout"
			r.errorInfo = "the command ran longer than its Timeout"
		case r.runErr != nil:
			r.status, r.record, r.errorCode = "Error", "Failed", "ClientNotResponse"
			r.errorInfo = r.runErr.Error()
		case r.res.ExitCode != 0:
			r.status, r.record, r.errorCode = "Failed", "Finished", "ExitCodeNonzero"
			r.errorInfo = "the command exited with a non-zero code"
		default:
			r.status, r.record = "Success", "Finished"
		}
		return true
	})
}

type runCommandResponse struct {
	RequestId string `json:"RequestId"`
	CommandId string `json:"CommandId"`
	InvokeId  string `json:"InvokeId"`
}

func (r runCommandResponse) replay(id string) any { r.RequestId = id; return r }

var commandTypes = map[string]string{"RunShellScript": "linux", "RunPowerShellScript": "windows", "RunBatScript": "windows"}

// RunCommand records an invocation per instance and runs it through
// Options.Runner (ecs-api.md §2.12). An instance that is not Running gets a
// failed invocation with ErrorCode InstanceNotRunning, the code the
// invocation results document.
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
		return nil, errInvalid("Type", "not RunShellScript, RunPowerShellScript or RunBatScript")
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
	ids, err := p.list("InstanceId", 50)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, errMissing("InstanceId.1")
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
		// The documentation does not say how a script type that does not
		// suit the OS fails; refusing the call is the strict choice.
		if in.osType != osType {
			return nil, errInvalid("Type", typ+" does not run on "+in.osType+" instance "+id)
		}
	}

	inv := &invocation{
		commandID: c.gen.id("c-", "", func(id string) bool { return false }),
		invokeID:  c.gen.id("t-", "", func(id string) bool { return s.commands.byID[id] != nil }),
	}
	if s.commands.byID == nil {
		s.commands.byID = map[string]*invocation{}
	}
	s.commands.byID[inv.invokeID] = inv
	start := c.stamp()
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
		switch {
		case in.status != "Running":
			r.done = true
			r.status, r.record, r.errorCode = "Failed", "Failed", "InstanceNotRunning"
			r.errorInfo = "the instance is " + in.status
		case s.runner == nil:
			r.done = true
		default:
			cmd := Command{InvokeId: inv.invokeID, CommandId: inv.commandID, InstanceId: id, Type: typ,
				Content: content, WorkingDir: p.get("WorkingDir"), Username: user,
				Timeout: time.Duration(timeout) * time.Second}
			go s.run(r, cmd)
		}
	}
	q.changed = true
	resp := runCommandResponse{RequestId: q.requestID, CommandId: inv.commandID, InvokeId: inv.invokeID}
	s.remember(q, resp)
	return resp, nil
}

// run executes one command outside the lock and records what came back.
func (s *Server) run(r *invocationResult, cmd Command) {
	ctx, cancel := context.WithTimeout(context.Background(), cmd.Timeout)
	defer cancel()
	res, err := s.runner(ctx, cmd)
	s.mu.Lock()
	defer s.mu.Unlock()
	r.done, r.res, r.runErr = true, res, err
	r.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
}

type invocationResultItem struct {
	InvokeId           string `json:"InvokeId"`
	CommandId          string `json:"CommandId"`
	InstanceId         string `json:"InstanceId"`
	InvocationStatus   string `json:"InvocationStatus"`
	InvokeRecordStatus string `json:"InvokeRecordStatus"`
	ExitCode           int64  `json:"ExitCode"`
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
			(instID == "" || r.instanceID == instID) && (record == "" || r.record == record)
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
			InvocationStatus: r.status, InvokeRecordStatus: r.record, ErrorCode: r.errorCode, ErrorInfo: r.errorInfo,
			StartTime: r.start, FinishedTime: r.finished, Repeats: 1, Username: r.username}
		if r.finished != "" {
			it.ExitCode = int64(r.res.ExitCode)
			o := r.res.Output
			it.Dropped = r.res.Dropped
			if len(o) > maxOutput {
				it.Dropped += len(o) - maxOutput
				o = o[len(o)-maxOutput:]
			}
			if plain {
				it.Output = string(o)
			} else {
				it.Output = base64.StdEncoding.EncodeToString(o)
			}
		}
		out.InvocationResults.InvocationResult[i] = it
	}
	return resp, nil
}
