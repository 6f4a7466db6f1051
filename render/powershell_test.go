package render

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ecsnet/ecsnet/internal/golden"
	"github.com/ecsnet/ecsnet/internal/hosttest"
	"github.com/ecsnet/ecsnet/schema"
)

// psHostile holds strings that must never break out of a PowerShell string:
// quotes of every kind PowerShell honours, subexpressions, escapes,
// comment and here-string markers, control and non-ASCII characters.
var psHostile = []string{
	"",
	"plain",
	"it's",
	"''",
	"'; Remove-Item -Recurse C:\\ ; '",
	"$(Stop-Computer)",
	"${env:PATH}",
	"`n`$x",
	"\"double\" $x",
	"#> <# comment",
	"@'\nhere\n'@",
	"line1\nline2\r\n",
	"tab\there",
	"nul\x00byte",
	"\u2018smart\u2019 \u201asingle\u201b",
	"\u201cdouble\u201d \u201e",
	"en\u2013dash em\u2014dash",
	"caf\u00e9 \u4e2d\u6587",
	"emoji \U0001F600",
	"\x7f del",
	"{0} {1} -f",
	"a'+(calc)+'b",
}

// evalPS evaluates what psQuote produces: a single-quoted literal, or a
// parenthesised + chain of literals and [char]0xHHHH codes. It fails on
// anything else, so a quoting bug cannot hide behind a lenient reader.
func evalPS(t *testing.T, expr string) string {
	t.Helper()
	var units []uint16
	lit := func(s string) (string, string) {
		if s == "" || s[0] != '\'' {
			t.Fatalf("%q: want a literal at %q", expr, s)
		}
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				return b.String(), s[i+1:]
			}
			b.WriteByte(s[i])
		}
		t.Fatalf("%q: unterminated literal", expr)
		return "", ""
	}
	addString := func(s string) {
		units = append(units, utf16.Encode([]rune(s))...)
	}
	if expr[0] == '\'' {
		v, rest := lit(expr)
		if rest != "" {
			t.Fatalf("%q: text after the literal: %q", expr, rest)
		}
		return v
	}
	if !strings.HasPrefix(expr, "(") || !strings.HasSuffix(expr, ")") {
		t.Fatalf("%q: neither a literal nor a parenthesised chain", expr)
	}
	rest := expr[1 : len(expr)-1]
	first := true
	for rest != "" {
		if !first {
			if !strings.HasPrefix(rest, " + ") {
				t.Fatalf("%q: want ' + ' at %q", expr, rest)
			}
			rest = rest[3:]
		}
		switch {
		case strings.HasPrefix(rest, "[char]0x"):
			if first {
				t.Fatalf("%q: a chain must start with a string, or + adds numbers", expr)
			}
			n, err := strconv.ParseUint(rest[8:12], 16, 16)
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			units = append(units, uint16(n))
			rest = rest[12:]
		default:
			var v string
			v, rest = lit(rest)
			addString(v)
		}
		first = false
	}
	return string(utf16.Decode(units))
}

func TestPSQuote(t *testing.T) {
	for _, s := range psHostile {
		q := psQuote(s)
		for i := 0; i < len(q); i++ {
			if q[i] < 0x20 || q[i] >= 0x7f {
				t.Errorf("psQuote(%q) = %q: byte %#x is not printable ASCII", s, q, q[i])
			}
		}
		want := s
		if !utf8.ValidString(s) {
			want = strings.ToValidUTF8(s, "\uFFFD")
		}
		if got := evalPS(t, q); got != want {
			t.Errorf("psQuote(%q) = %s evaluates to %q", s, q, got)
		}
	}
	for s, want := range map[string]string{
		"plain":   "'plain'",
		"it's":    "'it''s'",
		"":        "''",
		"a\nb":    "('a' + [char]0x000A + 'b')",
		"\u2019x": "('' + [char]0x2019 + 'x')",
	} {
		if got := psQuote(s); got != want {
			t.Errorf("psQuote(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzPSQuote(f *testing.F) {
	for _, s := range psHostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := psQuote(s)
		for i := 0; i < len(q); i++ {
			if q[i] < 0x20 || q[i] >= 0x7f {
				t.Fatalf("psQuote(%q) = %q: not printable ASCII", s, q)
			}
		}
		if got, want := evalPS(t, q), strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Fatalf("psQuote(%q) = %s evaluates to %q", s, q, got)
		}
	})
}

