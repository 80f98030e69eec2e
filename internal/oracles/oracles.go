// Package oracles reads what other TLS scanners say an endpoint accepts
// (sslscan's XML, testssl.sh's JSON) and what check_socat_tls says (its
// JSON output with -v, or its result's details), as sets of protocols and
// (protocol, suite) pairs, and compares them. The end-to-end tests of
// checks/tlscheck and tools/oracles use it; it runs no program itself.
package oracles

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/check-socat/check-socat/internal/tlswire"
)

// Versions are the protocol names used here, oldest first: check_socat_tls's.
var Versions = []string{"SSLv2", "SSLv3", "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"}

// Pair is one accepted (protocol, cipher suite).
type Pair struct {
	Version string // one of Versions
	Code    uint16
}

func (p Pair) String() string {
	return p.Version + " " + tlswire.Suites().ByCode(p.Code).Name
}

// View is what one scanner says an endpoint accepts. SSLv2 cipher specs
// are not pairs (check_socat_tls and sslscan count none): an SSLv2
// endpoint is a protocol without pairs.
type View struct {
	Protocols map[string]bool
	Pairs     map[Pair]bool
}

func newView() View { return View{Protocols: map[string]bool{}, Pairs: map[Pair]bool{}} }

// Counts are the two numbers check_socat_tls reports as perfdata:
// protocols_accepted and ciphers_accepted.
func (v View) Counts() (protocols, pairs int) { return len(v.Protocols), len(v.Pairs) }

// PairsOf are the pairs of one protocol.
func (v View) PairsOf(version string) int {
	n := 0
	for p := range v.Pairs {
		if p.Version == version {
			n++
		}
	}
	return n
}

// Diff is how another scanner's view differs from ours.
type Diff struct {
	Missing, Extra                   []Pair   // pairs we see and it does not; it sees and we do not
	MissingProtocols, ExtraProtocols []string // the same for protocols
}

// Empty reports whether the two views agree.
func (d Diff) Empty() bool {
	return len(d.Missing)+len(d.Extra)+len(d.MissingProtocols)+len(d.ExtraProtocols) == 0
}

func (d Diff) String() string {
	var parts []string
	add := func(what string, items []string) {
		if len(items) > 0 {
			parts = append(parts, fmt.Sprintf("%s %d: %s", what, len(items), strings.Join(items, ", ")))
		}
	}
	add("misses protocols", d.MissingProtocols)
	add("sees more protocols", d.ExtraProtocols)
	add("misses pairs", pairNames(d.Missing))
	add("sees more pairs", pairNames(d.Extra))
	if len(parts) == 0 {
		return "agrees"
	}
	return strings.Join(parts, "; ")
}

func pairNames(ps []Pair) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// Compare returns how other differs from ours, sorted.
func Compare(ours, other View) Diff {
	var d Diff
	for p := range ours.Pairs {
		if !other.Pairs[p] {
			d.Missing = append(d.Missing, p)
		}
	}
	for p := range other.Pairs {
		if !ours.Pairs[p] {
			d.Extra = append(d.Extra, p)
		}
	}
	for _, v := range Versions {
		switch {
		case ours.Protocols[v] && !other.Protocols[v]:
			d.MissingProtocols = append(d.MissingProtocols, v)
		case !ours.Protocols[v] && other.Protocols[v]:
			d.ExtraProtocols = append(d.ExtraProtocols, v)
		}
	}
	sortPairs(d.Missing)
	sortPairs(d.Extra)
	return d
}

func sortPairs(ps []Pair) {
	slices.SortFunc(ps, func(a, b Pair) int {
		if c := slices.Index(Versions, a.Version) - slices.Index(Versions, b.Version); c != 0 {
			return c
		}
		return int(a.Code) - int(b.Code)
	})
}

// Known is a difference of one scanner from check_socat_tls that is
// understood: the pairs (and protocols) it explains, and why.
type Known struct {
	Oracle string // "sslscan" or "testssl"
	// Missing explains pairs the oracle misses, Extra pairs it sees and we
	// do not; nil explains none.
	Missing, Extra func(Pair) bool
	// MissingProtocols and ExtraProtocols explain protocol differences.
	MissingProtocols, ExtraProtocols []string
	Why                              string
	// OursWrong marks a difference where the oracle is right and
	// check_socat_tls is not (a bug written down until it is fixed).
	OursWrong bool
}

