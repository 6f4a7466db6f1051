package schema

// builtinTypes is the embedded instance type table, sorted by Name in byte
// order (a test checks the order; lookup uses sort.Search). Figures are the
// "ENIs" and "Private IPv4 addresses per ENI" columns of the public "Overview
// of instance families" page,
// https://www.alibabacloud.com/help/en/ecs/user-guide/overview-of-instance-families
// (rows verified in ecs-api.md §4), and of its 2021 snapshot in the
// AlibabaCloudDocs/ecs repository; snapshot-only rows were not rechecked
// against the current page. Each family comment names its source.
var builtinTypes = []InstanceType{
	// c5: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/Compute optimized instance families.md@68f66b13.
	{Name: "ecs.c5.16xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.c5.2xlarge", MaxENIs: 4, MaxIPsPerENI: 10},
	{Name: "ecs.c5.3xlarge", MaxENIs: 6, MaxIPsPerENI: 10},
	{Name: "ecs.c5.4xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.c5.6xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.c5.8xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.c5.large", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.c5.xlarge", MaxENIs: 3, MaxIPsPerENI: 10},
	// c6: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/Compute optimized instance families.md@68f66b13; rows also in ecs-api.md §4 agree.
	{Name: "ecs.c6.13xlarge", MaxENIs: 7, MaxIPsPerENI: 20},
	{Name: "ecs.c6.26xlarge", MaxENIs: 15, MaxIPsPerENI: 20},
	{Name: "ecs.c6.2xlarge", MaxENIs: 4, MaxIPsPerENI: 10},
	{Name: "ecs.c6.3xlarge", MaxENIs: 6, MaxIPsPerENI: 10},
	{Name: "ecs.c6.4xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.c6.6xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.c6.8xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.c6.large", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.c6.xlarge", MaxENIs: 3, MaxIPsPerENI: 10},
	// c7: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/Compute optimized instance families.md@68f66b13; rows also in ecs-api.md §4 agree.
	{Name: "ecs.c7.16xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.c7.2xlarge", MaxENIs: 4, MaxIPsPerENI: 15},
	{Name: "ecs.c7.32xlarge", MaxENIs: 15, MaxIPsPerENI: 30},
	{Name: "ecs.c7.3xlarge", MaxENIs: 8, MaxIPsPerENI: 15},
	{Name: "ecs.c7.4xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.c7.6xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.c7.8xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.c7.large", MaxENIs: 3, MaxIPsPerENI: 6},
	{Name: "ecs.c7.xlarge", MaxENIs: 4, MaxIPsPerENI: 15},
	// e (economy; shared): ecs-api.md §4 (FAMILIES, current). e-c1m2.large attach/detach only while Stopped (§3/§4 list the .large sizes); .xlarge is not in that list.
	{Name: "ecs.e-c1m2.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.e-c1m2.xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	// g5: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/General purpose instance families.md@df36c383.
	{Name: "ecs.g5.16xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.g5.2xlarge", MaxENIs: 4, MaxIPsPerENI: 10},
	{Name: "ecs.g5.3xlarge", MaxENIs: 6, MaxIPsPerENI: 10},
	{Name: "ecs.g5.4xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.g5.6xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.g5.8xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.g5.large", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.g5.xlarge", MaxENIs: 3, MaxIPsPerENI: 10},
	// g6: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/General purpose instance families.md@df36c383; rows also in ecs-api.md §4 agree.
	{Name: "ecs.g6.13xlarge", MaxENIs: 7, MaxIPsPerENI: 20},
	{Name: "ecs.g6.26xlarge", MaxENIs: 15, MaxIPsPerENI: 20},
	{Name: "ecs.g6.2xlarge", MaxENIs: 4, MaxIPsPerENI: 10},
	{Name: "ecs.g6.3xlarge", MaxENIs: 6, MaxIPsPerENI: 10},
	{Name: "ecs.g6.4xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.g6.6xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.g6.8xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.g6.large", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.g6.xlarge", MaxENIs: 3, MaxIPsPerENI: 10},
	// g7: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/General purpose instance families.md@df36c383; rows also in ecs-api.md §4 agree.
	{Name: "ecs.g7.16xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.g7.2xlarge", MaxENIs: 4, MaxIPsPerENI: 15},
	{Name: "ecs.g7.32xlarge", MaxENIs: 15, MaxIPsPerENI: 30},
	{Name: "ecs.g7.3xlarge", MaxENIs: 8, MaxIPsPerENI: 15},
	{Name: "ecs.g7.4xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.g7.6xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.g7.8xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	// g7.large's IPv6 addresses per ENI: "An ecs.g7.large instance supports up to six IPv6 addresses per ENI",
	// https://www.alibabacloud.com/help/en/ecs/user-guide/ip-prefix (the other g7 rows' IPv6 figure is not verified:
	// they take none until limits.instanceTypes gives maxIpv6PerEni).
	{Name: "ecs.g7.large", MaxENIs: 3, MaxIPsPerENI: 6, MaxIPv6PerENI: 6},
	{Name: "ecs.g7.xlarge", MaxENIs: 4, MaxIPsPerENI: 15},
	// g7a: ecs-api.md §4 (FAMILIES, current). DOCS21 g7a table (invitational preview) lists ENIs only (large: 3), no IPv4-per-ENI column.
	{Name: "ecs.g7a.large", MaxENIs: 3, MaxIPsPerENI: 6},
	// g8i: ecs-api.md §4 (FAMILIES, current).
	{Name: "ecs.g8i.48xlarge", MaxENIs: 15, MaxIPsPerENI: 50},
	{Name: "ecs.g8i.large", MaxENIs: 3, MaxIPsPerENI: 6},
	{Name: "ecs.g8i.xlarge", MaxENIs: 4, MaxIPsPerENI: 15},
	// r5: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/Memory optimized instance families/Memory optimized instance families.md@974c4c3d.
	{Name: "ecs.r5.16xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.r5.2xlarge", MaxENIs: 4, MaxIPsPerENI: 10},
	{Name: "ecs.r5.3xlarge", MaxENIs: 6, MaxIPsPerENI: 10},
	{Name: "ecs.r5.4xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.r5.6xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.r5.8xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.r5.large", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.r5.xlarge", MaxENIs: 3, MaxIPsPerENI: 10},
	// r6: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/Memory optimized instance families/Memory optimized instance families.md@974c4c3d; rows also in ecs-api.md §4 agree.
	{Name: "ecs.r6.13xlarge", MaxENIs: 7, MaxIPsPerENI: 20},
	{Name: "ecs.r6.26xlarge", MaxENIs: 15, MaxIPsPerENI: 20},
	{Name: "ecs.r6.2xlarge", MaxENIs: 4, MaxIPsPerENI: 10},
	{Name: "ecs.r6.3xlarge", MaxENIs: 6, MaxIPsPerENI: 10},
	{Name: "ecs.r6.4xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.r6.6xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.r6.8xlarge", MaxENIs: 8, MaxIPsPerENI: 20},
	{Name: "ecs.r6.large", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.r6.xlarge", MaxENIs: 3, MaxIPsPerENI: 10},
	// r7: AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/Memory optimized instance families/Memory optimized instance families.md@974c4c3d; rows also in ecs-api.md §4 agree.
	{Name: "ecs.r7.16xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.r7.2xlarge", MaxENIs: 4, MaxIPsPerENI: 15},
	{Name: "ecs.r7.32xlarge", MaxENIs: 15, MaxIPsPerENI: 30},
	{Name: "ecs.r7.3xlarge", MaxENIs: 8, MaxIPsPerENI: 15},
	{Name: "ecs.r7.4xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.r7.6xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.r7.8xlarge", MaxENIs: 8, MaxIPsPerENI: 30},
	{Name: "ecs.r7.large", MaxENIs: 3, MaxIPsPerENI: 6},
	{Name: "ecs.r7.xlarge", MaxENIs: 4, MaxIPsPerENI: 15},
	// t5 (burstable): AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/Burstable instance types/Overview.md@e1900296. Stopped-only attach/detach for the types listed in the page note (all .nano/.small/.large sizes).
	{Name: "ecs.t5-c1m1.2xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t5-c1m1.4xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t5-c1m1.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t5-c1m1.xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t5-c1m2.2xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t5-c1m2.4xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t5-c1m2.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t5-c1m2.xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t5-c1m4.2xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t5-c1m4.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t5-c1m4.xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t5-lc1m1.small", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t5-lc1m2.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t5-lc1m2.small", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t5-lc1m4.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t5-lc2m1.nano", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	// t6 (burstable): AlibabaCloudDocs/ecs:intl.en-US/Instance/Instance type families/Burstable instance types/Overview.md@e1900296. Stopped-only attach/detach for the .large sizes listed in the page note; c1m1.large and c4m1.large also in ecs-api.md §4.
	// The three t6 rows with MaxIPv6PerENI are DescribeInstanceTypes answers (EniIpv6AddressQuantity 1,
	// NetworkCardQuantity 0, MaximumQueueNumberPerEni 0: unknown) captured in ap-northeast-2 on 2026-03-25 by
	// cloud-barista/cm-beetle's test results for ALIBABA (their EniQuantity and EniPrivateIpAddressQuantity agree with the rows).
	{Name: "ecs.t6-c1m1.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true, MaxIPv6PerENI: 1},
	{Name: "ecs.t6-c1m2.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t6-c1m4.2xlarge", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.t6-c1m4.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true, MaxIPv6PerENI: 1},
	{Name: "ecs.t6-c1m4.xlarge", MaxENIs: 2, MaxIPsPerENI: 6, MaxIPv6PerENI: 1},
	{Name: "ecs.t6-c2m1.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	{Name: "ecs.t6-c4m1.large", MaxENIs: 2, MaxIPsPerENI: 2, AttachNeedsStopped: true},
	// u1 (universal; shared category): ecs-api.md §4 (FAMILIES, current). No per-type Stopped note was found, so not marked.
	{Name: "ecs.u1-c1m1.large", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.u1-c1m2.large", MaxENIs: 2, MaxIPsPerENI: 6},
	{Name: "ecs.u1-c1m2.xlarge", MaxENIs: 3, MaxIPsPerENI: 10},
}
