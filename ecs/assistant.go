package ecs

import (
	"context"
	"fmt"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

const actDescribeAgents = "DescribeCloudAssistantStatus"

// AgentStatus reports, for each instance ID given, whether its Cloud
// Assistant agent is up: DescribeCloudAssistantStatus's
// CloudAssistantStatus "true", which the cloud sets while the agent sent
// a heartbeat in the last two minutes
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describecloudassistantstatus).
// It is false for an instance that is not Running, and for an agent that
// is not installed or not running. A hung agent keeps its heartbeat and
// reads true: only a command's timeout reveals it. An instance the cloud
// does not list is absent from the map. It makes one call per 50
// instances.
func (c *Client) AgentStatus(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	for rest := ids; len(rest) > 0; {
		chunk := rest[:min(len(rest), instancesPerCall)]
		rest = rest[len(chunk):]
		token := ""
		for {
			var resp *ecssdk.DescribeCloudAssistantStatusResponse
			err := c.run(ctx, actDescribeAgents, func(cn *conn) error {
				req := ecssdk.CreateDescribeCloudAssistantStatusRequest()
				ids := append([]string(nil), chunk...)
				req.InstanceId = &ids
				req.MaxResults = requests.NewInteger(instancesPerCall)
				req.NextToken = token
				var err error
				resp, err = cn.ecs.DescribeCloudAssistantStatus(req)
				return err
			}, nil)
			if err != nil {
				return nil, fmt.Errorf("ecs DescribeCloudAssistantStatus: %w", err)
			}
			page := resp.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus
			for _, s := range page {
				out[s.InstanceId] = s.CloudAssistantStatus == "true"
			}
			if resp.NextToken == "" || resp.NextToken == token || len(page) == 0 {
				break
			}
			token = resp.NextToken
		}
	}
	return out, nil
}