// Explain splits a diff of oracle from ours into what the known entries
// explain (those that matched) and what they do not (the unexplained
// rest, empty when all is understood).
func Explain(oracle string, d Diff, known []Known) (matched []Known, rest Diff) {
	used := map[int]bool{}
	match := func(p Pair, missing bool) bool {
		for i, k := range known {
			f := k.Extra
			if missing {
				f = k.Missing
			}
			if k.Oracle == oracle && f != nil && f(p) {
				used[i] = true
				return true
			}
		}
		return false
	}
	matchProto := func(v string, missing bool) bool {
		for i, k := range known {
			list := k.ExtraProtocols
			if missing {
				list = k.MissingProtocols
			}
			if k.Oracle == oracle && slices.Contains(list, v) {
				used[i] = true
				return true
			}
		}
		return false
	}
	for _, p := range d.Missing {
		if !match(p, true) {
			rest.Missing = append(rest.Missing, p)
		}
	}
	for _, p := range d.Extra {
		if !match(p, false) {
			rest.Extra = append(rest.Extra, p)
		}
	}
	for _, v := range d.MissingProtocols {
		if !matchProto(v, true) {
			rest.MissingProtocols = append(rest.MissingProtocols, v)
		}
	}
	for _, v := range d.ExtraProtocols {
		if !matchProto(v, false) {
			rest.ExtraProtocols = append(rest.ExtraProtocols, v)
		}
	}
	for i, k := range known {
		if used[i] {
			matched = append(matched, k)
		}
	}
	return matched, rest
}

// Stale returns the reasons of the known entries for oracle that
// explained nothing in d: differences written down that did not happen.
func Stale(oracle string, d Diff, known []Known) []string {
	var out []string
	for _, k := range known {
		if k.Oracle != oracle {
			continue
		}
		if matched, _ := Explain(oracle, d, []Known{k}); len(matched) == 0 {
			out = append(out, k.Why)
		}
	}
	return out
}

// testssl's protocol ids (-p) and the prefixes of its per-protocol cipher
// ids (-E): cipher-tls1_2_xc02f is TLS 1.2 with 0xC02F.
var (
	testsslProtocols = map[string]string{"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLS1": "TLS1.0", "TLS1_1": "TLS1.1", "TLS1_2": "TLS1.2", "TLS1_3": "TLS1.3"}
	testsslCipher    = regexp.MustCompile(`^cipher-(ssl2|ssl3|tls1|tls1_1|tls1_2|tls1_3)_x([0-9a-fA-F]+)$`)
	testsslCipherVer = map[string]string{"ssl2": "SSLv2", "ssl3": "SSLv3", "tls1": "TLS1.0", "tls1_1": "TLS1.1", "tls1_2": "TLS1.2", "tls1_3": "TLS1.3"}
)

// TestsslArgs are the arguments of a testssl.sh 3.0 run that does only
// what is compared here, offline: -p (protocols, via its own sockets) and
// -E (every suite of its mapping file, per protocol: OpenSSL for what the
// local one knows, its own sockets for the rest), the findings as flat
// JSON into jsonFile (which must not exist yet), no banner, no colour,
// no DNS lookup, no warning prompt. --openssl names the binary, so that a
// run does not depend on which openssl is first on PATH. extra go before
// the target.
func TestsslArgs(jsonFile, openssl, target string, extra ...string) []string {
	args := []string{"--quiet", "--color", "0", "--warnings", "off", "-n", "none", "--openssl", openssl,
		"-p", "-E", "--jsonfile", jsonFile}
	return append(append(args, extra...), target)
}

// TestsslEnv is the environment testssl.sh runs in: HEADER_MAXSLEEP=1,
// because its service detection waits that long (5 s by default) for an
// HTTP answer that socat's PIPE or an echo service never sends.
var TestsslEnv = []string{"HEADER_MAXSLEEP=1"}

