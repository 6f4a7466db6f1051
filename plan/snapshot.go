package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
)

// SnapshotFormatVersion is the format_version of the snapshot JSON that
// WriteJSON writes and ReadSnapshot accepts. A change that old readers would
// misread bumps it.
const SnapshotFormatVersion = "1"

// The snapshot DTO is kept apart from the model so the model stays free of
// JSON tags (style.md §b.8–9) and can change shape without changing the
// file format: these structs pin the snake_case names, and every field is
// always written, so a snapshot's shape never depends on its content.
type snapshotJSON struct {
	FormatVersion string        `json:"format_version"`
	Region        string        `json:"region"`
	VSwitches     []vswitchJSON `json:"vswitches"`
	InstanceTypes []typeJSON    `json:"instance_types"`
	// Pointers: growing a slice of 60,000 large structs while decoding
	// copied each many times.
	Instances []*instanceJSON `json:"instances"`
	ENIs      []*eniJSON      `json:"enis"`
}

type vswitchJSON struct {
	ID           string       `json:"id"`
	VPC          string       `json:"vpc_id"`
	Zone         string       `json:"zone"`
	CIDR         netip.Prefix `json:"cidr"`
	IPv6CIDR     netip.Prefix `json:"ipv6_cidr,omitzero"`
	AvailableIPs int          `json:"available_ip_address_count"`
}

type typeJSON struct {
	Name            string `json:"name"`
	MaxENIs         int    `json:"eni_quantity"`
	MaxIPsPerENI    int    `json:"eni_private_ip_address_quantity"`
	MaxIPv6PerENI   int    `json:"eni_ipv6_address_quantity,omitempty"`
	NetworkCards    int    `json:"network_card_quantity,omitempty"`
	MaxQueuesPerENI int    `json:"maximum_queue_number_per_eni,omitempty"`
}

type instanceJSON struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	Status         InstanceStatus `json:"status"`
	Zone           string         `json:"zone"`
	VPC            string         `json:"vpc_id"`
	OSType         string         `json:"os_type"`
	OSName         string         `json:"os_name"`
	PrimaryENI     string         `json:"primary_eni_id"`
	MAC            string         `json:"mac"`
	PrimaryIP      netip.Addr     `json:"primary_ip"`
	SecondaryIPs   []netip.Addr   `json:"secondary_ips"`
	IPv6           []netip.Addr   `json:"ipv6_ips,omitempty"`
	Prefixes       []netip.Prefix `json:"ipv4_prefixes,omitempty"`
	SecurityGroups []string       `json:"security_groups"`
}

type eniJSON struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	Type           ENIType           `json:"type"`
	Status         ENIStatus         `json:"status"`
	InstanceID     string            `json:"instance_id"`
	DeviceIndex    int               `json:"device_index"`
	VSwitch        string            `json:"vswitch_id"`
	Zone           string            `json:"zone"`
	VPC            string            `json:"vpc_id"`
	MAC            string            `json:"mac"`
	PrimaryIP      netip.Addr        `json:"primary_ip"`
	SecondaryIPs   []netip.Addr      `json:"secondary_ips"`
	IPv6           []netip.Addr      `json:"ipv6_ips,omitempty"`
	Prefixes       []netip.Prefix    `json:"ipv4_prefixes,omitempty"`
	NetworkCard    int               `json:"network_card_index,omitempty"`
	QueueNumber    int               `json:"queue_number,omitempty"`
	SecurityGroups []string          `json:"security_groups"`
	Tags           map[string]string `json:"tags"`
}

