package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// World is a cloud as the emulator starts it: one region, its VPCs,
// vSwitches, security groups, instances and secondary ENIs, the access keys
// that may call it, and the account's quotas. The JSON form uses the API's
// own field names, so a world can be written by copying values out of real
// Describe responses.
//
// A world is taken as observed: quotas limit only the changes made through
// the API, never what the file already holds.
type World struct {
	RegionId          string             `json:"RegionId"`
	Seed              int64              `json:"Seed,omitempty"`
	AccessKeys        []AccessKey        `json:"AccessKeys,omitempty"`
	Quotas            Quotas             `json:"Quotas,omitzero"`
	InstanceTypes     []InstanceType     `json:"InstanceTypes,omitempty"`
	Vpcs              []Vpc              `json:"Vpcs"`
	VSwitches         []VSwitch          `json:"VSwitches"`
	SecurityGroups    []SecurityGroup    `json:"SecurityGroups"`
	Instances         []Instance         `json:"Instances"`
	NetworkInterfaces []NetworkInterface `json:"NetworkInterfaces"`
	// PreviewFields shows the API's invitational-preview fields
	// (DefaultPreviewFields when left out; see account.go).
	PreviewFields *bool `json:"PreviewFields,omitempty"`
	// Timing and Faults are not API fields: how long the emulator's
	// asynchronous work takes and which faults it injects (timing.go,
	// faults.go). Options override them.
	Timing *Timing `json:"Timing,omitempty"`
	Faults *Faults `json:"Faults,omitempty"`
}

// AccessKey is a credential the emulator accepts. When SecurityToken is set
// the key behaves as an STS credential: every request must carry the same
// token.
type AccessKey struct {
	AccessKeyId     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken,omitempty"`
}

// Quotas are the account limits the emulator enforces on changes. A zero
// field takes its default (see the Default constants).
type Quotas struct {
	// MaxNetworkInterfaces caps the secondary ENIs of the account in the
	// region (CreateNetworkInterface answers MaxEniCountExceeded). Primary
	// ENIs come with their instances and do not count.
	MaxNetworkInterfaces int `json:"MaxNetworkInterfaces,omitempty"`
	// UnboundEniMaxSecondaryIps caps the secondary addresses of an ENI
	// that is not attached.
	UnboundEniMaxSecondaryIps int `json:"UnboundEniMaxSecondaryIps,omitempty"`
	// SecurityGroupMaxIps caps the private addresses of all ENIs in one
	// basic security group.
	SecurityGroupMaxIps int `json:"SecurityGroupMaxIps,omitempty"`
	// CreateMaxSecondaryIps caps PrivateIpAddress.N and
	// SecondaryPrivateIpAddressCount of CreateNetworkInterface.
	CreateMaxSecondaryIps int `json:"CreateMaxSecondaryIps,omitempty"`
	// MaxSecurityGroupsPerEni caps the security groups one ENI joins.
	MaxSecurityGroupsPerEni int `json:"MaxSecurityGroupsPerEni,omitempty"`
}

// Default quotas (ecs-api.md §2.2, §4). The unbound-ENI and create caps
// follow the current API reference, 49 secondary addresses on an Available
// ENI and at CreateNetworkInterface (api-ecs-2014-05-26-assignprivateipaddresses,
// api-ecs-2014-05-26-createnetworkinterface), as ecsnet's validator does
// (schema.DefaultUnboundENIMaxSecondaryIPs); the 2021 documentation and the
// user guide said 10, which a world sets in Quotas to rehearse such an
// account (§8).
const (
	DefaultMaxNetworkInterfaces      = 100
	DefaultUnboundEniMaxSecondaryIps = 49
	DefaultSecurityGroupMaxIps       = 2000
	DefaultCreateMaxSecondaryIps     = 49
	DefaultMaxSecurityGroupsPerEni   = 5
)

// withDefaults returns q with every zero field set to its default.
func (q Quotas) withDefaults() Quotas {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&q.MaxNetworkInterfaces, DefaultMaxNetworkInterfaces)
	def(&q.UnboundEniMaxSecondaryIps, DefaultUnboundEniMaxSecondaryIps)
	def(&q.SecurityGroupMaxIps, DefaultSecurityGroupMaxIps)
	def(&q.CreateMaxSecondaryIps, DefaultCreateMaxSecondaryIps)
	def(&q.MaxSecurityGroupsPerEni, DefaultMaxSecurityGroupsPerEni)
	return q
}

