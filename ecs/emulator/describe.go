package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
)

// paging is how a Describe call asked for its page. The APIs have two
// modes (ecs-api.md §2.1, §2.8): PageNumber/PageSize, and
// NextToken/MaxResults, which wins when either is present.
type paging struct {
	token      bool
	after      string // token mode: the last ID of the previous page
	pageNumber int
	pageSize   int
	maxResults int
}

// readPaging parses the paging parameters of an action. A zero maxPage
// means the action has no page mode; a zero maxResults, no token mode.
func readPaging(p params, defPage, maxPage, defResults, maxResults int) (paging, *apiError) {
	var pg paging
	var err *apiError
	if maxResults > 0 && (p.has("NextToken") || p.has("MaxResults")) {
		pg.token = true
		if pg.maxResults, err = p.integer("MaxResults", defResults, 1, maxResults); err != nil {
			return pg, err
		}
		if t := p.get("NextToken"); t != "" {
			after, ok := parseToken(t)
			if !ok {
				return pg, errInvalid("NextToken", "not a token this API returned")
			}
			pg.after = after
		}
		return pg, nil
	}
	if maxPage == 0 {
		pg.token = true
		pg.maxResults = defResults
		return pg, nil
	}
	if pg.pageNumber, err = p.integer("PageNumber", 1, 1, 1<<30); err != nil {
		return pg, err
	}
	if pg.pageSize, err = p.integer("PageSize", defPage, 1, maxPage); err != nil {
		return pg, err
	}
	return pg, nil
}

// Tokens. The real NextToken is opaque standard Base64 whose values carry
// '+', '/' and '=' (ecs-api.md §9), the characters a client that forgets
// to encode a query value, or decodes '+' as a space, gets wrong. The
// emulator's token is the standard Base64 of tokenMagic, the last ID
// returned and zero padding: tokenMagic makes every token start "+/+/",
// and the padding makes the length 1 more than a multiple of 3, so every
// token ends in "==". Encoding the last ID (not an offset) keeps a page
// boundary across concurrent creates and deletes.
var tokenMagic = []byte{0xfb, 0xff, 0xbf}