// ParseTestssl reads testssl.sh's flat JSON (--jsonfile) of a -p -E run.
// A scanProblem finding, or no protocol finding at all, is an error: the
// run did not see the endpoint.
func ParseTestssl(data []byte) (View, error) {
	var findings []struct {
		ID       string `json:"id"`
		Severity string `json:"severity"`
		Finding  string `json:"finding"`
	}
	if err := json.Unmarshal(data, &findings); err != nil {
		return View{}, fmt.Errorf("testssl's JSON: %w", err)
	}
	v := newView()
	seen := 0
	for _, f := range findings {
		if f.ID == "scanProblem" || (f.Severity == "FATAL") {
			return View{}, fmt.Errorf("testssl: %s: %s", f.ID, f.Finding)
		}
		if name, ok := testsslProtocols[f.ID]; ok {
			seen++
			switch {
			// "offered", "offered (deprecated)", "offered with final",
			// "supported but couldn't detect a cipher".
			case strings.HasPrefix(f.Finding, "offered"), strings.HasPrefix(f.Finding, "supported but"):
				v.Protocols[name] = true
			// "not offered", "not offered + downgraded to weaker
			// protocol", "likely not offered" (SSLv2), and the server's
			// refusal said as a flaw: "connection failed rather than
			// downgrading to TLSv1.2" (an alert to a TLS 1.3 hello).
			case strings.HasPrefix(f.Finding, "not offered"), f.Finding == "likely not offered",
				strings.HasPrefix(f.Finding, "connection failed rather than downgrading"):
			default:
				// "not tested due to lack of local support", "couldn't be
				// tested, socket problem", "strange, server ...".
				return View{}, fmt.Errorf("testssl: %s: %s", f.ID, f.Finding)
			}
			continue
		}
		if m := testsslCipher.FindStringSubmatch(f.ID); m != nil {
			ver := testsslCipherVer[m[1]]
			if ver == "SSLv2" {
				continue // cipher specs, not suites
			}
			code, err := strconv.ParseUint(m[2], 16, 16)
			if err != nil {
				return View{}, fmt.Errorf("testssl: cipher id %q: %w", f.ID, err)
			}
			v.Pairs[Pair{ver, uint16(code)}] = true
		}
	}
	if seen != len(testsslProtocols) {
		return View{}, fmt.Errorf("testssl: %d of the %d protocol findings: the -p run did not finish", seen, len(testsslProtocols))
	}
	return v, nil
}

// SSLScanArgs are the arguments of an sslscan 2 run as the end-to-end
// tests make it (no vulnerability probes), with its findings as XML on
// stdout.
func SSLScanArgs(target string, extra ...string) []string {
	args := []string{"--no-colour", "--no-heartbleed", "--no-renegotiation", "--no-compression", "--no-fallback", "--xml=-"}
	return append(append(args, extra...), target)
}

// ParseSSLScanXML reads sslscan's --xml output (other lines around it are
// skipped).
func ParseSSLScanXML(out []byte) (View, error) {
	s := string(out)
	i, j := strings.Index(s, "<?xml"), strings.LastIndex(s, "</document>")
	if i < 0 || j < i {
		return View{}, fmt.Errorf("sslscan wrote no XML document")
	}
	var doc struct {
		Tests []struct {
			Error     string `xml:"error"`
			Protocols []struct {
				Type    string `xml:"type,attr"`
				Version string `xml:"version,attr"`
				Enabled string `xml:"enabled,attr"`
			} `xml:"protocol"`
			Ciphers []struct {
				Status  string `xml:"status,attr"`
				Version string `xml:"sslversion,attr"`
				ID      string `xml:"id,attr"`
			} `xml:"cipher"`
		} `xml:"ssltest"`
	}
	if err := xml.Unmarshal([]byte(s[i:j+len("</document>")]), &doc); err != nil {
		return View{}, fmt.Errorf("sslscan's XML: %w", err)
	}
	if len(doc.Tests) != 1 {
		return View{}, fmt.Errorf("sslscan's XML has %d tests, want 1", len(doc.Tests))
	}
	v := newView()
	t := doc.Tests[0]
	if t.Error != "" {
		return View{}, fmt.Errorf("sslscan: %s", t.Error)
	}
	for _, p := range t.Protocols {
		if p.Enabled != "1" {
			continue
		}
		name := map[string]string{"ssl2": "SSLv2", "ssl3": "SSLv3", "tls1.0": "TLS1.0", "tls1.1": "TLS1.1", "tls1.2": "TLS1.2", "tls1.3": "TLS1.3"}[p.Type+p.Version]
		if name == "" {
			return View{}, fmt.Errorf("sslscan: protocol %s %s", p.Type, p.Version)
		}
		v.Protocols[name] = true
	}
	for _, c := range t.Ciphers {
		if c.Status != "accepted" && c.Status != "preferred" {
			continue
		}
		ver := map[string]string{"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLSv1.0": "TLS1.0", "TLSv1.1": "TLS1.1", "TLSv1.2": "TLS1.2", "TLSv1.3": "TLS1.3"}[c.Version]
		if ver == "" {
			return View{}, fmt.Errorf("sslscan: cipher version %q", c.Version)
		}
		if ver == "SSLv2" {
			continue
		}
		code, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(c.ID), "0x"), 16, 16)
		if err != nil {
			return View{}, fmt.Errorf("sslscan: cipher id %q: %w", c.ID, err)
		}
		v.Pairs[Pair{ver, uint16(code)}] = true
	}
	return v, nil
}