func TestPSComment(t *testing.T) {
	for _, s := range psHostile {
		c := psComment(s)
		if strings.ContainsAny(c, "\r\n") || !psPrintable(c) {
			t.Errorf("psComment(%q) = %q", s, c)
		}
	}
	if got := psComment(strings.Repeat("x", 500)); len(got) != 123 {
		t.Errorf("long comment: %d bytes", len(got))
	}
}

func psPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// psWinHost is a Windows host like the example's win-1, built by hand.
func psWinHost() *Host {
	return &Host{
		Name: "win-1", InstanceID: "i-bp1win000001", Fleet: "shop-prod", OS: "windows2022", Stack: schema.StackWindows,
		Primary: NIC{
			ENIID: "eni-bp1win0primary", MAC: "00:16:3e:0a:0b:0c", Address: netip.MustParseAddr("172.16.0.14"),
			Prefix: netip.MustParsePrefix("172.16.0.0/24"), Gateway: netip.MustParseAddr("172.16.0.253"),
			Secondary: []netip.Addr{netip.MustParseAddr("172.16.0.41"), netip.MustParseAddr("172.16.0.42")},
		},
		Secondary: []NIC{{
			ENI: "win-1-data", ENIID: "eni-bp1win0data01", Description: "Windows data ENI", MAC: "00:16:3e:0a:0b:0d", DeviceIndex: 1,
			Address: netip.MustParseAddr("172.16.2.40"), Prefix: netip.MustParsePrefix("172.16.2.0/24"), Gateway: netip.MustParseAddr("172.16.2.253"),
			Secondary: []netip.Addr{netip.MustParseAddr("172.16.2.41")}, Table: 1001, Priority: 1001,
		}},
	}
}

func renderPS(t *testing.T, h *Host) []byte {
	t.Helper()
	files, err := ForHost(h)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != PowerShellScript || files[1].Path != ManifestName {
		t.Fatalf("files = %v, want %s and %s", psPaths(files), PowerShellScript, ManifestName)
	}
	return files[0].Data
}