func nextToken(lastID string) string {
	if lastID == "" {
		return ""
	}
	b := append(append(make([]byte, 0, len(tokenMagic)+len(lastID)+2), tokenMagic...), lastID...)
	for len(b)%3 != 1 {
		b = append(b, 0)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// parseToken returns the last ID a token carries. A token that a client
// mangled (a '+' turned into a space, say) does not decode.
func parseToken(t string) (string, bool) {
	b, err := base64.StdEncoding.Strict().DecodeString(t)
	if err != nil || !bytes.HasPrefix(b, tokenMagic) {
		return "", false
	}
	id := strings.TrimRight(string(b[len(tokenMagic):]), "\x00")
	return id, id != ""
}

// paginate selects one page of the candidates (sorted by key) that match.
// limit > 0 makes only the first limit matches visible, as the tag filter
// of DescribeNetworkInterfaces does. It returns the page, the visible
// total (page mode only: TotalCount is not given in token mode, so it is
// not counted there, and total is -1), and the next token, "" on the last
// page. Page mode answers a token too, as the API does (ecs-api.md §9):
// aliyun --pager follows it. A nil match takes every candidate, and then a
// page costs O(log n) plus its own size; a filtered page in token mode
// costs the scan to its end.
func paginate[T any](cands []T, key func(T) string, match func(T) bool, pg paging, limit int) (page []T, total int, next string) {
	// after returns the index of the first candidate past the token.
	after := func(s []T) int {
		if pg.after == "" {
			return 0
		}
		i, found := slices.BinarySearchFunc(s, pg.after, func(x T, k string) int { return strings.Compare(key(x), k) })
		if found {
			i++
		}
		return i
	}
	// cut takes the page out of the visible candidates.
	cut := func(visible []T) ([]T, int, string) {
		start, size, total := 0, pg.maxResults, -1
		if pg.token {
			start = after(visible)
		} else {
			start, size, total = min((pg.pageNumber-1)*pg.pageSize, len(visible)), pg.pageSize, len(visible)
		}
		end := min(start+size, len(visible))
		page := visible[start:end:end]
		next := ""
		if end < len(visible) && len(page) > 0 {
			next = nextToken(key(page[len(page)-1]))
		}
		return page, total, next
	}
	if match == nil && limit == 0 {
		return cut(cands)
	}
	if match == nil {
		match = func(T) bool { return true }
	}
	if limit == 0 && pg.token {
		// The common filtered case: no allocation but the page itself.
		for _, x := range cands[after(cands):] {
			if !match(x) {
				continue
			}
			if len(page) == pg.maxResults {
				return page, -1, nextToken(key(page[len(page)-1]))
			}
			page = append(page, x)
		}
		return page, -1, ""
	}
	var visible []T
	for _, x := range cands {
		if limit > 0 && len(visible) == limit {
			break
		}
		if match(x) {
			visible = append(visible, x)
		}
	}
	return cut(visible)
}

// totalCount is the TotalCount of a response: the count in page mode,
// absent in token mode, where the API documents it as invalid
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describenetworkinterfaces:
// with MaxResults or NextToken, PageNumber and PageSize do not take
// effect and TotalCount is invalid). Leaving it out, rather than answering a number,
// makes a client that loops on it stop at once where it would have gone
// wrong in the cloud.
func totalCount(pg paging, total int) *int {
	if pg.token {
		return nil
	}
	return &total
}

// existing returns the values of m named by ids, sorted by ID and
// deduplicated.
func existing[T keyed](ids []string, m map[string]T) []T {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		if x, ok := m[id]; ok {
			out = append(out, x)
		}
	}
	return out
}

func keyOf[T keyed](x T) string { return x.key() }

func self(s string) string { return s }

// rejectDryRun refuses DryRun=true, which the emulator does not model.
func rejectDryRun(p params) *apiError {
	if dry, err := p.boolean("DryRun"); err != nil || dry {
		return errUnsupported("DryRun", "the emulator does not model dry runs")
	}
	return nil
}

// DescribeNetworkInterfaces (ecs-api.md §2.1).

type eniItem struct {
	NetworkInterfaceId   string           `json:"NetworkInterfaceId"`
	NetworkInterfaceName string           `json:"NetworkInterfaceName"`
	Description          string           `json:"Description"`
	Status               string           `json:"Status"`
	Type                 string           `json:"Type"`
	InstanceId           string           `json:"InstanceId"`
	VpcId                string           `json:"VpcId"`
	VSwitchId            string           `json:"VSwitchId"`
	ZoneId               string           `json:"ZoneId"`
	PrivateIpAddress     string           `json:"PrivateIpAddress"`
	MacAddress           string           `json:"MacAddress"`
	CreationTime         string           `json:"CreationTime"`
	ServiceManaged       bool             `json:"ServiceManaged"`
	SecurityGroupIds     securityGroupIDs `json:"SecurityGroupIds"`
	PrivateIpSets        privateIPSets    `json:"PrivateIpSets"`
	Tags                 tagSet           `json:"Tags"`
	Attachment           *attachment      `json:"Attachment,omitempty"`
	// Ipv6Sets and Ipv4PrefixSets are left out when empty (ipv6.go);
	// QueueNumber is shown when one was set (CreateNetworkInterface or
	// ModifyNetworkInterfaceAttribute): the emulator does not know the
	// type's default (SecondaryEniQueueNumber).
	Ipv6Sets       *ipv6Sets   `json:"Ipv6Sets,omitempty"`
	Ipv4PrefixSets *prefixSets `json:"Ipv4PrefixSets,omitempty"`
	QueueNumber    int         `json:"QueueNumber,omitempty"`
}

// attachment is present while the ENI is bound (Attaching, InUse,
// Detaching), and only for an account that sees the preview fields
// (account.go); DeviceIndex 0 is the primary ENI.
type attachment struct {
	InstanceId       string `json:"InstanceId"`
	DeviceIndex      int    `json:"DeviceIndex"`
	NetworkCardIndex int    `json:"NetworkCardIndex"`
}

type describeENIsResponse struct {
	RequestId            string `json:"RequestId"`
	TotalCount           *int   `json:"TotalCount,omitempty"`
	PageNumber           int    `json:"PageNumber,omitempty"`
	PageSize             int    `json:"PageSize,omitempty"`
	NextToken            string `json:"NextToken"`
	NetworkInterfaceSets struct {
		NetworkInterfaceSet []eniItem `json:"NetworkInterfaceSet"`
	} `json:"NetworkInterfaceSets"`
}

func toENIItem(e *eni, preview bool) eniItem {
	it := eniItem{
		NetworkInterfaceId: e.id, NetworkInterfaceName: e.name, Description: e.desc, Status: e.status,
		Type: e.typ(), InstanceId: e.instanceID, VpcId: e.vpcID, VSwitchId: e.vsw, ZoneId: e.zone,
		PrivateIpAddress: e.ip.String(), MacAddress: e.mac, CreationTime: e.created,
		SecurityGroupIds: securityGroupIDs{slices.Clone(e.groups)}, PrivateIpSets: ipSets(e), Tags: tags(e),
		Ipv6Sets: ipv6SetsOf(e), Ipv4PrefixSets: prefixSetsOf(e), QueueNumber: e.queues,
	}
	if preview && e.bound() {
		it.Attachment = &attachment{InstanceId: e.instanceID, DeviceIndex: e.deviceIndex, NetworkCardIndex: e.networkCard}
	}
	return it
}

var eniStatuses = []string{"Creating", stAvailable, stAttaching, stInUse, stDetaching, stDeleting, "CreateFailed"}

// tagFilterLimit: a tag-filtered DescribeNetworkInterfaces returns at most
// 1,000 ENIs; ListTagResources is the way past it (ecs-api.md §2.1). The
// emulator caps TotalCount too, so a client cannot tell it missed some.
const tagFilterLimit = 1000

func describeNetworkInterfaces(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("ResourceGroupId"); err != nil {
		return nil, err
	}
	v6filter, err := p.addr6List("Ipv6Address", 100)
	if err != nil {
		return nil, err
	}
	pg, err := readPaging(p, 10, 100, 10, 500)
	if err != nil {
		return nil, err
	}
	ids, err := p.list("NetworkInterfaceId", 100)
	if err != nil {
		return nil, err
	}
	addrs, err := p.addrList("PrivateIpAddress", 100)
	if err != nil {
		return nil, err
	}
	tagFilter, err := p.tagParams("Tag", 20)
	if err != nil {
		return nil, err
	}
	status, typ := p.get("Status"), p.get("Type")
	if status != "" && !slices.Contains(eniStatuses, status) {
		return nil, errInvalid("Status", "not one of "+strings.Join(eniStatuses, ", "))
	}
	if typ != "" && !slices.Contains([]string{"Primary", "Secondary", "Trunk", "Member"}, typ) {
		return nil, errInvalid("Type", "not Primary, Secondary, Trunk or Member")
	}
	serviceManaged, err := p.boolean("ServiceManaged")
	if err != nil {
		return nil, err
	}
	var primaryIP netip.Addr
	if s := p.get("PrimaryIpAddress"); s != "" {
		if primaryIP, _ = netip.ParseAddr(s); !primaryIP.Is4() {
			return nil, errInvalid("PrimaryIpAddress", s+" is not an IPv4 address")
		}
	}
	instID, vpcID, vswID := p.get("InstanceId"), p.get("VpcId"), p.get("VSwitchId")
	group, name := p.get("SecurityGroupId"), p.get("NetworkInterfaceName")

	// Start from the narrowest index; when it is the only filter, every
	// candidate matches (the observe path: all ENIs of a VPC).
	indexed := 0
	for _, set := range []bool{len(ids) > 0, instID != "", vswID != "", vpcID != ""} {
		if set {
			indexed++
		}
	}
	onlyIndex := indexed <= 1 && !serviceManaged && status == "" && typ == "" && group == "" && name == "" &&
		!primaryIP.IsValid() && len(addrs) == 0 && len(tagFilter) == 0 && len(v6filter) == 0
	var cands []*eni
	switch {
	case len(ids) > 0:
		cands = existing(ids, c.enis)
	case instID != "":
		if in := c.instances[instID]; in != nil {
			cands = in.enis
		}
	case vswID != "":
		if v := c.vswitches[vswID]; v != nil {
			cands = v.enis
		}
	case vpcID != "":
		if v := c.vpcs[vpcID]; v != nil {
			cands = v.enis
		}
	default:
		cands = c.eniList
	}
	match := func(e *eni) bool {
		switch {
		case serviceManaged, // no ENI of the emulator is service-managed
			instID != "" && e.instanceID != instID,
			vpcID != "" && e.vpcID != vpcID,
			vswID != "" && e.vsw != vswID,
			status != "" && e.status != status,
			typ != "" && e.typ() != typ,
			group != "" && !slices.Contains(e.groups, group),
			name != "" && e.name != name,
			primaryIP.IsValid() && e.ip != primaryIP:
			return false
		}
		if len(addrs) > 0 && !slices.ContainsFunc(addrs, e.hasAddr) {
			return false
		}
		if len(v6filter) > 0 && !slices.ContainsFunc(v6filter, e.hasIPv6) {
			return false
		}
		for _, t := range tagFilter {
			i := slices.IndexFunc(e.tags, func(x Tag) bool { return x.TagKey == t.TagKey })
			if i < 0 || (t.TagValue != "" && e.tags[i].TagValue != t.TagValue) {
				return false
			}
		}
		return true
	}
	limit := 0
	if len(tagFilter) > 0 {
		limit = tagFilterLimit
	}
	if onlyIndex {
		match = nil
	}
	page, total, next := paginate(cands, keyOf, match, pg, limit)
	resp := describeENIsResponse{RequestId: q.requestID, TotalCount: totalCount(pg, total), NextToken: next}
	if !pg.token {
		resp.PageNumber, resp.PageSize = pg.pageNumber, pg.pageSize
	}
	resp.NetworkInterfaceSets.NetworkInterfaceSet = make([]eniItem, len(page))
	for i, e := range page {
		resp.NetworkInterfaceSets.NetworkInterfaceSet[i] = toENIItem(s.lagged(e, q.now), s.acct.preview) // lagged: timing.go
	}
	return resp, nil
}

// DescribeNetworkInterfaceAttribute
// (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-describenetworkinterfaceattribute):
// one ENI, the fields of DescribeNetworkInterfaces at the top level. Its
// Attachment (DeviceIndex with it) is the same invitational preview, shown
// only to an account that has it.

type eniAttributeResponse struct {
	RequestId string `json:"RequestId"`
	eniItem
	// Attachment shadows eniItem's: here NetworkCardIndex is for every
	// account, when the attach gave a card ("Network card index
	// overview", https://help.aliyun.com/en/ecs/user-guide/network-card-mapping;
	// the SDK model marks only DeviceIndex and InstanceId as a preview).
	Attachment any `json:"Attachment,omitempty"`
}

// cardAttachment is the Attachment an account without the preview gets.
type cardAttachment struct {
	NetworkCardIndex int `json:"NetworkCardIndex"`
}

func describeNetworkInterfaceAttribute(s *Server, q *call) (any, *apiError) {
	if err := q.p.rejectUnsupported("Attribute"); err != nil {
		return nil, err
	}
	id, err := q.p.required("NetworkInterfaceId")
	if err != nil {
		return nil, err
	}
	e := s.cloud.enis[id]
	if e == nil {
		return nil, errENINotFound(id)
	}
	r := eniAttributeResponse{RequestId: q.requestID, eniItem: toENIItem(e, s.acct.preview)}
	switch {
	case r.eniItem.Attachment != nil:
		r.Attachment = r.eniItem.Attachment
	case e.bound() && e.networkCard != 0:
		r.Attachment = cardAttachment{NetworkCardIndex: e.networkCard}
	}
	return r, nil
}

// DescribeInstances (ecs-api.md §2.8).

type instanceItem struct {
	InstanceId          string           `json:"InstanceId"`
	InstanceName        string           `json:"InstanceName"`
	InstanceType        string           `json:"InstanceType"`
	InstanceTypeFamily  string           `json:"InstanceTypeFamily"`
	Status              string           `json:"Status"`
	OSType              string           `json:"OSType"`
	OSName              string           `json:"OSName"`
	RegionId            string           `json:"RegionId"`
	ZoneId              string           `json:"ZoneId"`
	Cpu                 int              `json:"Cpu"`
	Memory              int              `json:"Memory"` // MiB, unlike DescribeInstanceTypes
	InstanceNetworkType string           `json:"InstanceNetworkType"`
	CreationTime        string           `json:"CreationTime"`
	VpcAttributes       vpcAttributes    `json:"VpcAttributes"`
	NetworkInterfaces   instanceENIs     `json:"NetworkInterfaces"`
	SecurityGroupIds    securityGroupIDs `json:"SecurityGroupIds"`
}

type vpcAttributes struct {
	VpcId            string `json:"VpcId"`
	VSwitchId        string `json:"VSwitchId"`
	NatIpAddress     string `json:"NatIpAddress"`
	PrivateIpAddress struct {
		IpAddress []string `json:"IpAddress"`
	} `json:"PrivateIpAddress"`
}

type instanceENIs struct {
	NetworkInterface []instanceENI `json:"NetworkInterface"`
}

type instanceENI struct {
	NetworkInterfaceId string        `json:"NetworkInterfaceId"`
	Type               string        `json:"Type"`
	PrimaryIpAddress   string        `json:"PrimaryIpAddress"`
	MacAddress         string        `json:"MacAddress"`
	PrivateIpSets      privateIPSets `json:"PrivateIpSets"`
	// The primary ENI's IPv6 addresses and prefixes, with
	// NETWORK_PRIMARY_ENI_IP only, like its secondary addresses
	// (ecs-api.md §2.8); left out when empty.
	Ipv6Sets       *ipv6Sets   `json:"Ipv6Sets,omitempty"`
	Ipv4PrefixSets *prefixSets `json:"Ipv4PrefixSets,omitempty"`
}

type describeInstancesResponse struct {
	RequestId  string `json:"RequestId"`
	TotalCount *int   `json:"TotalCount,omitempty"`
	PageNumber int    `json:"PageNumber,omitempty"`
	PageSize   int    `json:"PageSize,omitempty"`
	NextToken  string `json:"NextToken"`
	Instances  struct {
		Instance []instanceItem `json:"Instance"`
	} `json:"Instances"`
}

// jsonIDs parses the JSON-array parameters of DescribeInstances
// (InstanceIds, PrivateIpAddresses), at most 100 entries.
func jsonIDs(p params, name string) ([]string, *apiError) {
	s := p.get(name)
	if s == "" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, errInvalid(name, `not a JSON array of strings like ["i-1","i-2"]`)
	}
	if len(ids) > 100 {
		return nil, errInvalid(name, "at most 100 values are allowed")
	}
	return ids, nil
}