// InstanceType overrides or adds a row of the built-in instance type table
// (schema.BuiltinInstanceType). In an override, zero fields keep the
// built-in value.
type InstanceType struct {
	InstanceTypeId              string  `json:"InstanceTypeId"`
	EniQuantity                 int     `json:"EniQuantity,omitempty"`
	EniPrivateIpAddressQuantity int     `json:"EniPrivateIpAddressQuantity,omitempty"`
	AttachNeedsStopped          bool    `json:"AttachNeedsStopped,omitempty"`
	CpuCoreCount                int     `json:"CpuCoreCount,omitempty"`
	MemorySize                  float64 `json:"MemorySize,omitempty"` // GiB
	// EniIpv6AddressQuantity, NetworkCardQuantity and
	// MaximumQueueNumberPerEni are DescribeInstanceTypes' columns for
	// IPv6 addresses per ENI, network cards and queues per ENI.
	EniIpv6AddressQuantity   int `json:"EniIpv6AddressQuantity,omitempty"`
	NetworkCardQuantity      int `json:"NetworkCardQuantity,omitempty"`
	MaximumQueueNumberPerEni int `json:"MaximumQueueNumberPerEni,omitempty"`
}

// Vpc is a virtual private cloud.
type Vpc struct {
	VpcId     string `json:"VpcId"`
	VpcName   string `json:"VpcName,omitempty"`
	CidrBlock string `json:"CidrBlock"`
}

// VSwitch is a vSwitch: an IPv4 block of a VPC in one zone, and
// optionally an IPv6 /64.
type VSwitch struct {
	VSwitchId     string `json:"VSwitchId"`
	VSwitchName   string `json:"VSwitchName,omitempty"`
	VpcId         string `json:"VpcId"`
	ZoneId        string `json:"ZoneId"`
	CidrBlock     string `json:"CidrBlock"`
	Ipv6CidrBlock string `json:"Ipv6CidrBlock,omitempty"`
}

// SecurityGroup is a basic security group of a VPC.
type SecurityGroup struct {
	SecurityGroupId   string `json:"SecurityGroupId"`
	SecurityGroupName string `json:"SecurityGroupName,omitempty"`
	VpcId             string `json:"VpcId"`
}

// Instance is an ECS instance with its primary ENI. NetworkInterfaceId,
// MacAddress and PrivateIpAddress may be left out: the emulator then derives
// them from the seed. ZoneId, when given, must be the vSwitch's zone.
type Instance struct {
	InstanceId                  string   `json:"InstanceId"`
	InstanceName                string   `json:"InstanceName,omitempty"`
	InstanceType                string   `json:"InstanceType"`
	Status                      string   `json:"Status,omitempty"` // default Running
	OSType                      string   `json:"OSType,omitempty"` // linux (default) or windows
	OSName                      string   `json:"OSName,omitempty"`
	ZoneId                      string   `json:"ZoneId,omitempty"`
	VSwitchId                   string   `json:"VSwitchId"`
	PrivateIpAddress            string   `json:"PrivateIpAddress,omitempty"`
	NetworkInterfaceId          string   `json:"NetworkInterfaceId,omitempty"`
	MacAddress                  string   `json:"MacAddress,omitempty"`
	SecurityGroupIds            []string `json:"SecurityGroupIds"`
	SecondaryPrivateIpAddresses []string `json:"SecondaryPrivateIpAddresses,omitempty"`
	// Ipv6Addresses and Ipv4Prefixes (/28s) are the primary ENI's.
	Ipv6Addresses []string `json:"Ipv6Addresses,omitempty"`
	Ipv4Prefixes  []string `json:"Ipv4Prefixes,omitempty"`
	// EcsnetOS and EcsnetNetwork are not API fields: they say what the
	// guest runs, as the desired state's os and network fields name it,
	// for hosts mode. Left out, the OS is guessed from OSName and the
	// network stack is the OS's default.
	EcsnetOS      string `json:"EcsnetOS,omitempty"`
	EcsnetNetwork string `json:"EcsnetNetwork,omitempty"`
	// EcsnetAgent is not an API field either: the state of the
	// instance's Cloud Assistant agent (Running when left out, or
	// NotInstalled, Stopped, Hung; see account.go).
	EcsnetAgent string `json:"EcsnetAgent,omitempty"`
}