func psPaths(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

func TestPowerShellScript(t *testing.T) {
	h := psWinHost()
	script := renderPS(t, h)
	if again := renderPS(t, h); !bytes.Equal(script, again) {
		t.Error("two renders of the same host differ")
	}
	golden.Check(t, "testdata/powershell/win-1.ps1", script)

	s := string(script)
	if !psPrintable(strings.NewReplacer("\r\n", "").Replace(s)) {
		t.Error("the script is not printable ASCII with CRLF line ends")
	}
	if strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Error("a bare LF: every line must end in CRLF")
	}
	for _, want := range []string{
		"$ErrorActionPreference = 'Stop'\r\n",
		"Mac = '00-16-3E-0A-0B-0C'; Address = '172.16.0.14'; PrefixLength = 24; Gateway = '172.16.0.253'",
		"Secondary = @('172.16.0.41', '172.16.0.42')",
		"Mac = '00-16-3E-0A-0B-0D'; Address = '172.16.2.40'; PrefixLength = 24; Gateway = '172.16.2.253'; InterfaceMetric = 1001",
		"# ENI win-1-data (eni-bp1win0data01), device index 1: Windows data ENI\r\n",
		"$_.MacAddress -eq $Eni.Mac",
		// E13: gateway and DNS captured before DHCP goes off, restored after.
		"Get-DnsClientServerAddress -InterfaceIndex $Index -AddressFamily IPv4",
		"Set-DnsClientServerAddress -InterfaceIndex $Index -ServerAddresses $dns",
		// Issue 12 item 30: the DHCP-given DNS suffix is kept as a static
		// one when DHCP goes off, and put back if the conversion fails.
		"$suffix = [string](Get-CimInstance Win32_NetworkAdapterConfiguration -Filter ('InterfaceIndex=' + $Index)).DNSDomain",
		"Set-DnsClient -InterfaceIndex $Index -ConnectionSpecificSuffix $suffix\r\n",
		"Set-DnsClient -InterfaceIndex $Index -ConnectionSpecificSuffix $static -ErrorAction SilentlyContinue",
		// E14.
		"foreach ($a in @($Eni.Secondary)) { Add-Address $Eni $Index $a $true }",
		"-SkipAsSource $SkipAsSource",
		"Set-NetIPAddress -InterfaceIndex $Index -IPAddress $Address -SkipAsSource $SkipAsSource",
		"exit 1",
		"Join-Path $env:ProgramData ('ecsnet\\' + $Fleet)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	// -DefaultGateway appears once: making the primary's DHCP address
	// static. Never for a secondary address or ENI.
	if n := strings.Count(s, "-DefaultGateway"); n != 1 {
		t.Errorf("-DefaultGateway appears %d times, want once", n)
	}
	for _, line := range strings.Split(s, "\r\n") {
		if strings.Contains(line, "-DefaultGateway") && !strings.Contains(line, "-IPAddress $Eni.Address -PrefixLength $prefix -DefaultGateway $gateway") {
			t.Errorf("-DefaultGateway outside the DHCP conversion: %s", line)
		}
	}
	hosttest.PowerShellSyntax(t, script)
}

// TestPowerShellHostileNames renders hosts whose names and descriptions
// try to escape: the script still parses, stays ASCII, and every string
// in its data block evaluates to the original text.
func TestPowerShellHostileNames(t *testing.T) {
	var scripts [][]byte
	for i, s := range psHostile {
		h := psWinHost()
		h.Name, h.Secondary[0].ENI, h.Secondary[0].Description, h.Secondary[0].ENIID = s, s, s, s
		script := renderPS(t, h)
		if !psPrintable(strings.ReplaceAll(string(script), "\r\n", "")) {
			t.Errorf("psHostile %d (%q): the script is not printable ASCII", i, s)
		}
		inst := regexp.MustCompile(`(?m)^\$Instance = (.*)\r$`).FindSubmatch(script)
		if inst == nil {
			t.Fatalf("psHostile %d: no $Instance line", i)
		}
		if got, want := evalPS(t, string(inst[1])), strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Errorf("psHostile %d: $Instance evaluates to %q, want %q", i, got, want)
		}
		label := regexp.MustCompile(`Label = ('(?:[^']|'')*'|\((?:'(?:[^']|'')*'|\[char\]0x[0-9A-F]{4}| \+ )*\))`).FindAllSubmatch(script, -1)
		if len(label) != 2 {
			t.Fatalf("psHostile %d: %d labels", i, len(label))
		}
		if got, want := evalPS(t, string(label[1][1])), strings.ToValidUTF8(fmt.Sprintf("ENI %s (%s)", s, s), "\uFFFD"); got != want {
			t.Errorf("psHostile %d: label evaluates to %q, want %q", i, got, want)
		}
		scripts = append(scripts, script)
	}
	for i, probs := range hosttest.PowerShellParse(t, scripts...) {
		for _, p := range probs {
			t.Errorf("psHostile %d (%q): %s", i, psHostile[i], p)
		}
	}
}