func describeInstances(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("Tag.", "Filter.", "ResourceGroupId", "ImageId", "InnerIpAddresses",
		"PublicIpAddresses", "EipAddresses", "RdmaIpAddresses", "Ipv6Address.", "KeyPairName", "HpcClusterId",
		"InstanceChargeType", "InternetChargeType", "LockReason", "DeviceAvailable", "IoOptimized",
		"HttpEndpoint", "HttpTokens", "HttpPutResponseHopLimit"); err != nil {
		return nil, err
	}
	if err := rejectDryRun(p); err != nil {
		return nil, err
	}
	pg, err := readPaging(p, 10, 100, 10, 100)
	if err != nil {
		return nil, err
	}
	ids, err := jsonIDs(p, "InstanceIds")
	if err != nil {
		return nil, err
	}
	ipStrs, err := jsonIDs(p, "PrivateIpAddresses")
	if err != nil {
		return nil, err
	}
	ips := make([]netip.Addr, len(ipStrs))
	for i, s := range ipStrs {
		a, perr := netip.ParseAddr(s)
		if perr != nil || !a.Is4() {
			return nil, errInvalid("PrivateIpAddresses", s+" is not an IPv4 address")
		}
		ips[i] = a
	}
	extra, err := p.list("AdditionalAttributes", 20)
	if err != nil {
		return nil, err
	}
	withPrimaryIPs := slices.Contains(extra, "NETWORK_PRIMARY_ENI_IP")
	status := p.get("Status")
	if status != "" && !slices.Contains(instanceStatuses, status) {
		return nil, errInvalid("Status", "not one of "+strings.Join(instanceStatuses, ", "))
	}
	name := p.get("InstanceName")
	if strings.Contains(name, "*") {
		return nil, errUnsupported("InstanceName", "the emulator matches names exactly, without * wildcards")
	}
	netType := p.get("InstanceNetworkType")
	vpcID, vswID, zone := p.get("VpcId"), p.get("VSwitchId"), p.get("ZoneId")
	typ, family, group := p.get("InstanceType"), p.get("InstanceTypeFamily"), p.get("SecurityGroupId")

	cands := c.instList
	if p.has("InstanceIds") {
		cands = existing(ids, c.instances)
	}
	match := func(in *instance) bool {
		pe := in.primary
		switch {
		case netType != "" && netType != "vpc",
			vpcID != "" && pe.vpcID != vpcID,
			vswID != "" && in.vsw != vswID,
			zone != "" && in.zone != zone,
			status != "" && in.status != status,
			typ != "" && in.typ != typ,
			family != "" && typeFamily(in.typ) != family,
			group != "" && !slices.Contains(pe.groups, group),
			name != "" && in.name != name,
			len(ips) > 0 && !slices.Contains(ips, pe.ip):
			return false
		}
		return true
	}
	page, total, next := paginate(cands, keyOf, match, pg, 0)
	resp := describeInstancesResponse{RequestId: q.requestID, TotalCount: totalCount(pg, total), NextToken: next}
	if !pg.token {
		resp.PageNumber, resp.PageSize = pg.pageNumber, pg.pageSize
	}
	resp.Instances.Instance = make([]instanceItem, len(page))
	for i, in := range page {
		resp.Instances.Instance[i] = s.instanceItem(in, withPrimaryIPs)
	}
	return resp, nil
}