// NetworkInterface is a secondary ENI that already exists. Status defaults
// to InUse when InstanceId is set and Available otherwise; a transitional
// status (Attaching, Detaching, Deleting) completes its duration (Timing,
// or AsyncDelay) after the server starts. DeviceIndex defaults to the
// lowest free index.
type NetworkInterface struct {
	NetworkInterfaceId          string   `json:"NetworkInterfaceId,omitempty"`
	NetworkInterfaceName        string   `json:"NetworkInterfaceName,omitempty"`
	Description                 string   `json:"Description,omitempty"`
	VSwitchId                   string   `json:"VSwitchId"`
	SecurityGroupIds            []string `json:"SecurityGroupIds"`
	PrivateIpAddress            string   `json:"PrivateIpAddress,omitempty"`
	SecondaryPrivateIpAddresses []string `json:"SecondaryPrivateIpAddresses,omitempty"`
	MacAddress                  string   `json:"MacAddress,omitempty"`
	Status                      string   `json:"Status,omitempty"`
	InstanceId                  string   `json:"InstanceId,omitempty"`
	DeviceIndex                 int      `json:"DeviceIndex,omitempty"`
	Tags                        []Tag    `json:"Tags,omitempty"`
	Ipv6Addresses               []string `json:"Ipv6Addresses,omitempty"`
	Ipv4Prefixes                []string `json:"Ipv4Prefixes,omitempty"` // /28s
	// NetworkCardIndex is the attachment's network card (needs
	// InstanceId; below the type's NetworkCardQuantity). QueueNumber is
	// the ENI's queues, 1-2048; 0 leaves it unset.
	NetworkCardIndex int `json:"NetworkCardIndex,omitempty"`
	QueueNumber      int `json:"QueueNumber,omitempty"`
}

// Tag is a resource tag, with the key names DescribeNetworkInterfaces uses.
type Tag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// ReadWorld decodes a world file strictly: unknown keys, trailing data,
// duplicate IDs, dangling references and addresses that cannot exist in
// their vSwitch are errors that name the offending entry.
func ReadWorld(r io.Reader) (*World, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read world: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w World
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("world: %s", describeJSONError(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("world: unexpected data after the top-level object")
	}
	if err := w.check(); err != nil {
		return nil, err
	}
	return &w, nil
}

var unknownFieldRE = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// describeJSONError adds a line:column to a decoding error where the
// decoder knows (or the text reveals) where it happened.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s: %v", lineCol(data, syn.Offset), err)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: field %s: cannot use JSON %s as %s", lineCol(data, typ.Offset), typ.Field, typ.Value, typ.Type)
	}
	if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
		at := bytes.Index(data, []byte(`"`+m[1]+`"`))
		if at >= 0 {
			return fmt.Sprintf("%s: unknown key %q", lineCol(data, int64(at)+1), m[1])
		}
		return fmt.Sprintf("unknown key %q", m[1])
	}
	return err.Error()
}

func lineCol(data []byte, off int64) string {
	off = min(off, int64(len(data)))
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%d:%d", line, col)
}

// check validates the world's structure. Every message names the entry so
// that a user can find it in the file.
func (w *World) check() error {
	if _, err := build(w, 0); err != nil {
		return err
	}
	if err := w.checkClock(); err != nil {
		return fmt.Errorf("world: %w", err)
	}
	return w.checkAccount()
}

// worldErrors collects validation failures so that one run reports them
// all.
type worldErrors []string

func (e *worldErrors) add(format string, args ...any) {
	*e = append(*e, fmt.Sprintf(format, args...))
}

func (e worldErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return errors.New("world: " + strings.Join(e, "\nworld: "))
}

// clone returns a deep copy of w.
func (w *World) clone() *World {
	c := *w
	c.AccessKeys = slices.Clone(w.AccessKeys)
	c.InstanceTypes = slices.Clone(w.InstanceTypes)
	c.Vpcs = slices.Clone(w.Vpcs)
	c.VSwitches = slices.Clone(w.VSwitches)
	c.SecurityGroups = slices.Clone(w.SecurityGroups)
	c.Instances = slices.Clone(w.Instances)
	for i := range c.Instances {
		in := &c.Instances[i]
		in.SecurityGroupIds = slices.Clone(in.SecurityGroupIds)
		in.SecondaryPrivateIpAddresses = slices.Clone(in.SecondaryPrivateIpAddresses)
		in.Ipv6Addresses = slices.Clone(in.Ipv6Addresses)
		in.Ipv4Prefixes = slices.Clone(in.Ipv4Prefixes)
	}
	c.NetworkInterfaces = slices.Clone(w.NetworkInterfaces)
	for i := range c.NetworkInterfaces {
		n := &c.NetworkInterfaces[i]
		n.SecurityGroupIds = slices.Clone(n.SecurityGroupIds)
		n.SecondaryPrivateIpAddresses = slices.Clone(n.SecondaryPrivateIpAddresses)
		n.Tags = slices.Clone(n.Tags)
		n.Ipv6Addresses = slices.Clone(n.Ipv6Addresses)
		n.Ipv4Prefixes = slices.Clone(n.Ipv4Prefixes)
	}
	return &c
}