func TestPowerShellRejects(t *testing.T) {
	for name, mutate := range map[string]func(h *Host){
		"bad MAC":              func(h *Host) { h.Secondary[0].MAC = "00:16:3e:0a:0b:0d'; calc; '" },
		"upper-case MAC":       func(h *Host) { h.Primary.MAC = "00:16:3E:0A:0B:0C" },
		"secondary ENI no MAC": func(h *Host) { h.Secondary[0].MAC = "" },
		"fleet path":           func(h *Host) { h.Fleet = `..\..\Windows` },
		"address off prefix":   func(h *Host) { h.Primary.Secondary = []netip.Addr{netip.MustParseAddr("10.0.0.1")} },
		"IPv6":                 func(h *Host) { h.Primary.Address = netip.MustParseAddr("fe80::1") },
		"metric":               func(h *Host) { h.Secondary[0].Priority = 0 },
	} {
		h := psWinHost()
		mutate(h)
		if _, err := ForHost(h); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	// Without a lock the primary ENI has no MAC: the script finds it by
	// its primary address.
	h := psWinHost()
	h.Primary.MAC = ""
	s := string(renderPS(t, h))
	if !strings.Contains(s, "Label = 'primary ENI'; Primary = $true; Mac = ''; Address = '172.16.0.14'") {
		t.Error("primary ENI without MAC not rendered with an empty Mac")
	}
}

// TestPowerShellDualStack: a Windows host with IPv6 addresses on both ENIs
// and a prefix on the host for the secondary one gets them in its data
// block (IPv6 with the block's length and gateway, the prefix as its 16
// addresses); the body adds them (SkipAsSource but the first IPv6
// address), routes ::/0 via the IPv6 gateway, checks and records them; an
// IPv4-only host's data block has none of the new keys. The script parses.
func TestPowerShellDualStack(t *testing.T) {
	h := psWinHost()
	h.Primary.IPv6Prefix = netip.MustParsePrefix("2408:4005:3aa:1b00::/64")
	h.Primary.IPv6 = []netip.Addr{netip.MustParseAddr("2408:4005:3aa:1b00::14")}
	d := &h.Secondary[0]
	d.IPv6Prefix = netip.MustParsePrefix("2408:4005:3aa:1b02::/64")
	d.IPv6 = []netip.Addr{netip.MustParseAddr("2408:4005:3aa:1b02::40"), netip.MustParseAddr("2408:4005:3aa:1b02::41")}
	d.Prefixes, d.PrefixesOnHost = []netip.Prefix{netip.MustParsePrefix("172.16.2.64/28")}, true
	s := string(renderPS(t, h))
	for _, want := range []string{
		"Secondary = @('172.16.0.41', '172.16.0.42')\r\n       IPv6 = @('2408:4005:3aa:1b00::14'); IPv6PrefixLength = 64; IPv6Gateway = '2408:4005:3aa:1b00:ffff:ffff:ffff:fff7' }",
		"IPv6 = @('2408:4005:3aa:1b02::40', '2408:4005:3aa:1b02::41'); IPv6PrefixLength = 64; IPv6Gateway = '2408:4005:3aa:1b02:ffff:ffff:ffff:fff7'",
		"PrefixAddresses = @('172.16.2.64', '172.16.2.65', ",
		"'172.16.2.79') }",
		"for ($i = 0; $i -lt $v6.Count; $i++) { Add-Address $Eni $Index $v6[$i] ($i -gt 0) }",
		"New-NetRoute -InterfaceIndex $Index -AddressFamily IPv6 -DestinationPrefix '::/0' -NextHop $Eni.IPv6Gateway",
		"$addrs = @($eni.Secondary) + @($eni.IPv6) + @($eni.PrefixAddresses)",
		"Set-Eni6 $eni $idx",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if n := strings.Count(s, "'172.16.2."); n != 3+16 {
		t.Errorf("%d addresses of 172.16.2.0/24 in the data block, want 3 and the prefix's 16", n)
	}
	hosttest.PowerShellSyntax(t, []byte(s))

	// The prefix stays off the host unless asked.
	d.PrefixesOnHost = false
	if s := string(renderPS(t, h)); strings.Contains(s, "PrefixAddresses = @(") {
		t.Error("a prefix the desired state leaves to a CNI is on the host")
	}
	v4 := string(renderPS(t, psWinHost()))
	if strings.Contains(v4, "IPv6 = @(") || strings.Contains(v4, "PrefixAddresses = @(") {
		t.Error("an IPv4-only host's data block has IPv6 or prefix keys")
	}
}