// instanceItem lists the primary ENI and the attached (InUse) secondary
// ENIs by device index. Without AdditionalAttributes=NETWORK_PRIMARY_ENI_IP
// every ENI shows only its primary address, as the real API hides the
// primary ENI's secondary addresses then (ecs-api.md §2.8).
func (s *Server) instanceItem(in *instance, withPrimaryIPs bool) instanceItem {
	c := s.cloud
	pe := in.primary
	t, _ := c.instanceType(in.typ)
	it := instanceItem{
		InstanceId: in.id, InstanceName: in.name, InstanceType: in.typ, InstanceTypeFamily: typeFamily(in.typ),
		Status: in.status, OSType: in.osType, OSName: in.osName, RegionId: c.region, ZoneId: in.zone,
		Cpu: t.cpu, Memory: int(t.mem * 1024), InstanceNetworkType: "vpc", CreationTime: in.created,
		SecurityGroupIds: securityGroupIDs{slices.Clone(pe.groups)},
	}
	it.VpcAttributes.VpcId, it.VpcAttributes.VSwitchId = pe.vpcID, in.vsw
	it.VpcAttributes.PrivateIpAddress.IpAddress = []string{pe.ip.String()}
	var bound []*eni
	for _, e := range in.enis {
		if e.primary || e.status == stInUse {
			bound = append(bound, e)
		}
	}
	slices.SortFunc(bound, func(a, b *eni) int { return a.deviceIndex - b.deviceIndex })
	it.NetworkInterfaces.NetworkInterface = make([]instanceENI, len(bound))
	for i, e := range bound {
		n := instanceENI{NetworkInterfaceId: e.id, Type: e.typ(), PrimaryIpAddress: e.ip.String(), MacAddress: e.mac,
			PrivateIpSets: privateIPSets{PrivateIpSet: []privateIP{{e.ip.String(), true}}}}
		if e.primary && withPrimaryIPs {
			n.PrivateIpSets, n.Ipv6Sets, n.Ipv4PrefixSets = ipSets(e), ipv6SetsOf(e), prefixSetsOf(e)
		}
		it.NetworkInterfaces.NetworkInterface[i] = n
	}
	return it
}

