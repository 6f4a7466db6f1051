package plan

import "slices"

// planDocV1 is the plan document of format_version 1 (formatVersion1):
// version 2's fields, with the list of the IDs the fingerprint covers
// where version 2 has their count and digest.
type planDocV1 struct {
	FormatVersion   string          `json:"format_version"`
	Fleet           string          `json:"fleet"`
	Region          string          `json:"region"`
	Fingerprint     string          `json:"fingerprint"`
	Touched         []string        `json:"touched"`
	Summary         summaryDoc      `json:"summary"`
	Steps           []stepDoc       `json:"steps"`
	ResourceChanges []changeDoc     `json:"resource_changes"`
	Unmanaged       []unmanagedDoc  `json:"unmanaged"`
	Unrecorded      []unrecordedDoc `json:"unrecorded"`
	Notes           []string        `json:"notes"`
}

// planDoc converts a version 1 document to version 2. The list is not
// trusted: apply recomputes the resources it checks (CheckSaved), so the
// list only gives the count the views print and the digest that picks
// which refusal a stale plan gets.
func (v *planDocV1) planDoc() planDoc {
	ids := slices.Clone(v.Touched)
	slices.Sort(ids)
	return planDoc{FormatVersion: FormatVersion, Fleet: v.Fleet, Region: v.Region, Fingerprint: v.Fingerprint,
		TouchedCount: len(ids), TouchedDigest: TouchedDigest(ids), Summary: v.Summary, Steps: v.Steps,
		ResourceChanges: v.ResourceChanges, Unmanaged: v.Unmanaged, Unrecorded: v.Unrecorded, Notes: v.Notes}
}
