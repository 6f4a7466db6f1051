package ecs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// Cloud Assistant command types.
const (
	RunShellScript      = "RunShellScript"
	RunPowerShellScript = "RunPowerShellScript"
	RunBatScript        = "RunBatScript"
)

// RunCommandInput is a script to run on instances with Cloud Assistant.
type RunCommandInput struct {
	Type        string        // RunShellScript, RunPowerShellScript or RunBatScript
	Content     []byte        // the script; sent Base64-encoded, at most 16 KiB encoded
	Timeout     time.Duration // 0: the API's default of 60 s
	InstanceIDs []string      // 1 to 50
	Name        string
	// ClientToken is required and sent unchanged on every retry, so a
	// retried call never runs the script twice.
	ClientToken string
}

// Invocation identifies one RunCommand call.
type Invocation struct {
	CommandID string
	InvokeID  string
}

// maxCommandContent is RunCommand's limit on CommandContent after Base64
// encoding (ecs-api.md §2.12).
const maxCommandContent = 16 << 10

// RunCommand starts a script on up to 50 instances. It does not chunk a
// longer list itself: each call needs a ClientToken of its own, which the
// caller derives.
func (c *Client) RunCommand(ctx context.Context, in RunCommandInput) (Invocation, error) {
	if err := checkToken(actRunCommand, in.ClientToken); err != nil {
		return Invocation{}, err
	}
	content := base64.StdEncoding.EncodeToString(in.Content)
	switch {
	case in.Type != RunShellScript && in.Type != RunPowerShellScript && in.Type != RunBatScript:
		return Invocation{}, fmt.Errorf("ecs RunCommand: type %q is not RunShellScript, RunPowerShellScript or RunBatScript", in.Type)
	case len(in.InstanceIDs) == 0 || len(in.InstanceIDs) > instancesPerCall:
		return Invocation{}, fmt.Errorf("ecs RunCommand: %d instances, the API takes 1 to %d", len(in.InstanceIDs), instancesPerCall)
	case len(content) > maxCommandContent:
		return Invocation{}, fmt.Errorf("ecs RunCommand: the script is %d bytes Base64-encoded, the API takes at most %d", len(content), maxCommandContent)
	case in.Timeout < 0 || (in.Timeout > 0 && in.Timeout < time.Second):
		return Invocation{}, fmt.Errorf("ecs RunCommand: timeout %s is not a whole number of seconds above zero", in.Timeout)
	}
	var resp *ecssdk.RunCommandResponse
	err := c.run(ctx, actRunCommand, func(cn *conn) error {
		req := ecssdk.CreateRunCommandRequest()
		req.Type = in.Type
		req.ContentEncoding = "Base64"
		req.CommandContent = content
		req.InstanceId = ptr(slices.Clone(in.InstanceIDs))
		if in.Timeout > 0 {
			req.Timeout = requests.NewInteger(int(in.Timeout / time.Second))
		}
		req.Name = in.Name
		req.ClientToken = in.ClientToken
		var err error
		resp, err = cn.ecs.RunCommand(req)
		return err
	}, nil)
	if err != nil {
		return Invocation{}, err
	}
	if resp.InvokeId == "" {
		return Invocation{}, &TransportError{Action: actRunCommand, Kind: KindResponse, Msg: "the answer names no InvokeId"}
	}
	return Invocation{CommandID: resp.CommandId, InvokeID: resp.InvokeId}, nil
}

// InvocationResult is one instance's outcome of a RunCommand call.
type InvocationResult struct {
	InstanceID         string
	InvocationStatus   string // Pending, Running, Success, Failed, Timeout, …
	InvokeRecordStatus string // Running, Finished, Failed, Stopped
	ExitCode           int64
	Output             string // plain text, truncated by the cloud at 24 KiB
	Dropped            int    // bytes of output the cloud cut
	ErrorCode          string // e.g. InstanceNotRunning, ClientNotResponse
	ErrorInfo          string
}

// Finished reports whether the instance's run has ended, well or not.
func (r InvocationResult) Finished() bool {
	switch r.InvocationStatus {
	case "Pending", "Running", "Stopping", "Scheduled", "":
		return false
	}
	return true
}

// DescribeInvocationResults returns every instance's result of an
// invocation, sorted by instance ID, with output as plain text. It pages
// with NextToken, 50 results a call.
func (c *Client) DescribeInvocationResults(ctx context.Context, invokeID string) ([]InvocationResult, error) {
	if invokeID == "" {
		return nil, errors.New("ecs DescribeInvocationResults: no InvokeId")
	}
	var out []InvocationResult
	token := ""
	for {
		var resp *ecssdk.DescribeInvocationResultsResponse
		err := c.run(ctx, actDescribeInvocations, func(cn *conn) error {
			req := ecssdk.CreateDescribeInvocationResultsRequest()
			req.InvokeId = invokeID
			// Output is Base64 unless asked otherwise (ecs-api.md §2.12).
			req.ContentEncoding = "PlainText"
			req.MaxResults = requests.NewInteger(instancesPerCall)
			req.NextToken = token
			var err error
			resp, err = cn.ecs.DescribeInvocationResults(req)
			return err
		}, nil)
		if err != nil {
			return nil, err
		}
		page := resp.Invocation.InvocationResults.InvocationResult
		for _, r := range page {
			out = append(out, InvocationResult{
				InstanceID:         r.InstanceId,
				InvocationStatus:   r.InvocationStatus,
				InvokeRecordStatus: r.InvokeRecordStatus,
				ExitCode:           r.ExitCode,
				Output:             r.Output,
				Dropped:            r.Dropped,
				ErrorCode:          r.ErrorCode,
				ErrorInfo:          r.ErrorInfo,
			})
		}
		next := resp.Invocation.NextToken
		if next == "" || next == token || len(page) == 0 {
			break
		}
		token = next
	}
	slices.SortFunc(out, func(a, b InvocationResult) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	return out, nil
}