// suitesLine is a detail line of check_socat_tls -v: "TLS1.2: 3 suites: A B C".
var suitesLine = regexp.MustCompile(`^(SSLv2|SSLv3|TLS1\.[0-3]): (\d+) (suites|cipher specs)(?:: (.*))?`)

// OursFromDetails reads check_socat_tls's view from its result's details
// (the audit run with -v): one line per accepted protocol with its suites.
func OursFromDetails(details []string) (View, error) {
	v := newView()
	for _, d := range details {
		m := suitesLine.FindStringSubmatch(d)
		if m == nil {
			continue
		}
		v.Protocols[m[1]] = true
		if m[3] != "suites" {
			continue // SSLv2's cipher specs
		}
		names := strings.Fields(m[4])
		if n, _ := strconv.Atoi(m[2]); n != len(names) {
			return View{}, fmt.Errorf("%q: %d suites named, %d said", d, len(names), n)
		}
		for _, name := range names {
			code, ok := suiteCode(name)
			if !ok {
				return View{}, fmt.Errorf("%q: unknown suite %q", d, name)
			}
			v.Pairs[Pair{m[1], code}] = true
		}
	}
	return v, nil
}

func suiteCode(name string) (uint16, bool) {
	if s, ok := tlswire.Suites().ByName(name); ok {
		return s.Code, true
	}
	if hex, ok := strings.CutPrefix(name, "UNKNOWN_0x"); ok {
		c, err := strconv.ParseUint(hex, 16, 16)
		return uint16(c), err == nil
	}
	return 0, false
}

// Ours reads check_socat_tls --output json -v: the per-protocol metrics
// and the suites in its details. It also returns the two counts of its
// metrics, which must agree with the sets.
func Ours(out []byte) (View, error) {
	var res struct {
		Findings []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"findings"`
		Metrics []struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
			Value  float64           `json:"value"`
		} `json:"metrics"`
		Details []string `json:"details"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return View{}, fmt.Errorf("check_socat_tls's JSON: %w", err)
	}
	for _, f := range res.Findings {
		if f.ID == "scan-incomplete" || f.ID == "timeout" {
			return View{}, fmt.Errorf("check_socat_tls: %s", f.Text)
		}
	}
	v, err := OursFromDetails(res.Details)
	if err != nil {
		return View{}, err
	}
	protocols, pairs := -1, -1
	for _, m := range res.Metrics {
		switch m.Name {
		case "socat_tls_protocols_accepted":
			protocols = int(m.Value)
		case "socat_tls_suites_accepted":
			pairs = int(m.Value)
		case "socat_tls_protocol_accepted":
			if (m.Value == 1) != v.Protocols[m.Labels["protocol"]] {
				return View{}, fmt.Errorf("check_socat_tls: metric for %s is %v, its details disagree", m.Labels["protocol"], m.Value)
			}
		}
	}
	if protocols < 0 && pairs < 0 {
		for _, f := range res.Findings {
			// It says no hello of its own was answered: nothing accepted.
			if f.ID == "handshake-failed" {
				return newView(), nil
			}
		}
	}
	if protocols < 0 || pairs < 0 {
		var said []string
		for _, f := range res.Findings {
			said = append(said, f.ID+": "+f.Text)
		}
		return View{}, fmt.Errorf("check_socat_tls scanned nothing: %s", strings.Join(said, "; "))
	}
	if p, s := v.Counts(); p != protocols || s != pairs {
		return View{}, fmt.Errorf("check_socat_tls: metrics say %d protocols and %d pairs, its details %d and %d", protocols, pairs, p, s)
	}
	return v, nil
}