// DescribeInstanceTypes (ecs-api.md §2.9).

type instanceTypeItem struct {
	InstanceTypeId              string  `json:"InstanceTypeId"`
	InstanceTypeFamily          string  `json:"InstanceTypeFamily"`
	CpuCoreCount                int     `json:"CpuCoreCount"`
	MemorySize                  float64 `json:"MemorySize"`
	EniQuantity                 int     `json:"EniQuantity"`
	EniPrivateIpAddressQuantity int     `json:"EniPrivateIpAddressQuantity"`
	EniTotalQuantity            int     `json:"EniTotalQuantity"`
	// IPv6, network cards and queues (the SDK's InstanceType:
	// EniIpv6AddressQuantity, NetworkCardQuantity, NetworkCards.NetworkCardInfo[].NetworkCardIndex,
	// MaximumQueueNumberPerEni). A type whose queue limit the emulator
	// does not know leaves MaximumQueueNumberPerEni out.
	EniIpv6AddressQuantity   int          `json:"EniIpv6AddressQuantity"`
	NetworkCardQuantity      int          `json:"NetworkCardQuantity"`
	NetworkCards             networkCards `json:"NetworkCards"`
	MaximumQueueNumberPerEni int          `json:"MaximumQueueNumberPerEni,omitempty"`
}