// WriteJSON writes the snapshot form of o: versioned, indented, every list
// in its sorted order and no timestamps, so the same cloud always gives the
// same bytes. o must be normalised (see Normalize).
func (o *Observed) WriteJSON(w io.Writer) error {
	s := snapshotJSON{
		FormatVersion: SnapshotFormatVersion,
		Region:        o.Region,
		VSwitches:     make([]vswitchJSON, 0, len(o.VSwitches)),
		InstanceTypes: make([]typeJSON, 0, len(o.InstanceTypes)),
		Instances:     make([]*instanceJSON, 0, len(o.Instances)),
		ENIs:          make([]*eniJSON, 0, len(o.ENIs)),
	}
	for _, v := range o.VSwitches {
		s.VSwitches = append(s.VSwitches, vswitchJSON(*v))
	}
	for _, t := range o.InstanceTypes {
		s.InstanceTypes = append(s.InstanceTypes, typeJSON(t))
	}
	for _, in := range o.Instances {
		j := instanceJSON(*in)
		j.SecondaryIPs = nonNil(j.SecondaryIPs)
		j.SecurityGroups = nonNil(j.SecurityGroups)
		s.Instances = append(s.Instances, &j)
	}
	for _, e := range o.ENIs {
		j := eniJSON(*e)
		j.SecondaryIPs = nonNil(j.SecondaryIPs)
		j.SecurityGroups = nonNil(j.SecurityGroups)
		if j.Tags == nil {
			j.Tags = map[string]string{}
		}
		s.ENIs = append(s.ENIs, &j)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	data = append(data, '\n')
	_, err = w.Write(data)
	return err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// checkSnapshotVersion checks the version first and on its own, so a
// snapshot from another ecsnet release fails with a version error rather
// than with whichever field changed. WriteJSON puts format_version first,
// so a few tokens settle it; a snapshot edited into another order is
// scanned whole.
func checkSnapshotVersion(data []byte) error {
	var raw json.RawMessage
	hd := json.NewDecoder(bytes.NewReader(data))
	if t, err := hd.Token(); err != nil || t != json.Delim('{') {
		return errors.New("read snapshot: not a JSON object")
	}
	if t, err := hd.Token(); err == nil && t == "format_version" {
		if err := hd.Decode(&raw); err != nil {
			return fmt.Errorf("read snapshot: %w", err)
		}
	} else {
		var head map[string]json.RawMessage
		if err := json.Unmarshal(data, &head); err != nil {
			return fmt.Errorf("read snapshot: not a JSON object: %w", err)
		}
		var ok bool
		if raw, ok = head["format_version"]; !ok {
			return errors.New(`read snapshot: no "format_version": not an ecsnet snapshot`)
		}
	}
	var version string
	if err := json.Unmarshal(raw, &version); err != nil || version != SnapshotFormatVersion {
		return fmt.Errorf("read snapshot: format_version %s is not supported (this ecsnet reads %q); observe again with this release",
			bytes.TrimSpace(raw), SnapshotFormatVersion)
	}
	return nil
}

// ReadSnapshot decodes a snapshot written by WriteJSON. It is strict: a
// missing or different format_version, an unknown field, trailing data, a
// malformed address or a repeated ID is an error that says what is wrong.
// The result is normalised.
func ReadSnapshot(r io.Reader) (*Observed, error) {
	var buf bytes.Buffer
	if f, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			buf.Grow(int(st.Size()) + bytes.MinRead) // a large snapshot is read without regrowing
		}
	}
	_, err := buf.ReadFrom(r)
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if err := checkSnapshotVersion(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s snapshotJSON
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("read snapshot: trailing data after the snapshot object")
	}

	o := &Observed{Region: s.Region}
	for _, v := range s.VSwitches {
		v := ObservedVSwitch(v)
		o.VSwitches = append(o.VSwitches, &v)
	}
	for _, t := range s.InstanceTypes {
		o.InstanceTypes = append(o.InstanceTypes, TypeQuota(t))
	}
	for _, in := range s.Instances {
		if in == nil {
			return nil, errors.New("read snapshot: null in instances")
		}
		in := ObservedInstance(*in)
		o.Instances = append(o.Instances, &in)
	}
	for _, e := range s.ENIs {
		if e == nil {
			return nil, errors.New("read snapshot: null in enis")
		}
		e := ObservedENI(*e)
		o.ENIs = append(o.ENIs, &e)
	}
	if err := o.Normalize(); err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	return o, nil
}
