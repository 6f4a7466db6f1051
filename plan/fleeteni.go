package plan

import "github.com/ecsnet/ecsnet/schema"

// fleetENIs finds the observed ENI of each of the desired state's ENIs as
// FleetENI does, from one pass over obs: FleetENI scans every observed ENI,
// so calling it for each of a 20,000-instance fleet's 40,000 ENIs compared
// 2.4 billion tags (about 3 minutes of every plan; issue 18's profile).
type fleetENIs struct {
	f      *schema.Fleet
	obs    *Observed
	byName map[string]*ObservedENI
}

func newFleetENIs(f *schema.Fleet, obs *Observed) fleetENIs {
	byName := map[string]*ObservedENI{}
	for _, o := range obs.ENIs {
		if o.Tags[TagFleet] != f.Name || o.Type == ENIPrimary || o.Status == ENIDeleting {
			continue
		}
		name := o.Tags[TagENI]
		// The lowest ID wins, as in FleetENI.
		if found := byName[name]; found == nil || o.ID < found.ID {
			byName[name] = o
		}
	}
	return fleetENIs{f: f, obs: obs, byName: byName}
}

// of returns FleetENI(f, obs, x).
func (fe fleetENIs) of(x *schema.ENI) *ObservedENI {
	if x.ID != "" {
		return fe.obs.ENI(x.ID)
	}
	return fe.byName[x.Name]
}