type networkCards struct {
	NetworkCardInfo []networkCardInfo `json:"NetworkCardInfo"`
}

type networkCardInfo struct {
	NetworkCardIndex int `json:"NetworkCardIndex"`
}

type describeTypesResponse struct {
	RequestId     string `json:"RequestId"`
	NextToken     string `json:"NextToken"`
	InstanceTypes struct {
		InstanceType []instanceTypeItem `json:"InstanceType"`
	} `json:"InstanceTypes"`
}

// maxTypesPerPage: the 2021 documentation does not bound MaxResults
// (ecs-api.md §8); current pages give 1-1600, default 1600, which is also
// what the emulator does, so an unpaged call gets every type.
const maxTypesPerPage = 1600

func describeInstanceTypes(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("Minimum*", "Maximum*", "InstanceTypeFamilies.", "CpuArchitecture",
		"CpuArchitectures.", "InstanceCategory", "InstanceCategories.", "GPUSpec", "GpuSpecs.", "LocalStorageCategory",
		"LocalStorageCategories.", "PhysicalProcessorModel", "PhysicalProcessorModels.", "NvmeSupport",
		"InstanceFamilyLevel", "SupportHotModify"); err != nil {
		return nil, err
	}
	pg, err := readPaging(p, 0, 0, maxTypesPerPage, maxTypesPerPage)
	if err != nil {
		return nil, err
	}
	want, err := p.list("InstanceTypes", 10)
	if err != nil {
		return nil, err
	}
	family := p.get("InstanceTypeFamily")
	all := make([]string, 0, len(c.types))
	for id := range c.types {
		all = append(all, id)
	}
	slices.Sort(all)
	match := func(id string) bool {
		return (len(want) == 0 || slices.Contains(want, id)) && (family == "" || typeFamily(id) == family)
	}
	page, _, next := paginate(all, self, match, pg, 0)
	resp := describeTypesResponse{RequestId: q.requestID, NextToken: next}
	resp.InstanceTypes.InstanceType = make([]instanceTypeItem, len(page))
	for i, id := range page {
		t := c.types[id]
		it := instanceTypeItem{InstanceTypeId: t.id, InstanceTypeFamily: typeFamily(t.id),
			CpuCoreCount: t.cpu, MemorySize: t.mem, EniQuantity: t.maxENIs, EniPrivateIpAddressQuantity: t.maxIPs,
			EniTotalQuantity: t.maxENIs, EniIpv6AddressQuantity: t.maxIPv6, NetworkCardQuantity: t.networkCards(),
			MaximumQueueNumberPerEni: t.maxQueues}
		it.NetworkCards.NetworkCardInfo = make([]networkCardInfo, t.networkCards())
		for n := range it.NetworkCards.NetworkCardInfo {
			it.NetworkCards.NetworkCardInfo[n].NetworkCardIndex = n
		}
		resp.InstanceTypes.InstanceType[i] = it
	}
	return resp, nil
}

