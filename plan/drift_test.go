package plan

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ecsnet/ecsnet/schema"
)

// planErr computes a plan that must fail, and returns its first error.
func planErr(t *testing.T, f *schema.Fleet, o *Observed, l *schema.Lock, opts Options) *schema.Error {
	t.Helper()
	_, err := Compute(f, o, l, opts)
	es, ok := err.(schema.Errors)
	if !ok || len(es) == 0 {
		t.Fatalf("want plan errors, got %v", err)
	}
	return es[0]
}

// handAdd adds addresses to an observed ENI, as someone would by hand.
func handAdd(t *testing.T, o *Observed, eniID string, as ...string) {
	t.Helper()
	e := o.ENI(eniID)
	for _, a := range as {
		e.SecondaryIPs = append(e.SecondaryIPs, netip.MustParseAddr(a))
	}
	if in := o.Instance(e.InstanceID); in != nil && in.PrimaryENI == eniID {
		in.SecondaryIPs = e.SecondaryIPs
	}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
}

// handRemove unassigns an address from an observed ENI behind ecsnet's back.
func handRemove(t *testing.T, o *Observed, eniID string, a netip.Addr) {
	t.Helper()
	e := o.ENI(eniID)
	if !slices.Contains(e.SecondaryIPs, a) {
		t.Fatalf("%s does not hold %s", eniID, a)
	}
	e.SecondaryIPs = slices.DeleteFunc(slices.Clone(e.SecondaryIPs), func(x netip.Addr) bool { return x == a })
	if in := o.Instance(e.InstanceID); in != nil && in.PrimaryENI == eniID {
		in.SecondaryIPs = e.SecondaryIPs
	}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
}

func tagged(t *testing.T, o *Observed, name string) *ObservedENI {
	t.Helper()
	es := o.ENIsTagged(TagENI, name)
	if len(es) != 1 {
		t.Fatalf("%d ENIs tagged %s", len(es), name)
	}
	return es[0]
}

