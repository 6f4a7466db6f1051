package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// Tagging (ecs-api.md §2.11). The emulator models ENI tags only; the other
// resource types the real API tags are answered UnsupportedParameter, and
// names that are no resource type at all InvalidResourceType.NotFound.

var otherResourceTypes = []string{"instance", "disk", "snapshot", "image", "securitygroup", "volume", "ddh",
	"keypair", "launchtemplate", "reservedinstance", "dedicatedhost", "capacityreservation", "elasticityassurance",
	"command", "activation", "prefixlist"}

func resourceType(p params) *apiError {
	t, err := p.required("ResourceType")
	if err != nil {
		return err
	}
	switch {
	case t == "eni":
		return nil
	case slices.Contains(otherResourceTypes, strings.ToLower(t)):
		return errUnsupported("ResourceType", "the emulator tags ENIs (ResourceType eni) only")
	}
	return newErr(http.StatusNotFound, "InvalidResourceType.NotFound", "The specified ResourceType %q does not exist.", t)
}

// resourceIDs reads ResourceId.N: 1-50 IDs of existing ENIs.
func (s *Server) resourceIDs(p params, required bool) ([]string, *apiError) {
	ids, err := p.list("ResourceId", 1000)
	if err != nil {
		return nil, err
	}
	if len(ids) > 50 {
		return nil, newErr(http.StatusBadRequest, "NumberExceed.ResourceIds", "At most 50 ResourceId.N may be given.")
	}
	if required && len(ids) == 0 {
		return nil, errMissing("ResourceId.1")
	}
	for _, id := range ids {
		if s.cloud.enis[id] == nil {
			return nil, newErr(http.StatusNotFound, "InvalidResourceId.NotFound", "The specified ResourceId %q does not exist.", id)
		}
	}
	return ids, nil
}

func tagList(p params) ([]Tag, *apiError) {
	ts, err := p.tagParams("Tag", 1000)
	if err != nil {
		return nil, err
	}
	if len(ts) > 20 {
		return nil, newErr(http.StatusBadRequest, "NumberExceed.Tags", "At most 20 Tag.N may be given.")
	}
	return ts, nil
}

func tagResources(s *Server, q *call) (any, *apiError) {
	p := q.p
	if err := resourceType(p); err != nil {
		return nil, err
	}
	ids, err := s.resourceIDs(p, true)
	if err != nil {
		return nil, err
	}
	ts, err := tagList(p)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, errMissing("Tag.1.Key")
	}
	if err := checkTags(ts); err != nil {
		return nil, err
	}
	for _, id := range ids {
		e := s.cloud.enis[id]
		n := len(e.tags)
		for _, t := range ts {
			if !slices.ContainsFunc(e.tags, func(x Tag) bool { return x.TagKey == t.TagKey }) {
				n++
			}
		}
		if n > 20 {
			return nil, newErr(http.StatusBadRequest, "OperationDenied.QuotaExceed",
				"The resource %s would carry %d tags; at most 20 are allowed.", id, n)
		}
	}
	for _, id := range ids {
		e := s.cloud.enis[id]
		for _, t := range ts {
			i := slices.IndexFunc(e.tags, func(x Tag) bool { return x.TagKey == t.TagKey })
			switch {
			case i < 0:
				e.tags = append(e.tags, t)
				q.changed = true
			case e.tags[i].TagValue != t.TagValue:
				e.tags[i].TagValue = t.TagValue
				q.changed = true
			}
		}
		sortTags(e.tags)
	}
	return requestOnly{q.requestID}, nil
}

func untagResources(s *Server, q *call) (any, *apiError) {
	p := q.p
	if err := resourceType(p); err != nil {
		return nil, err
	}
	ids, err := s.resourceIDs(p, true)
	if err != nil {
		return nil, err
	}
	keys, err := p.list("TagKey", 20)
	if err != nil {
		return nil, err
	}
	all, err := p.boolean("All")
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 && !all {
		return nil, errMissing("TagKey.1")
	}
	for _, id := range ids {
		e := s.cloud.enis[id]
		before := len(e.tags)
		e.tags = slices.DeleteFunc(e.tags, func(t Tag) bool { return len(keys) == 0 || slices.Contains(keys, t.TagKey) })
		if len(e.tags) != before {
			q.changed = true
		}
	}
	return requestOnly{q.requestID}, nil
}

type tagResource struct {
	ResourceId   string `json:"ResourceId"`
	ResourceType string `json:"ResourceType"`
	TagKey       string `json:"TagKey"`
	TagValue     string `json:"TagValue"`
}

type listTagsResponse struct {
	RequestId    string `json:"RequestId"`
	NextToken    string `json:"NextToken"`
	TagResources struct {
		TagResource []tagResource `json:"TagResource"`
	} `json:"TagResources"`
}

// ListTagResources pages 50 resource-tag pairs at a time, ordered by
// resource ID then key. With Tag.N it lists every tag of the ENIs that
// carry all the given tags; the documentation does not say whether only
// the matching pairs come back, and listing all of them is the superset a
// caller must cope with anyway.
func listTagResources(s *Server, q *call) (any, *apiError) {
	p := q.p
	if err := p.rejectUnsupported("TagFilter."); err != nil {
		return nil, err
	}
	if err := resourceType(p); err != nil {
		return nil, err
	}
	pg, err := readPaging(p, 0, 0, 50, 50)
	if err != nil {
		return nil, err
	}
	ids, err := p.list("ResourceId", 50)
	if err != nil {
		return nil, err
	}
	filter, err := tagList(p)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 && len(filter) == 0 {
		return nil, errMissing("ResourceId.1 or Tag.1.Key")
	}
	cands := s.cloud.eniList
	if len(ids) > 0 {
		cands = existing(ids, s.cloud.enis)
	}
	var pairs []string
	for _, e := range cands {
		ok := true
		for _, t := range filter {
			i := slices.IndexFunc(e.tags, func(x Tag) bool { return x.TagKey == t.TagKey })
			if i < 0 || (t.TagValue != "" && e.tags[i].TagValue != t.TagValue) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		for _, t := range e.tags {
			pairs = append(pairs, e.id+"\x00"+t.TagKey)
		}
	}
	page, _, next := paginate(pairs, self, func(string) bool { return true }, pg, 0)
	resp := listTagsResponse{RequestId: q.requestID, NextToken: next}
	resp.TagResources.TagResource = make([]tagResource, len(page))
	for i, pair := range page {
		id, key, _ := strings.Cut(pair, "\x00")
		e := s.cloud.enis[id]
		j := slices.IndexFunc(e.tags, func(x Tag) bool { return x.TagKey == key })
		resp.TagResources.TagResource[i] = tagResource{ResourceId: id, ResourceType: "eni", TagKey: key, TagValue: e.tags[j].TagValue}
	}
	return resp, nil
}