// DescribeVSwitches, VPC 2016-04-28 (ecs-api.md §2.10).

type vswitchItem struct {
	VSwitchId               string `json:"VSwitchId"`
	VpcId                   string `json:"VpcId"`
	Status                  string `json:"Status"`
	CidrBlock               string `json:"CidrBlock"`
	ZoneId                  string `json:"ZoneId"`
	AvailableIpAddressCount int64  `json:"AvailableIpAddressCount"`
	VSwitchName             string `json:"VSwitchName"`
	Description             string `json:"Description"`
	IsDefault               bool   `json:"IsDefault"`
	CreationTime            string `json:"CreationTime"`
	// Ipv6CidrBlock is the vSwitch's IPv6 /64, left out when it has none
	// (the SDK's VSwitch.Ipv6CidrBlock, a string).
	Ipv6CidrBlock string `json:"Ipv6CidrBlock,omitempty"`
}

type describeVSwitchesResponse struct {
	RequestId  string `json:"RequestId"`
	TotalCount int    `json:"TotalCount"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	VSwitches  struct {
		VSwitch []vswitchItem `json:"VSwitch"`
	} `json:"VSwitches"`
}

func describeVSwitches(s *Server, q *call) (any, *apiError) {
	c, p := s.cloud, q.p
	if err := p.rejectUnsupported("Tag.", "RouteTableId", "ResourceGroupId"); err != nil {
		return nil, err
	}
	if err := rejectDryRun(p); err != nil {
		return nil, err
	}
	// EnableIpv6 filters: true lists the vSwitches with an IPv6 block,
	// false those without
	// (https://www.alibabacloud.com/help/en/vpc/developer-reference/api-vpc-2016-04-28-describevswitches).
	v6only, err := p.boolean("EnableIpv6")
	if err != nil {
		return nil, err
	}
	v6set := p.has("EnableIpv6")
	isDefault, err := p.boolean("IsDefault")
	if err != nil {
		return nil, err
	}
	pg, err := readPaging(p, 10, 50, 0, 0)
	if err != nil {
		return nil, err
	}
	vpcID, vswID, zone, name := p.get("VpcId"), p.get("VSwitchId"), p.get("ZoneId"), p.get("VSwitchName")
	match := func(id string) bool {
		v := c.vswitches[id]
		return !isDefault && (vpcID == "" || v.vpcID == vpcID) && (vswID == "" || v.id == vswID) &&
			(zone == "" || v.zone == zone) && (name == "" || v.name == name) && (!v6set || v.ipv6.IsValid() == v6only)
	}
	page, total, _ := paginate(c.vswIDs, self, match, pg, 0)
	resp := describeVSwitchesResponse{RequestId: q.requestID, TotalCount: total, PageNumber: pg.pageNumber, PageSize: pg.pageSize}
	resp.VSwitches.VSwitch = make([]vswitchItem, len(page))
	created := epoch.Format(timeLayout)
	for i, id := range page {
		v := c.vswitches[id]
		resp.VSwitches.VSwitch[i] = vswitchItem{VSwitchId: v.id, VpcId: v.vpcID, Status: "Available",
			CidrBlock: v.cidr.String(), ZoneId: v.zone, AvailableIpAddressCount: int64(v.free()),
			VSwitchName: v.name, CreationTime: created}
		if v.ipv6.IsValid() {
			resp.VSwitches.VSwitch[i].Ipv6CidrBlock = v.ipv6.String()
		}
	}
	return resp, nil
}