func textOf(t *testing.T, p *Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteText(&b, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHeldAddressHints pins issue 12 item 8: the hint of "address held by
// another ENI" names only a remedy that works. plan --prune releases an
// address the lock does not record from an ENI of the desired state; it
// does nothing for an adopted ENI the file dropped (whose addresses the
// lock does record), nor for an address the cloud picked for a count.
func TestHeldAddressHints(t *testing.T) {
	f := loadExample(t)

	t.Run("adopted ENI no longer in the file", func(t *testing.T) {
		o, l := converged(f)
		l.Secondary("spare-1").Adopted = true
		g := edit(t, "", `"spare-1": {`, `"spare-2": {`) // spare-2 pins spare-1's addresses
		e := planErr(t, g, o, l, Options{})
		if !strings.Contains(e.Msg, "172.16.2.61 is held by ENI "+l.Secondary("spare-1").ID) {
			t.Fatalf("error: %v", e)
		}
		if strings.Contains(e.Hint, "prune") || strings.Contains(e.Hint, "not recorded") || !strings.Contains(e.Hint, "adopted") {
			t.Errorf("hint for an adopted ENI the lock records: %q", e.Hint)
		}
	})
	t.Run("unrecorded on a primary ENI", func(t *testing.T) {
		o, l := converged(f)
		handAdd(t, o, o.Instance("i-bp1lb0000001").PrimaryENI, "172.16.0.77")
		g := edit(t, "", `secondaryIps: ["172.16.0.51"]`, `secondaryIps: ["172.16.0.51", "172.16.0.77"]`)
		e := planErr(t, g, o, l, Options{})
		if !strings.Contains(e.Hint, "plan --prune releases it") {
			t.Errorf("an address added by hand to lb-1: hint %q does not offer --prune", e.Hint)
		}
		if p := compute(t, g, o, l, Options{Prune: true}); p.Step("assign instance/edge-1") == nil {
			t.Errorf("--prune does not free it: %v", ids(p))
		}
	})
	t.Run("counted address recorded in the lock", func(t *testing.T) {
		o, l := converged(f)
		picked := l.Secondary("app-1-data").Secondary[0].Addr.String()
		g := edit(t, "", `secondaryIps: ["172.16.3.31", "172.16.3.32"]`, `secondaryIps: ["172.16.3.31", "172.16.3.32", "`+picked+`"]`)
		e := planErr(t, g, o, l, Options{})
		if strings.Contains(e.Hint, "prune") || !strings.Contains(e.Hint, "secondaryIpCount") {
			t.Errorf("hint for an address the cloud picked for a count: %q", e.Hint)
		}
	})
}

// TestTooManyAddressesHint pins the second half of item 8: "remove the
// unrecorded addresses (plan --prune)" only when there are some.
func TestTooManyAddressesHint(t *testing.T) {
	f := loadExample(t)
	g := edit(t, "", `secondaryIps: ["172.16.0.21", "172.16.0.22"]`, `secondaryIps: ["172.16.0.21", "172.16.0.22", "172.16.0.23"]`)
	o, l := converged(f)
	// The cloud's quota for web-1's type is lower than ecsnet's table.
	o.InstanceTypes = []TypeQuota{{Name: "ecs.g7.large", MaxENIs: 3, MaxIPsPerENI: 3}}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	e := planErr(t, g, o, l, Options{})
	if !strings.Contains(e.Msg, "would carry 3 secondary addresses") || strings.Contains(e.Hint, "prune") || strings.Contains(e.Hint, "unrecorded") {
		t.Errorf("no address is unrecorded, yet: %v (hint %q)", e, e.Hint)
	}

	handAdd(t, o, o.Instance("i-bp1web000001").PrimaryENI, "172.16.0.77")
	e = planErr(t, g, o, l, Options{})
	if !strings.Contains(e.Hint, "plan --prune") || !strings.Contains(e.Hint, "172.16.0.77") {
		t.Errorf("with 172.16.0.77 added by hand the hint should offer --prune: %q", e.Hint)
	}
}

// TestLostCountedAddressRestored pins item 9: a counted address the lock
// records and the cloud lost comes back, rather than a new pick, so the
// rendered host configuration does not change; only when it is taken does
// the cloud pick another, and the plan says why.
func TestLostCountedAddressRestored(t *testing.T) {
	f := loadExample(t)

	t.Run("secondary ENI", func(t *testing.T) {
		o, l := converged(f)
		x := tagged(t, o, "app-1-data")
		lost := l.Secondary("app-1-data").Secondary[0].Addr
		handRemove(t, o, x.ID, lost)
		p := compute(t, f, o, l, Options{})
		s := p.Step("assign eni/app-1-data")
		if s == nil || len(p.Steps) != 1 || s.Count != 0 || !slices.Equal(s.IPs, []netip.Addr{lost}) {
			t.Fatalf("want one assign of %s, got %+v", lost, p.Steps)
		}
		if out := textOf(t, p); !strings.Contains(out, "+ "+lost.String()) || !strings.Contains(out, "restoring "+lost.String()) {
			t.Errorf("the plan does not show the restored address:\n%s", out)
		}
	})
	t.Run("primary ENI", func(t *testing.T) {
		o, l := converged(f)
		lost := l.Primary("api-1").Secondary[1].Addr
		handRemove(t, o, o.Instance("i-bp1api000001").PrimaryENI, lost)
		p := compute(t, f, o, l, Options{})
		if s := p.Step("assign instance/api-1"); s == nil || s.Count != 0 || !slices.Equal(s.IPs, []netip.Addr{lost}) {
			t.Fatalf("want an assign of %s, got %+v", lost, p.Steps)
		}
	})
	t.Run("taken by another ENI", func(t *testing.T) {
		o, l := converged(f)
		x, cache := tagged(t, o, "app-1-data"), tagged(t, o, "cache-1-data")
		lost := l.Secondary("app-1-data").Secondary[0].Addr
		handRemove(t, o, x.ID, lost)
		handAdd(t, o, cache.ID, lost.String())
		p := compute(t, f, o, l, Options{})
		s := p.Step("assign eni/app-1-data")
		if s == nil || s.Count != 1 || len(s.IPs) != 0 {
			t.Fatalf("a taken address is picked anew: %+v", p.Steps)
		}
		if want := lost.String() + ", which the lock records, was unassigned outside ecsnet and is now held by ENI " + cache.ID; !strings.Contains(s.Reason, want) {
			t.Errorf("reason %q does not say %q", s.Reason, want)
		}
	})
	t.Run("pinned in the file", func(t *testing.T) {
		o, l := converged(f)
		x := tagged(t, o, "app-1-data")
		lost := l.Secondary("app-1-data").Secondary[0].Addr
		handRemove(t, o, x.ID, lost)
		g := edit(t, "", `secondaryIps: ["172.16.3.31", "172.16.3.32"]`, `secondaryIps: ["172.16.3.31", "172.16.3.32", "`+lost.String()+`"]`)
		p := compute(t, g, o, l, Options{})
		if s := p.Step("assign eni/app-1-data"); s == nil || s.Count != 1 || !strings.Contains(s.Reason, "pinned by ENI cache-1-data") {
			t.Fatalf("an address the file pins elsewhere is picked anew: %+v", s)
		}
		if s := p.Step("assign eni/cache-1-data"); s == nil || !slices.Equal(s.IPs, []netip.Addr{lost}) {
			t.Errorf("cache-1-data does not get its pin: %+v", s)
		}
	})
	t.Run("count grows too", func(t *testing.T) {
		o, l := converged(f)
		x := tagged(t, o, "app-1-data")
		lost := l.Secondary("app-1-data").Secondary[0].Addr
		handRemove(t, o, x.ID, lost)
		g := edit(t, "", "secondaryIpCount: 4", "secondaryIpCount: 6")
		p := compute(t, g, o, l, Options{})
		s := p.Step("assign eni/app-1-data")
		if s == nil || s.Count != 2 || !slices.Equal(s.IPs, []netip.Addr{lost}) || s.Drift {
			t.Fatalf("restore one, pick two, and not only drift: %+v", s)
		}
	})
}

// TestModifyShowsOldValues pins item 10: a modify shows the old value
// beside the new one, in the text and in the JSON plan.
func TestModifyShowsOldValues(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	g := editAll(t, [][2]string{
		{`description:    "web-1 data plane"`, `description:    "web-1 storage plane"`},
		{"securityGroups: [\"web\"]\n\t\tdescription:    \"web-1", "securityGroups: [\"web\", \"db\"]\n\t\tdescription:    \"web-1"},
	})
	p := compute(t, g, o, l, Options{})
	out := textOf(t, p)
	for _, want := range []string{
		`~ description        = "web-1 data plane" → "web-1 storage plane"`,
		`~ security_group_ids = [sg-bp1web000001] → [sg-bp1db0000001, sg-bp1web000001]`,
		`description "web-1 data plane" → "web-1 storage plane"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text does not show %q:\n%s", want, out)
		}
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"old_description": "web-1 data plane"`) {
		t.Errorf("JSON has no old_description:\n%s", b.String())
	}
	back, err := ReadJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if m := back.Step("modify eni/web-1-data").Modify; m.OldDescription == nil || *m.OldDescription != "web-1 data plane" {
		t.Errorf("old description lost in a round trip: %+v", m)
	}
}

// TestDriftLabelled pins item 11: steps that only undo changes made
// outside ecsnet (an address unassigned, an ENI detached or deleted by
// hand, while the file did not change) are labelled drift in the text,
// JSON and markdown views; a change of the file in the same plan is not.
func TestDriftLabelled(t *testing.T) {
	f := loadExample(t)
	o, l := converged(f)
	l.Secondary("vip").AttachedTo = "lb-1"
	vip := tagged(t, o, "vip")
	vip.InstanceID, vip.Status, vip.DeviceIndex = "", ENIAvailable, 0 // detached by hand
	handRemove(t, o, o.Instance("i-bp1web000001").PrimaryENI, netip.MustParseAddr("172.16.0.22"))
	o.ENIs = slices.DeleteFunc(o.ENIs, func(e *ObservedENI) bool { return e.Tags[TagENI] == "cache-1-data" }) // deleted by hand
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	g := edit(t, "", "secondaryIpCount: 2\n\t\tattachTo:         \"edge-1\"", "secondaryIpCount: 3\n\t\tattachTo:         \"edge-1\"") // the one intended change
	p := compute(t, g, o, l, Options{})

	drift := map[string]bool{"attach eni/vip": true, "assign instance/web-1": true, "create eni/cache-1-data": true, "attach eni/cache-1-data": true,
		"assign eni/edge-1-data": false}
	if len(p.Steps) != len(drift) {
		t.Fatalf("steps %v, want %v", ids(p), drift)
	}
	text := textOf(t, p)
	var js bytes.Buffer
	if err := WriteJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Steps []struct {
			ID    string `json:"id"`
			Drift *bool  `json:"drift"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Steps {
		want, ok := drift[s.ID]
		if !ok {
			t.Errorf("unexpected step %s", s.ID)
			continue
		}
		if s.Drift == nil || *s.Drift != want {
			t.Errorf("JSON step %s: drift %v, want %v", s.ID, s.Drift, want)
		}
		for view, out := range map[string]string{"text": text, "markdown": md.String()} {
			if got := strings.Contains(out, ". "+s.ID+" [drift]"); got != want {
				t.Errorf("%s: step %s labelled drift: %v, want %v", view, s.ID, got, want)
			}
		}
	}
	for _, want := range []string{
		"(drift: detached outside ecsnet; the lock records it on lb-1: attaching it again)",
		"(drift: restoring 172.16.0.22: unassigned outside ecsnet, and the lock records it)",
		"(drift: the lock records " + l.Secondary("cache-1-data").ID + ", deleted outside ecsnet: creating it again",
		"Drift: 4 steps (marked [drift]) put back what the lock records, after changes made outside ecsnet.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text does not say %q:\n%s", want, text)
		}
	}
	if !strings.Contains(md.String(), "**Drift: 4 steps") {
		t.Errorf("markdown has no drift line:\n%s", md.String())
	}

	// A move the file asks for is not drift, even when the cloud also
	// moved the ENI.
	h := edit(t, "", `attachTo: "lb-1"`, `attachTo: "lb-2"`)
	p = compute(t, h, o, l, Options{})
	if s := p.Step("attach eni/vip"); s == nil || s.Drift {
		t.Errorf("attach to lb-2 as the file now says: %+v", s)
	}
}
